package wallet

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
)

// interopEntropies are fixed inputs plus a few from a seeded generator.
func interopEntropies() [][]byte {
	var out [][]byte
	for _, fill := range []byte{0x00, 0xff} {
		out = append(out, bytes.Repeat([]byte{fill}, 32))
	}
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	out = append(out, seq)
	x := uint64(0x9e3779b97f4a7c15)
	for range 3 {
		e := make([]byte, 32)
		for i := range e {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			e[i] = byte(x)
		}
		out = append(out, e)
	}
	return out
}

// TestInteropJS checks every key and both signature schemes against the
// libraries the idOS app runs: @scure/bip39, tweetnacl, ethers and node:crypto
// (HKDF) derive the same keys on their own, verify and recover our
// signatures, and produce byte-identical ones (both schemes are deterministic).
func TestInteropJS(t *testing.T) {
	t.Parallel()
	peer := nodetest.Require(t, filepath.Join("testdata", "node"))
	type caseIn struct {
		Entropy    string `json:"entropy"`
		Message    string `json:"message"`
		Ed25519Sig string `json:"ed25519_sig"`
		EIP191Sig  string `json:"eip191_sig"`
	}
	var in struct {
		Cases      []caseIn `json:"cases"`
		X25519Info string   `json:"x25519_info"`
	}
	in.X25519Info = EncryptionInfo
	var wallets []*Wallet
	for i, e := range interopEntropies() {
		w, err := FromEntropy(e)
		if err != nil {
			t.Fatal(err)
		}
		wallets = append(wallets, w)
		msg := []byte("FaceSign interop message ")
		msg = append(msg, byte('a'+i), 0x00, 0xff, '\n')
		ed, _ := w.Signer("ed25519")
		eth, _ := w.Signer("eip191")
		in.Cases = append(in.Cases, caseIn{
			Entropy:    hex.EncodeToString(e),
			Message:    hex.EncodeToString(msg),
			Ed25519Sig: hex.EncodeToString(ed.Sign(msg)),
			EIP191Sig:  hex.EncodeToString(eth.Sign(msg)),
		})
	}
	var out struct {
		WordlistSHA256 string `json:"wordlist_sha256"`
		Results        []struct {
			Mnemonic            string `json:"mnemonic"`
			MnemonicValid       bool   `json:"mnemonic_valid"`
			Seed                string `json:"seed"`
			Ed25519PublicKey    string `json:"ed25519_public_key"`
			Ed25519Signature    string `json:"ed25519_signature"`
			Ed25519VerifiesOurs bool   `json:"ed25519_verifies_ours"`
			EVMPath             string `json:"evm_path"`
			EVMAddress          string `json:"evm_address"`
			EVMPublicKey        string `json:"evm_public_key"`
			EIP191Signature     string `json:"eip191_signature"`
			EIP191Recovered     string `json:"eip191_recovered_from_ours"`
			X25519PublicKey     string `json:"x25519_public_key"`
		} `json:"results"`
	}
	peer.RunJSON(t, "interop.mjs", in, &out)
	if out.WordlistSHA256 != englishSHA256 {
		t.Errorf("@scure/bip39 English list SHA-256 %s, ours %s", out.WordlistSHA256, englishSHA256)
	}
	if len(out.Results) != len(wallets) {
		t.Fatalf("%d results for %d cases", len(out.Results), len(wallets))
	}
	for i, r := range out.Results {
		w, c := wallets[i], in.Cases[i]
		seed := w.Seed()
		pub := w.Public()
		check := func(what, js, ours string) {
			if js != ours {
				t.Errorf("case %d %s: JS %q, ours %q", i, what, js, ours)
			}
		}
		check("mnemonic", r.Mnemonic, w.Mnemonic())
		check("seed", r.Seed, hex.EncodeToString(seed[:]))
		check("ed25519 public key", r.Ed25519PublicKey, pub.Ed25519PublicKey)
		check("ed25519 signature", r.Ed25519Signature, c.Ed25519Sig)
		check("evm path", r.EVMPath, EVMPath)
		check("evm address", r.EVMAddress, pub.EVMAddress)
		check("evm public key", r.EVMPublicKey, pub.EVMPublicKey)
		check("eip191 signature", r.EIP191Signature, c.EIP191Sig)
		check("eip191 recovered signer", r.EIP191Recovered, pub.EVMAddress)
		check("x25519 public key", r.X25519PublicKey, pub.X25519PublicKey)
		if !r.MnemonicValid {
			t.Errorf("case %d: @scure/bip39 says our mnemonic is invalid", i)
		}
		if !r.Ed25519VerifiesOurs {
			t.Errorf("case %d: tweetnacl does not verify our Ed25519 signature", i)
		}
	}
}
