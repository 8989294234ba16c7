package wallet

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The key, address, message hash and signature of the web3.js documentation's
// web3.eth.accounts.sign("Some data", key) example (ethers 6 gives the same).
const (
	docKey     = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	docAddress = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
	docHash    = "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655"
	docSig     = "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c"
)

func docAccount(t testing.TB) *EVMAccount {
	b, _ := hex.DecodeString(docKey)
	return newEVMAccount(secp256k1.PrivKeyFromBytes(b))
}

func TestPersonalSignKnownAnswer(t *testing.T) {
	t.Parallel()
	a := docAccount(t)
	if a.Address() != docAddress {
		t.Fatalf("address %s, want %s", a.Address(), docAddress)
	}
	if h := PersonalMessageHash([]byte("Some data")); hex.EncodeToString(h[:]) != docHash {
		t.Fatalf("hash %x, want %s", h, docHash)
	}
	sig := a.SignPersonal([]byte("Some data"))
	if hex.EncodeToString(sig) != docSig {
		t.Fatalf("signature %x, want %s", sig, docSig)
	}
	addr, err := RecoverPersonal([]byte("Some data"), sig)
	if err != nil || ChecksumAddress(addr) != docAddress {
		t.Fatalf("recovered %s, %v", ChecksumAddress(addr), err)
	}
}

func TestChecksumAddress(t *testing.T) {
	t.Parallel()
	// EIP-55's own examples.
	for _, want := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
	} {
		a, err := ParseAddress(want)
		if err != nil {
			t.Fatalf("ParseAddress(%s): %v", want, err)
		}
		if got := ChecksumAddress(a); got != want {
			t.Errorf("ChecksumAddress = %s, want %s", got, want)
		}
		if _, err := ParseAddress(strings.ToLower(want)); err != nil {
			t.Errorf("lower case %s refused: %v", want, err)
		}
	}
	for _, bad := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", // checksum broken
		"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
		"0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	} {
		if _, err := ParseAddress(bad); !errors.Is(err, ErrAddress) {
			t.Errorf("ParseAddress(%s): err = %v, want ErrAddress", bad, err)
		}
	}
}

func TestRecoverPersonalRejects(t *testing.T) {
	t.Parallel()
	a := docAccount(t)
	msg := []byte("Some data")
	sig := a.SignPersonal(msg)

	v01 := append([]byte(nil), sig...)
	v01[64] -= 27
	if addr, err := RecoverPersonal(msg, v01); err != nil || ChecksumAddress(addr) != docAddress {
		t.Fatalf("v = 0/1 form: %s, %v", ChecksumAddress(addr), err)
	}

	// The malleable twin (n - s, flipped v) is refused.
	var s, n secp256k1.ModNScalar
	s.SetByteSlice(sig[32:64])
	n.NegateVal(&s)
	high := append([]byte(nil), sig...)
	nb := n.Bytes()
	copy(high[32:64], nb[:])
	high[64] ^= 27 ^ 28

	badV := append([]byte(nil), sig...)
	badV[64] = 29
	flipped := append([]byte(nil), sig...)
	flipped[5] ^= 1

	tests := []struct {
		name string
		sig  []byte
	}{
		{"short", sig[:64]},
		{"long", append(append([]byte(nil), sig...), 0)},
		{"v=29", badV},
		{"high s", high},
		{"zero", make([]byte, 65)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RecoverPersonal(msg, tc.sig); !errors.Is(err, ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
	// A flipped bit recovers some other address (or none), never ours.
	addr, err := ParseAddress(docAddress)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyPersonal(addr, msg, flipped); !errors.Is(err, ErrSignature) {
		t.Fatalf("flipped bit: err = %v", err)
	}
	if err := VerifyPersonal(addr, []byte("Some datA"), sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("other message: err = %v", err)
	}
}

func FuzzRecoverPersonal(f *testing.F) {
	sig, _ := hex.DecodeString(docSig)
	f.Add([]byte("Some data"), sig)
	f.Add([]byte{}, make([]byte, 65))
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		if _, err := RecoverPersonal(msg, sig); err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("error class: %v", err)
		}
	})
}
