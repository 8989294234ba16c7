package base58

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
)

// Vectors from the Base58 draft (draft-msporny-base58) and Bitcoin's tests.
func TestVectors(t *testing.T) {
	for _, c := range []struct{ hex, b58 string }{
		{"", ""},
		{"00", "1"},
		{"0000", "11"},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"636363", "aPEr"},
		{hex.EncodeToString([]byte("Hello World!")), "2NEpo7TZRRrLZSi2U"},
		{hex.EncodeToString([]byte("The quick brown fox jumps over the lazy dog.")), "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"},
		{"0000287fb4cd", "11233QC4"},
		{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
		// Bitcoin Core's base58_encode_decode.json.
		{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
		{"516b6fcd0f", "ABnLTmg"},
		{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
		{"572e4794", "3EFU7m"},
		{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
		{"10c8511e", "Rt5zm"},
		{"00000000000000000000", "1111111111"},
	} {
		b, _ := hex.DecodeString(c.hex)
		if got := Encode(b); got != c.b58 {
			t.Errorf("Encode(%s) = %q, want %q", c.hex, got, c.b58)
		}
		got, err := Decode(c.b58, 200)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("Decode(%q) = %x, %v", c.b58, got, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			if r.IntN(4) > 0 {
				b[i] = byte(r.Uint32())
			}
		}
		got, err := Decode(Encode(b), 200)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%x: %x, %v", b, got, err)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{"0", "O", "I", "l", "abc+", "1\x00"} {
		if _, err := Decode(s, 200); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q): %v", s, err)
		}
	}
	if _, err := Decode("2222", 3); !errors.Is(err, ErrInvalid) {
		t.Errorf("over the bound: %v", err)
	}
}
