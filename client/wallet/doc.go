// Package wallet turns the 32 bytes of entropy the FaceSign enclave returns
// into the keys a person uses: a BIP-39 mnemonic, the idOS-compatible
// "FaceSign" Ed25519 key, an Ethereum account and an x25519 key for idOS
// encrypted data. The same entropy always gives the same keys, here and in
// the JavaScript libraries the idOS app uses (tested against @scure/bip39,
// tweetnacl and ethers).
//
// # Derivation
//
//   - mnemonic = BIP-39 English mnemonic of the entropy (24 words), see
//     [EntropyToMnemonic];
//   - seed = BIP-39 mnemonicToSeed(mnemonic, ""): PBKDF2-HMAC-SHA512, salt
//     "mnemonic", 2048 rounds, 64 bytes, see [MnemonicToSeed];
//   - FaceSign key = Ed25519 key pair of seed[0:32] (tweetnacl
//     sign.keyPair.fromSeed, Go's [crypto/ed25519.NewKeyFromSeed]); its address is the
//     lower-case hex public key ([Wallet.FaceSignAddress]);
//   - EVM account = BIP-32 key at [EVMPath] (m/44'/60'/0'/0/0) of the seed,
//     address = last 20 bytes of Keccak-256 of the uncompressed public key,
//     written with the EIP-55 checksum ([ChecksumAddress]);
//   - encryption key = x25519 secret HKDF-SHA256(seed, no salt,
//     info [EncryptionInfo], 32 bytes), public = X25519(secret, 9). idOS itself
//     derives its users' encryption keys from a password (scrypt) or keeps
//     them in its MPC service; this key is FaceSign's own, documented in
//     docs/wallet.md, and is what credentials are encrypted to when the
//     holder registers it.
//
// # Signatures
//
// [Wallet.Signer] returns a [Signer] from the scheme registry ([Schemes]):
// "ed25519" signs the raw message with the FaceSign key (tweetnacl
// sign.detached); "eip191" is Ethereum personal_sign, r ‖ s ‖ v with
// v = 27/28 and low s, recovered with [RecoverPersonal].
//
// # Security
//
// A [Wallet] holds secrets: the entropy, the mnemonic, the seed and every
// private key. The caller must not log, print or persist it unless the
// person asked for exactly that. Everything here is deterministic: no
// randomness is read, and ECDSA nonces follow RFC 6979. The BIP-39 word
// list is a private copy checked against the SHA-256 published with BIP-39
// ([ErrWordlist] if it ever differs).
//
// Errors are one sentinel per failure class ([ErrEntropyLength],
// [ErrMnemonic], [ErrExtendedKey], [ErrSignature], …) for errors.Is.
package wallet
