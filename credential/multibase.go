package credential

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/facesign/facesign/internal/base58"
)

// maxBase58 bounds what base58Decode accepts (the largest value here is a
// 66-byte private key, about 90 characters).
const maxBase58 = 200

// base58Encode is base58btc (package internal/base58).
func base58Encode(b []byte) string { return base58.Encode(b) }

func base58Decode(s string) ([]byte, error) {
	b, err := base58.Decode(s, maxBase58)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMultibase, err)
	}
	return b, nil
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
