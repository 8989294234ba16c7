package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/wallet-vectors.json")

// walletVector is one documented derivation (docs/wallet.md); the same
// entropies are checked against the JavaScript peers in TestInteropJS.
type walletVector struct {
	Entropy         string     `json:"entropy"`
	Mnemonic        string     `json:"mnemonic"`
	Seed            string     `json:"seed"`
	Public          PublicKeys `json:"public"`
	Message         string     `json:"message"`
	Ed25519Sig      string     `json:"ed25519_signature"`
	EIP191Sig       string     `json:"eip191_signature"`
	X25519SecretKey string     `json:"x25519_secret_key"`
}

func vectorEntropies() [][]byte {
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	return [][]byte{bytes.Repeat([]byte{0}, 32), seq, bytes.Repeat([]byte{0xff}, 32)}
}

func makeVector(t *testing.T, e []byte) walletVector {
	w, err := FromEntropy(e)
	if err != nil {
		t.Fatal(err)
	}
	seed := w.Seed()
	msg := "FaceSign"
	ed, _ := w.Signer("ed25519")
	eth, _ := w.Signer("eip191")
	sk := w.Encryption().Secret()
	return walletVector{
		Entropy:         hex.EncodeToString(e),
		Mnemonic:        w.Mnemonic(),
		Seed:            hex.EncodeToString(seed[:]),
		Public:          w.Public(),
		Message:         msg,
		Ed25519Sig:      hex.EncodeToString(ed.Sign([]byte(msg))),
		EIP191Sig:       hex.EncodeToString(eth.Sign([]byte(msg))),
		X25519SecretKey: hex.EncodeToString(sk[:]),
	}
}

func TestWalletVectors(t *testing.T) {
	t.Parallel()
	var got []walletVector
	for _, e := range vectorEntropies() {
		got = append(got, makeVector(t, e))
	}
	path := "testdata/wallet-vectors.json"
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []walletVector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vector %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestFromEntropyErrors(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if w, err := FromEntropy(make([]byte, n)); !errors.Is(err, ErrEntropyLength) || w != nil {
			t.Errorf("%d bytes: %v, %v; want ErrEntropyLength", n, w, err)
		}
	}
}

func TestFromMnemonicMatchesEntropy(t *testing.T) {
	t.Parallel()
	e := vectorEntropies()[1]
	a, err := FromEntropy(e)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromMnemonic("  " + a.Mnemonic() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if a.Public() != b.Public() || a.Mnemonic() != b.Mnemonic() || !bytes.Equal(a.Entropy(), e) {
		t.Fatal("FromMnemonic and FromEntropy disagree")
	}
}

func TestSchemes(t *testing.T) {
	t.Parallel()
	w, err := FromEntropy(vectorEntropies()[0])
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello")
	for _, name := range Schemes() {
		t.Run(name, func(t *testing.T) {
			s, err := w.Signer(name)
			if err != nil {
				t.Fatal(err)
			}
			v, err := VerifierFor(name)
			if err != nil {
				t.Fatal(err)
			}
			sig := s.Sign(msg)
			if err := v.Verify(s.PublicIdentity(), msg, sig); err != nil {
				t.Fatalf("own signature: %v", err)
			}
			if err := v.Verify(s.PublicIdentity(), []byte("hellO"), sig); !errors.Is(err, ErrSignature) {
				t.Fatalf("other message: err = %v", err)
			}
			bad := append([]byte(nil), sig...)
			bad[10] ^= 0x40
			if err := v.Verify(s.PublicIdentity(), msg, bad); !errors.Is(err, ErrSignature) {
				t.Fatalf("flipped bit: err = %v", err)
			}
		})
	}
	if _, err := w.Signer("rsa"); !errors.Is(err, ErrScheme) {
		t.Fatalf("unknown scheme: err = %v", err)
	}
	if _, err := VerifierFor("rsa"); !errors.Is(err, ErrScheme) {
		t.Fatalf("unknown scheme: err = %v", err)
	}
	v, _ := VerifierFor("ed25519")
	if err := v.Verify("zz", msg, make([]byte, 64)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad ed25519 identity: err = %v", err)
	}
}

func ExampleFromEntropy() {
	entropy := make([]byte, 32) // the enclave's 32 bytes; all zero here
	w, err := FromEntropy(entropy)
	if err != nil {
		fmt.Println(err)
		return
	}
	pub := w.Public()
	fmt.Println(w.Mnemonic())
	fmt.Println("facesign:", pub.FaceSignAddress)
	fmt.Println("evm:", pub.EVMAddress)
	// Output:
	// abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art
	// facesign: 1de352e44cd333672593f2334a730e180aaf290de89aa16d480de594e34e2961
	// evm: 0xF278cF59F82eDcf871d630F28EcC8056f25C1cdb
}

func ExampleWallet_Signer() {
	w, err := FromEntropy(make([]byte, 32))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := w.Signer("eip191")
	sig := s.Sign([]byte("FaceSign"))
	addr, _ := RecoverPersonal([]byte("FaceSign"), sig)
	fmt.Println(ChecksumAddress(addr) == s.PublicIdentity())
	fmt.Printf("v=%d len=%d\n", sig[64], len(sig))
	// Output:
	// true
	// v=28 len=65
}

func TestPrintingRedactsSecrets(t *testing.T) {
	t.Parallel()
	w, err := FromEntropy(vectorEntropies()[1])
	if err != nil {
		t.Fatal(err)
	}
	sk := w.Encryption().Secret()
	secrets := []string{
		hex.EncodeToString(w.Entropy()),
		w.Mnemonic()[:20],
		hex.EncodeToString(w.FaceSignKey().Seed()),
		hex.EncodeToString(w.EVM().PrivateKey().Serialize()),
		hex.EncodeToString(sk[:]),
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{w, w.Encryption(), w.EVM()} {
			out := fmt.Sprintf(format, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("%s of %T prints a secret: %s", format, v, out)
				}
			}
		}
	}
}
