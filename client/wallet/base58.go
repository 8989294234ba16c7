package wallet

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/facesign/facesign/internal/base58"
)

// base58Encode is Bitcoin's Base58 (package internal/base58).
func base58Encode(b []byte) string { return base58.Encode(b) }

// base58Decode inverts [base58Encode]; it rejects characters outside the
// alphabet and inputs over 128 characters (nothing here is longer).
func base58Decode(s string) ([]byte, error) {
	b, err := base58.Decode(s, 128)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExtendedKey, err)
	}
	return b, nil
}

func checksum4(b []byte) []byte {
	h1 := sha256.Sum256(b)
	h2 := sha256.Sum256(h1[:])
	return h2[:4]
}

func base58CheckEncode(payload []byte) string {
	return base58Encode(append(append([]byte(nil), payload...), checksum4(payload)...))
}

func base58CheckDecode(s string) ([]byte, error) {
	b, err := base58Decode(s)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: too short", ErrExtendedKey)
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	if !bytes.Equal(checksum4(payload), sum) {
		return nil, fmt.Errorf("%w: bad checksum", ErrExtendedKey)
	}
	return payload, nil
}
