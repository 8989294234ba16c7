package wallet

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

type bip32File struct {
	Valid []struct {
		Vector int    `json:"vector"`
		Seed   string `json:"seed"`
		Chains []struct {
			Path string `json:"path"`
			Xpub string `json:"xpub"`
			Xprv string `json:"xprv"`
		} `json:"chains"`
	} `json:"valid"`
	Invalid []struct {
		Key    string `json:"key"`
		Reason string `json:"reason"`
	} `json:"invalid"`
}

func bip32Vectors(t testing.TB) bip32File {
	t.Helper()
	b, err := os.ReadFile("testdata/bip32/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v bip32File
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) != 4 || len(v.Invalid) != 16 {
		t.Fatalf("vectors file has %d valid and %d invalid entries", len(v.Valid), len(v.Invalid))
	}
	return v
}

func TestBIP32Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range bip32Vectors(t).Valid {
		seed, _ := hex.DecodeString(v.Seed)
		master, err := NewMasterKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		var prev *ExtendedKey
		for _, c := range v.Chains {
			t.Run(string(rune('0'+v.Vector))+":"+c.Path, func(t *testing.T) {
				k, err := master.Derive(c.Path)
				if err != nil {
					t.Fatal(err)
				}
				if got := k.String(); got != c.Xprv {
					t.Errorf("xprv = %s, want %s", got, c.Xprv)
				}
				if got := k.Neuter().String(); got != c.Xpub {
					t.Errorf("xpub = %s, want %s", got, c.Xpub)
				}
				// Parsing gives back the same keys.
				for _, s := range []string{c.Xprv, c.Xpub} {
					p, err := ParseExtendedKey(s)
					if err != nil || p.String() != s {
						t.Errorf("ParseExtendedKey(%s) = %v, %v", s, p, err)
					}
				}
				// CKDpub: a public parent gives the same public child.
				if prev != nil && k.ChildNumber() < HardenedOffset {
					pub, err := prev.Neuter().Child(k.ChildNumber())
					if err != nil || pub.String() != c.Xpub {
						t.Errorf("CKDpub = %v, %v; want %s", pub, err, c.Xpub)
					}
				}
				if prev != nil && k.ChildNumber() >= HardenedOffset {
					if _, err := prev.Neuter().Child(k.ChildNumber()); !errors.Is(err, ErrHardenedFromPublic) {
						t.Errorf("hardened child of public key: err = %v", err)
					}
				}
				prev = k
			})
		}
	}
}

func TestBIP32Invalid(t *testing.T) {
	t.Parallel()
	for _, v := range bip32Vectors(t).Invalid {
		t.Run(v.Reason, func(t *testing.T) {
			t.Parallel()
			if k, err := ParseExtendedKey(v.Key); !errors.Is(err, ErrExtendedKey) {
				t.Fatalf("ParseExtendedKey = %v, %v; want ErrExtendedKey", k, err)
			}
		})
	}
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	h := HardenedOffset
	good := []struct {
		path string
		want []uint32
	}{
		{"m", []uint32{}},
		{"m/0", []uint32{0}},
		{"m/44'/60'/0'/0/0", []uint32{44 | h, 60 | h, h, 0, 0}},
		{"m/1h/2H/2147483647'", []uint32{1 | h, 2 | h, 2147483647 | h}},
	}
	for _, tc := range good {
		got, err := ParsePath(tc.path)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePath(%q) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "M/0", "m/", "m//0", "m/01", "m/-1", "m/+1", "m/2147483648", "m/1''", "m/x", "n/0", "m/0/"} {
		if got, err := ParsePath(bad); !errors.Is(err, ErrPath) {
			t.Errorf("ParsePath(%q) = %v, %v; want ErrPath", bad, got, err)
		}
	}
}

func TestMasterKeySeedLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 15, 65} {
		if _, err := NewMasterKey(make([]byte, n)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("seed of %d bytes: err = %v", n, err)
		}
	}
}

// TestBase58 checks what this package adds to internal/base58 (whose tests
// hold the known answers): input is bounded at 128 characters, errors are
// [ErrExtendedKey], and Base58Check's checksum.
func TestBase58(t *testing.T) {
	t.Parallel()
	if d, err := base58Decode(strings.Repeat("1", 128)); err != nil || len(d) != 128 {
		t.Fatalf("128 characters: %x, %v", d, err)
	}
	for _, bad := range []string{strings.Repeat("1", 129), "0", "O", "I", "l", "1a!"} {
		if d, err := base58Decode(bad); d != nil || !errors.Is(err, ErrExtendedKey) {
			t.Errorf("decode %q = %x, %v; want ErrExtendedKey", bad, d, err)
		}
	}
	payload := []byte("FaceSign base58check")
	s := base58CheckEncode(payload)
	if got, err := base58CheckDecode(s); err != nil || string(got) != string(payload) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	flipped := []byte(s)
	flipped[len(flipped)/2] = map[bool]byte{true: '2', false: '3'}[flipped[len(flipped)/2] != '2']
	for _, bad := range []string{string(flipped), base58Encode([]byte{1, 2, 3})} {
		if got, err := base58CheckDecode(bad); got != nil || !errors.Is(err, ErrExtendedKey) {
			t.Errorf("base58CheckDecode(%q) = %x, %v; want ErrExtendedKey", bad, got, err)
		}
	}
}

func FuzzParseExtendedKey(f *testing.F) {
	v := bip32Vectors(f)
	for _, x := range v.Valid {
		for _, c := range x.Chains {
			f.Add(c.Xprv)
			f.Add(c.Xpub)
		}
	}
	for _, x := range v.Invalid {
		f.Add(x.Key)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseExtendedKey(s)
		if err != nil {
			if !errors.Is(err, ErrExtendedKey) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if got := k.String(); got != s {
			t.Fatalf("parse → serialise: %s, want %s", got, s)
		}
		if _, err := k.Child(0); err != nil && !errors.Is(err, ErrInvalidChild) {
			t.Fatalf("child of parsed key: %v", err)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"m", "m/44'/60'/0'/0/0", "m/1h", "m/01", "m//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrPath) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		back, err := ParsePath(FormatPath(idx))
		if err != nil || !slices.Equal(back, idx) {
			t.Fatalf("FormatPath round trip of %q: %v, %v", s, back, err)
		}
	})
}
