// Package base58 is Bitcoin's Base58 alphabet (base58btc): big-endian
// base-58 digits with one '1' per leading zero byte. It serves the wallet's
// extended keys (Base58Check) and the credential's multibase keys.
//
// Both directions are quadratic in the input length, which is fine for the
// short keys they see; [Decode] takes a length bound from the caller.
package base58

import (
	"errors"
	"fmt"
)

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range alphabet {
		t[c] = int8(i)
	}
	return t
}()

// ErrInvalid reports input that is too long or holds a character outside
// the alphabet.
var ErrInvalid = errors.New("base58: invalid input")

// Encode returns the base58btc form of b.
func Encode(b []byte) string {
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
		out[len(out)-1-i] = alphabet[d]
	}
	return string(out)
}

// Decode inverts [Encode]. Inputs longer than max characters are refused
// before any work.
func Decode(s string, max int) ([]byte, error) {
	if len(s) > max {
		return nil, fmt.Errorf("%w: %d characters, at most %d", ErrInvalid, len(s), max)
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	le := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		d := index[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("%w: character %q is not base58", ErrInvalid, s[i])
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
