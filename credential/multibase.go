package credential

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range base58Alphabet {
		t[c] = int8(i)
	}
	return t
}()

// base58Encode is base58btc (Bitcoin alphabet, a '1' per leading zero byte).
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	digits := make([]byte, 0, len(b)*138/100+1) // little-endian base-58
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := range zeros {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = base58Alphabet[d]
	}
	return string(out)
}

// maxBase58 bounds what base58Decode accepts (the largest value here is a
// 66-byte private key, about 90 characters).
const maxBase58 = 200

func base58Decode(s string) ([]byte, error) {
	if len(s) > maxBase58 {
		return nil, fmt.Errorf("%w: %d base58 characters", ErrMultibase, len(s))
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	le := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("%w: %q is not a base58btc character", ErrMultibase, s[i])
		}
		carry := int(d)
		for j := range le {
			carry += int(le[j]) * 58
			le[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			le = append(le, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(le))
	for i, c := range le {
		out[len(out)-1-i] = c
	}
	return out, nil
}

// MultibaseEncode writes b as multibase base58btc: 'z' + base58btc(b).
func MultibaseEncode(b []byte) string { return "z" + base58Encode(b) }

// MultibaseDecode reads multibase base58btc ('z' prefix); other bases are
// [ErrMultibase].
func MultibaseDecode(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != 'z' {
		return nil, fmt.Errorf("%w: want base58btc ('z' prefix)", ErrMultibase)
	}
	return base58Decode(s[1:])
}

// Multicodec headers (unsigned varints) of Ed25519 keys.
var (
	multicodecEd25519Pub  = []byte{0xed, 0x01}
	multicodecEd25519Priv = []byte{0x80, 0x26}
)

// EncodePublicKeyMultibase is the publicKeyMultibase of an
// Ed25519VerificationKey2020: 'z' + base58btc(0xed 0x01 ‖ 32-byte key), the
// familiar "z6Mk…".
func EncodePublicKeyMultibase(pub ed25519.PublicKey) string {
	return MultibaseEncode(append(append([]byte(nil), multicodecEd25519Pub...), pub...))
}

// DecodePublicKeyMultibase inverts [EncodePublicKeyMultibase].
func DecodePublicKeyMultibase(s string) (ed25519.PublicKey, error) {
	b, err := MultibaseDecode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 2+ed25519.PublicKeySize || !bytes.HasPrefix(b, multicodecEd25519Pub) {
		return nil, fmt.Errorf("%w: not a multicodec ed25519-pub key", ErrMultibase)
	}
	return ed25519.PublicKey(b[2:]), nil
}

// EncodePrivateKeyMultibase is the privateKeyMultibase of an
// Ed25519VerificationKey2020: 'z' + base58btc(0x80 0x26 ‖ seed ‖ public key),
// as @digitalbazaar/ed25519-verification-key-2020 writes it.
func EncodePrivateKeyMultibase(priv ed25519.PrivateKey) string {
	return MultibaseEncode(append(append([]byte(nil), multicodecEd25519Priv...), priv...))
}

// DecodePrivateKeyMultibase inverts [EncodePrivateKeyMultibase] and checks
// that the embedded public key belongs to the seed.
func DecodePrivateKeyMultibase(s string) (ed25519.PrivateKey, error) {
	b, err := MultibaseDecode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 2+ed25519.PrivateKeySize || !bytes.HasPrefix(b, multicodecEd25519Priv) {
		return nil, fmt.Errorf("%w: not a multicodec ed25519-priv key", ErrMultibase)
	}
	priv := ed25519.NewKeyFromSeed(b[2 : 2+ed25519.SeedSize])
	if !bytes.Equal(priv[ed25519.SeedSize:], b[2+ed25519.SeedSize:]) {
		return nil, fmt.Errorf("%w: private key's public half does not match its seed", ErrMultibase)
	}
	return priv, nil
}
