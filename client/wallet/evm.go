package wallet

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

// EVMPath is the BIP-44 path of the first Ethereum account, the one MetaMask,
// ethers (HDNodeWallet.fromPhrase) and hardware wallets use by default.
const EVMPath = "m/44'/60'/0'/0/0"

// EVMAccount is a secp256k1 key with its Ethereum address.
type EVMAccount struct {
	key  *secp256k1.PrivateKey
	addr [20]byte
}

func newEVMAccount(key *secp256k1.PrivateKey) *EVMAccount {
	return &EVMAccount{key: key, addr: pubToAddress(key.PubKey())}
}

// keccak256 is the original Keccak-256 (not NIST SHA3-256) Ethereum uses.
func keccak256(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// pubToAddress is the last 20 bytes of Keccak-256 of the uncompressed
// public key without its 0x04 prefix.
func pubToAddress(pub *secp256k1.PublicKey) [20]byte {
	h := keccak256(pub.SerializeUncompressed()[1:])
	var a [20]byte
	copy(a[:], h[12:])
	return a
}

// Address returns the account's EIP-55 checksummed address ("0x…").
func (a *EVMAccount) Address() string { return ChecksumAddress(a.addr) }

// PublicKey returns the uncompressed public key, 65 bytes starting 0x04.
func (a *EVMAccount) PublicKey() []byte { return a.key.PubKey().SerializeUncompressed() }

// PrivateKey returns the secp256k1 private key.
func (a *EVMAccount) PrivateKey() *secp256k1.PrivateKey { return a.key }

// ChecksumAddress writes addr as EIP-55 mixed-case hex: a letter digit is
// upper case when the matching nibble of Keccak-256(lower-case hex) is ≥ 8.
func ChecksumAddress(addr [20]byte) string {
	lower := hex.EncodeToString(addr[:])
	h := keccak256([]byte(lower))
	out := []byte(lower)
	for i, c := range out {
		nib := h[i/2] >> (4 * (1 - uint(i%2))) & 0xf
		if c >= 'a' && nib >= 8 {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out)
}

// ParseAddress parses "0x" + 40 hex digits. All-lower and all-upper case are
// accepted as written; a mixed-case address must carry a correct EIP-55
// checksum.
func ParseAddress(s string) ([20]byte, error) {
	var a [20]byte
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 40 {
		return a, fmt.Errorf("%w: want 0x and 40 hex digits", ErrAddress)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return a, fmt.Errorf("%w: not hex", ErrAddress)
	}
	copy(a[:], b)
	if h != strings.ToLower(h) && h != strings.ToUpper(h) && ChecksumAddress(a) != s {
		return a, fmt.Errorf("%w: bad EIP-55 checksum", ErrAddress)
	}
	return a, nil
}

// PersonalMessageHash is EIP-191 version 0x45 ("personal_sign"):
// Keccak-256("\x19Ethereum Signed Message:\n" ‖ decimal len(msg) ‖ msg).
func PersonalMessageHash(msg []byte) [32]byte {
	prefix := "\x19Ethereum Signed Message:\n" + strconv.Itoa(len(msg))
	return keccak256([]byte(prefix), msg)
}

// SignPersonal signs msg the way eth_sign/personal_sign does: a deterministic
// (RFC 6979) low-s ECDSA signature over [PersonalMessageHash], returned as
// r ‖ s ‖ v, 65 bytes, with v = 27 or 28.
func (a *EVMAccount) SignPersonal(msg []byte) []byte {
	h := PersonalMessageHash(msg)
	compact := ecdsa.SignCompact(a.key, h[:], false) // v ‖ r ‖ s, v = 27 + recovery id
	out := make([]byte, 65)
	copy(out, compact[1:])
	out[64] = compact[0]
	return out
}

// RecoverPersonal returns the address that made sig (r ‖ s ‖ v) over msg.
// v may be 27/28 or 0/1; s must be in the lower half of the curve order
// (EIP-2), so every message has exactly one valid signature per key.
func RecoverPersonal(msg, sig []byte) ([20]byte, error) {
	var addr [20]byte
	if len(sig) != 65 {
		return addr, fmt.Errorf("%w: %d bytes, want 65", ErrSignature, len(sig))
	}
	v := sig[64]
	if v < 27 {
		v += 27
	}
	if v != 27 && v != 28 {
		return addr, fmt.Errorf("%w: v = %d", ErrSignature, sig[64])
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(sig[32:64]); overflow || s.IsOverHalfOrder() {
		return addr, fmt.Errorf("%w: s is not in the lower half order", ErrSignature)
	}
	compact := make([]byte, 65)
	compact[0] = v
	copy(compact[1:], sig[:64])
	h := PersonalMessageHash(msg)
	pub, _, err := ecdsa.RecoverCompact(compact, h[:])
	if err != nil {
		return addr, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return pubToAddress(pub), nil
}

// VerifyPersonal reports whether sig over msg recovers to addr.
func VerifyPersonal(addr [20]byte, msg, sig []byte) error {
	got, err := RecoverPersonal(msg, sig)
	if err != nil {
		return err
	}
	if got != addr {
		return fmt.Errorf("%w: signed by %s, not %s", ErrSignature, ChecksumAddress(got), ChecksumAddress(addr))
	}
	return nil
}
