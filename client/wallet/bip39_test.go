package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/tyler-smith/go-bip39"
)

// bip39Vectors reads the English vectors of trezor/python-mnemonic:
// [entropy, mnemonic, seed with passphrase "TREZOR", master xprv].
func bip39Vectors(t testing.TB) [][4]string {
	t.Helper()
	b, err := os.ReadFile("testdata/bip39/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		English [][4]string `json:"english"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.English) != 24 {
		t.Fatalf("%d English vectors, want 24", len(v.English))
	}
	return v.English
}

func TestBIP39Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range bip39Vectors(t) {
		t.Run(v[0], func(t *testing.T) {
			t.Parallel()
			entropy, _ := hex.DecodeString(v[0])
			m, err := EntropyToMnemonic(entropy)
			if err != nil || m != v[1] {
				t.Fatalf("EntropyToMnemonic = %q, %v; want %q", m, err, v[1])
			}
			back, err := MnemonicToEntropy(v[1])
			if err != nil || !bytes.Equal(back, entropy) {
				t.Fatalf("MnemonicToEntropy = %x, %v; want %s", back, err, v[0])
			}
			seed, err := MnemonicToSeed(v[1], "TREZOR")
			if err != nil || hex.EncodeToString(seed[:]) != v[2] {
				t.Fatalf("MnemonicToSeed = %x, %v; want %s", seed, err, v[2])
			}
			master, err := NewMasterKey(seed[:])
			if err != nil || master.String() != v[3] {
				t.Fatalf("master = %v, %v; want %s", master, err, v[3])
			}
		})
	}
}

func TestWordlistHash(t *testing.T) {
	t.Parallel()
	words, index, err := englishWords()
	if err != nil {
		t.Fatal(err)
	}
	if words[0] != "abandon" || words[2047] != "zoo" || index["zoo"] != 2047 || len(index) != 2048 {
		t.Fatalf("word list not as expected: %q … %q, %d entries", words[0], words[2047], len(index))
	}
}

// TestMnemonicAgainstGoBIP39 compares the encoder with the go-bip39 reference
// for random entropies of every allowed length.
func TestMnemonicAgainstGoBIP39(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		n := 16 + 4*(i%5)
		e := make([]byte, n)
		for j := range e {
			e[j] = byte(r.Uint32())
		}
		want, err := bip39.NewMnemonic(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EntropyToMnemonic(e)
		if err != nil || got != want {
			t.Fatalf("entropy %x: got %q, %v; want %q", e, got, err, want)
		}
		back, err := MnemonicToEntropy(got)
		if err != nil || !bytes.Equal(back, e) {
			t.Fatalf("round trip %x: %x, %v", e, back, err)
		}
	}
}

func TestMnemonicErrors(t *testing.T) {
	t.Parallel()
	valid := strings.Repeat("abandon ", 23) + "art"
	swapped := strings.Repeat("abandon ", 23) + "zoo"
	tests := []struct {
		name, mnemonic string
	}{
		{"empty", ""},
		{"11 words", strings.Repeat("abandon ", 10) + "about"},
		{"25 words", valid + " abandon"},
		{"unknown word", strings.Replace(valid, "art", "artt", 1)},
		{"upper case", strings.ToUpper(valid)},
		{"bad checksum", swapped},
	}
	if _, err := MnemonicToEntropy(valid); err != nil {
		t.Fatalf("valid mnemonic refused: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := MnemonicToEntropy(tc.mnemonic); !errors.Is(err, ErrMnemonic) {
				t.Fatalf("err = %v, want ErrMnemonic", err)
			}
			if _, err := FromMnemonic(tc.mnemonic); !errors.Is(err, ErrMnemonic) {
				t.Fatalf("FromMnemonic err = %v, want ErrMnemonic", err)
			}
		})
	}
	if _, err := FromMnemonic(strings.Repeat("abandon ", 11) + "about"); !errors.Is(err, ErrMnemonic) {
		t.Fatalf("12-word wallet: err = %v, want ErrMnemonic", err)
	}
	for _, n := range []int{0, 1, 15, 17, 33, 64} {
		if _, err := EntropyToMnemonic(make([]byte, n)); !errors.Is(err, ErrEntropyLength) {
			t.Errorf("EntropyToMnemonic(%d bytes): err = %v, want ErrEntropyLength", n, err)
		}
	}
}

func FuzzMnemonicToEntropy(f *testing.F) {
	for _, v := range bip39Vectors(f) {
		f.Add(v[1])
	}
	f.Add("abandon")
	f.Add("  zoo zoo\tzoo ")
	f.Fuzz(func(t *testing.T, m string) {
		e, err := MnemonicToEntropy(m)
		if err != nil {
			if !errors.Is(err, ErrMnemonic) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		canon, err := EntropyToMnemonic(e)
		if err != nil {
			t.Fatal(err)
		}
		if canon != strings.Join(strings.Fields(m), " ") {
			t.Fatalf("canonical %q differs from input %q", canon, m)
		}
	})
}
