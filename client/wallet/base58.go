package wallet

import (
	"bytes"
	"crypto/sha256"
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

// base58Encode is Bitcoin's Base58: big-endian base-58 digits, one '1' per
// leading zero byte. Quadratic, which is fine for the 82-byte keys it sees.
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	digits := make([]byte, 0, len(b)*138/100+1) // little-endian base-58 digits
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

// base58Decode inverts [base58Encode]; it rejects characters outside the
// alphabet and inputs over 128 characters (nothing here is longer).
func base58Decode(s string) ([]byte, error) {
	if len(s) > 128 {
		return nil, fmt.Errorf("%w: %d characters", ErrExtendedKey, len(s))
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	bytesLE := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("%w: character %q is not base58", ErrExtendedKey, s[i])
		}
		carry := int(d)
		for j := range bytesLE {
			carry += int(bytesLE[j]) * 58
			bytesLE[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytesLE = append(bytesLE, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytesLE))
	for i, c := range bytesLE {
		out[len(out)-1-i] = c
	}
	return out, nil
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
