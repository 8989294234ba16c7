package wallet

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
)

// Errors, one per failure class.
var (
	ErrEntropyLength      = errors.New("wallet: entropy has the wrong length")
	ErrMnemonic           = errors.New("wallet: invalid mnemonic")
	ErrWordlist           = errors.New("wallet: BIP-39 word list does not match its published hash")
	ErrInvalidKey         = errors.New("wallet: invalid key")
	ErrInvalidChild       = errors.New("wallet: invalid child key, use the next index")
	ErrHardenedFromPublic = errors.New("wallet: cannot derive a hardened child from a public key")
	ErrNotPrivate         = errors.New("wallet: extended key is public")
	ErrPath               = errors.New("wallet: invalid derivation path")
	ErrExtendedKey        = errors.New("wallet: invalid extended key")
	ErrAddress            = errors.New("wallet: invalid address")
	ErrSignature          = errors.New("wallet: invalid signature")
	ErrScheme             = errors.New("wallet: unknown signature scheme")
)

// EncryptionInfo is the HKDF info string that domain-separates the idOS
// encryption key from every other key derived from the same seed.
const EncryptionInfo = "facesign/v1 idos-encryption x25519"

// Wallet holds every key FaceSign derives from one person's entropy. All of
// them are secret; a Wallet must not be logged or persisted.
type Wallet struct {
	entropy  []byte
	mnemonic string
	seed     [64]byte
	faceSign ed25519.PrivateKey
	evm      *EVMAccount
	enc      *EncryptionKey
}

// FromEntropy derives the wallet of the 32 bytes of entropy the enclave
// returns (see the package documentation for the derivation).
func FromEntropy(entropy []byte) (*Wallet, error) {
	if len(entropy) != EntropySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrEntropyLength, len(entropy), EntropySize)
	}
	m, err := EntropyToMnemonic(entropy)
	if err != nil {
		return nil, err
	}
	seed, err := MnemonicToSeed(m, "")
	if err != nil {
		return nil, err
	}
	master, err := NewMasterKey(seed[:])
	if err != nil {
		return nil, err
	}
	acct, err := master.Derive(EVMPath)
	if err != nil {
		// Probability about 2^-127 per step; BIP-44 wallets do not skip either.
		return nil, fmt.Errorf("wallet: deriving %s: %w", EVMPath, err)
	}
	evmKey, err := acct.PrivateKey()
	if err != nil {
		return nil, err
	}
	enc, err := deriveEncryptionKey(seed)
	if err != nil {
		return nil, err
	}
	return &Wallet{
		entropy:  append([]byte(nil), entropy...),
		mnemonic: m,
		seed:     seed,
		faceSign: ed25519.NewKeyFromSeed(seed[:32]),
		evm:      newEVMAccount(evmKey),
		enc:      enc,
	}, nil
}

// FromMnemonic checks a 24-word BIP-39 English mnemonic (words and checksum)
// and derives the same wallet as [FromEntropy] of its entropy. Extra
// whitespace is accepted; the canonical spelling (single spaces) is what the
// seed is computed from.
func FromMnemonic(mnemonic string) (*Wallet, error) {
	e, err := MnemonicToEntropy(mnemonic)
	if err != nil {
		return nil, err
	}
	if len(e) != EntropySize {
		return nil, fmt.Errorf("%w: %d words, want %d", ErrMnemonic, len(e)*3/4, MnemonicWords)
	}
	return FromEntropy(e)
}

// Entropy returns a copy of the 32-byte entropy.
func (w *Wallet) Entropy() []byte { return append([]byte(nil), w.entropy...) }

// Mnemonic returns the 24-word BIP-39 mnemonic of the entropy.
func (w *Wallet) Mnemonic() string { return w.mnemonic }

// Seed returns BIP-39 mnemonicToSeed(mnemonic, "").
func (w *Wallet) Seed() [64]byte { return w.seed }

// FaceSignKey returns the idOS-compatible Ed25519 key: the key pair of
// seed[0:32], as tweetnacl's sign.keyPair.fromSeed makes it.
func (w *Wallet) FaceSignKey() ed25519.PrivateKey { return w.faceSign }

// FaceSignAddress is the hex of the Ed25519 public key, idOS's "FaceSign"
// wallet address.
func (w *Wallet) FaceSignAddress() string {
	return hex.EncodeToString(w.faceSign.Public().(ed25519.PublicKey))
}

// EVM returns the account at [EVMPath].
func (w *Wallet) EVM() *EVMAccount { return w.evm }

// Encryption returns the x25519 key pair for idOS encrypted content.
func (w *Wallet) Encryption() *EncryptionKey { return w.enc }

// EncryptionKey is an x25519 key pair usable with NaCl box
// (x25519-xsalsa20-poly1305), the scheme idOS encrypts credentials with.
type EncryptionKey struct {
	secret [32]byte
	public [32]byte
}

// deriveEncryptionKey: secret = HKDF-SHA256(ikm = seed, salt = none,
// info = [EncryptionInfo], 32 bytes); public = X25519(secret, 9), which is
// what tweetnacl box.keyPair.fromSecretKey(secret) computes.
func deriveEncryptionKey(seed [64]byte) (*EncryptionKey, error) {
	sk, err := hkdf.Key(sha256.New, seed[:], nil, EncryptionInfo, 32)
	if err != nil {
		return nil, err
	}
	return NewEncryptionKey([32]byte(sk))
}

// NewEncryptionKey makes the key pair of an x25519 secret key.
func NewEncryptionKey(secret [32]byte) (*EncryptionKey, error) {
	pub, err := curve25519.X25519(secret[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &EncryptionKey{secret: secret, public: [32]byte(pub)}, nil
}

// Public returns the x25519 public key.
func (k *EncryptionKey) Public() [32]byte { return k.public }

// Secret returns the x25519 secret key.
func (k *EncryptionKey) Secret() [32]byte { return k.secret }

// PublicKeys is what a wallet may show: no secret in it.
type PublicKeys struct {
	FaceSignAddress     string `json:"facesign_address"`
	Ed25519PublicKey    string `json:"ed25519_public_key"`
	EVMAddress          string `json:"evm_address"`
	EVMPublicKey        string `json:"evm_public_key"`
	EVMPath             string `json:"evm_path"`
	X25519PublicKey     string `json:"x25519_public_key"`
	X25519DerivationKDF string `json:"x25519_derivation"`
}

// Public returns the wallet's public keys and addresses (hex, EVM address in
// EIP-55 form).
func (w *Wallet) Public() PublicKeys {
	pub := w.enc.Public()
	return PublicKeys{
		FaceSignAddress:     w.FaceSignAddress(),
		Ed25519PublicKey:    w.FaceSignAddress(),
		EVMAddress:          w.evm.Address(),
		EVMPublicKey:        hex.EncodeToString(w.evm.PublicKey()),
		EVMPath:             EVMPath,
		X25519PublicKey:     hex.EncodeToString(pub[:]),
		X25519DerivationKDF: "HKDF-SHA256(seed, info=\"" + EncryptionInfo + "\")",
	}
}

// String shows the wallet's public addresses only, so that a Wallet printed
// by mistake (%v, %+v, %#v) does not leak its secrets.
func (w *Wallet) String() string {
	return "wallet.Wallet{facesign:" + w.FaceSignAddress() + " evm:" + w.evm.Address() + "}"
}

// GoString is [Wallet.String], for %#v.
func (w *Wallet) GoString() string { return w.String() }

// String shows the public key only.
func (k *EncryptionKey) String() string {
	return "wallet.EncryptionKey{public:" + hex.EncodeToString(k.public[:]) + "}"
}

// GoString is [EncryptionKey.String], for %#v.
func (k *EncryptionKey) GoString() string { return k.String() }

// String shows the address only.
func (a *EVMAccount) String() string { return "wallet.EVMAccount{" + a.Address() + "}" }

// GoString is [EVMAccount.String], for %#v.
func (a *EVMAccount) GoString() string { return a.String() }
