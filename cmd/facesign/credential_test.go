package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/client/wallet"
	"github.com/facesign/facesign/credential"
	"github.com/facesign/facesign/credential/credentialtest"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/wire"
)

func TestCredentialCommands(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	write := func(n string, b []byte) {
		if err := os.WriteFile(p(n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	epoch := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := epoch.Add(72 * time.Hour)
	at := now.Format(time.RFC3339)
	ca, err := simulator.NewCA(rand.Reader, epoch)
	if err != nil {
		t.Fatal(err)
	}
	pcrs := map[int][]byte{0: bytes.Repeat([]byte{0xa0}, 48), 1: bytes.Repeat([]byte{0xa1}, 48), 2: bytes.Repeat([]byte{0xa2}, 48)}
	docTime := now.Add(-2 * time.Minute)
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: pcrs, Clock: func() time.Time { return docTime }, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := credentialtest.NewEnclave("mobilefacenet")
	if err != nil {
		t.Fatal(err)
	}
	user := "0c9f3d5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f"
	sr, err := enc.Receipt(wire.Receipt{UniqueID: user, Status: wire.StatusNew, IssuedAtMS: now.Add(-time.Minute).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	bh, _ := enc.Binding.Hash()
	doc, err := nsm.Attest(attest.Request{UserData: bh[:]})
	if err != nil {
		t.Fatal(err)
	}
	ev := credential.Evidence{Attestation: doc, Binding: enc.Binding, Receipt: sr}
	rb, ab, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write("receipt.cbor", rb)
	write("attestation.cbor", ab)
	write("root.pem", ca.RootPEM())
	// A receipt signed by another key for the same policy: forged.
	forger, _ := credentialtest.NewEnclave("mobilefacenet")
	forged, _ := forger.Receipt(wire.Receipt{UniqueID: user, Status: wire.StatusNew, IssuedAtMS: now.UnixMilli()})
	fb, _ := wire.Marshal(forged)
	write("forged.cbor", fb)
	// A receipt for another policy, signed by the right key.
	other, _ := credentialtest.NewEnclave("another-engine")
	oh, _ := other.Binding.Policy.Hash()
	wrongPolicy, _ := enc.Receipt(wire.Receipt{UniqueID: user, Status: wire.StatusNew, IssuedAtMS: now.UnixMilli(), PolicyHash: oh[:]})
	wb, _ := wire.Marshal(wrongPolicy)
	write("otherpolicy.cbor", wb)

	id := strings.TrimSpace(mustCLI(t, "credential", "keygen", "--controller", "https://issuer.example/idos/issuers/7", "-o", p("issuer.json"), "--public-out", p("issuer.pub.json")))
	if !strings.HasSuffix(id, "https://issuer.example/idos/issuers/7/keys/1") {
		t.Fatalf("keygen printed %q", id)
	}
	if fi, err := os.Stat(p("issuer.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	if _, err := runCLI(t, "credential", "keygen", "--controller", "https://issuer.example/idos/issuers/7", "-o", p("issuer.json")); err == nil {
		t.Fatal("keygen overwrote an existing key file")
	}

	e, _ := hex.DecodeString(seqEntropy)
	w, _ := wallet.FromEntropy(e)
	holder := w.Public().X25519PublicKey
	pins := []string{"--pcr", "0=" + hex.EncodeToString(pcrs[0]), "--pcr", "1=" + hex.EncodeToString(pcrs[1]), "--pcr", "2=" + hex.EncodeToString(pcrs[2])}
	issue := func(receipt string, extra ...string) (string, error) {
		args := append([]string{"credential", "issue", "--receipt", p(receipt), "--attestation", p("attestation.cbor"),
			"--issuer-key", p("issuer.json"), "--holder-enc-pubkey", holder, "--at", at, "--root", p("root.pem"), "--valid-for", "8760h"}, pins...)
		return runCLI(t, append(args, extra...)...)
	}
	if _, err := issue("receipt.cbor", "-o", p("record.json"), "--credential-out", p("vc.json")); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "credential", "verify", "--record", p("record.json"), "--issuer-key", p("issuer.pub.json"), "--holder-entropy-hex", seqEntropy, "--at", at)
	var v struct {
		Valid          bool   `json:"valid"`
		Decrypted      bool   `json:"decrypted"`
		FaceSignUserID string `json:"face_sign_user_id"`
		PublicNotes    string `json:"public_notes"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Valid || !v.Decrypted || v.FaceSignUserID != user {
		t.Fatalf("verify printed %s (%v)", out, err)
	}
	// Without the holder's secret: the public parts only.
	out = mustCLI(t, "credential", "verify", "--record", p("record.json"), "--issuer-key", p("issuer.pub.json"), "--at", at)
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Valid || v.Decrypted || !strings.Contains(v.PublicNotes, `"PoP"`) {
		t.Fatalf("public verify printed %s (%v)", out, err)
	}
	mustCLI(t, "credential", "verify", "--credential", p("vc.json"), "--issuer-key", p("issuer.json"), "--at", at)
	// Archived evidence: the chain is checked at the document's time.
	late := epoch.AddDate(2, 0, 0).Format(time.RFC3339)
	if _, err := issue("receipt.cbor", "--at", late, "--at-document-time", "-o", p("late.json")); err != nil {
		t.Fatalf("--at-document-time: %v", err)
	}
	// One character changed in the credential: refused.
	vc, _ := os.ReadFile(p("vc.json"))
	write("vc2.json", bytes.Replace(vc, []byte(user[:4]), []byte("1c9f"), 1))
	if _, err := runCLI(t, "credential", "verify", "--credential", p("vc2.json"), "--issuer-key", p("issuer.json"), "--at", at); !errors.Is(err, credential.ErrProof) {
		t.Fatalf("changed credential: err = %v", err)
	}

	refusals := []struct {
		name    string
		receipt string
		extra   []string
		want    error
	}{
		{"forged receipt", "forged.cbor", nil, credential.ErrReceipt},
		{"receipt for another policy", "otherpolicy.cbor", nil, credential.ErrReceipt},
		{"attestation file as receipt", "attestation.cbor", nil, credential.ErrReceipt},
		{"attestation past its certificates", "receipt.cbor", []string{"--at", epoch.AddDate(2, 0, 0).Format(time.RFC3339)}, attest.ErrExpired},
		{"archived evidence, receipt too old", "receipt.cbor", []string{"--at", epoch.AddDate(2, 0, 0).Format(time.RFC3339), "--at-document-time", "--max-receipt-age", "24h"}, credential.ErrReceipt},
		{"wrong PCR pin", "receipt.cbor", []string{"--pcr", "3=" + strings.Repeat("11", 48)}, attest.ErrPCR},
		{"policy pin", "receipt.cbor", []string{"--policy-hash", hex.EncodeToString(oh[:])}, credential.ErrBinding},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			outFile := p(strings.ReplaceAll(tc.name, " ", "_") + ".json")
			_, err := issue(tc.receipt, append(tc.extra, "-o", outFile)...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := os.Stat(outFile); !os.IsNotExist(err) {
				t.Fatal("a record was written for refused evidence")
			}
		})
	}
	// The AWS root alone does not vouch for the test module.
	args := []string{"credential", "issue", "--receipt", p("receipt.cbor"), "--attestation", p("attestation.cbor"),
		"--issuer-key", p("issuer.json"), "--holder-enc-pubkey", holder, "--at", at}
	if _, err := runCLI(t, append(args, pins...)...); !errors.Is(err, attest.ErrUntrustedRoot) {
		t.Fatalf("without --root: err = %v", err)
	}
	for name, a := range map[string][]string{
		"no pins":         append([]string{}, append(args, "--root", p("root.pem"))...),
		"bad holder key":  {"credential", "issue", "--receipt", p("receipt.cbor"), "--attestation", p("attestation.cbor"), "--issuer-key", p("issuer.json"), "--holder-enc-pubkey", "abcd"},
		"bad at":          append(append([]string{}, args...), "--at", "yesterday"),
		"bad pcr":         append(append([]string{}, args...), "--pcr", "0=zz"),
		"public key only": {"credential", "issue", "--receipt", p("receipt.cbor"), "--attestation", p("attestation.cbor"), "--issuer-key", p("issuer.pub.json"), "--holder-enc-pubkey", holder, "--root", p("root.pem"), pins[0], pins[1]},
		"verify both":     {"credential", "verify", "--record", p("record.json"), "--credential", p("vc.json"), "--issuer-key", p("issuer.json")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := runCLI(t, a...); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
