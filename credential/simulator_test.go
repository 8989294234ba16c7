package credential

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/wire"
)

// TestIssueWithSimulatorNSM drives the simulated Nitro Security Module on a
// plain clock, as facesign sim runs it: issuers accept its documents only
// when they opt in to its root and pin its PCRs, and only while the
// document's 3-hour leaf certificate is valid.
func TestIssueWithSimulatorNSM(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	ca, err := simulator.NewCA(rand.Reader, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pcrs := map[int][]byte{0: bytes.Repeat([]byte{0x10}, 48), 1: bytes.Repeat([]byte{0x11}, 48), 2: bytes.Repeat([]byte{0x12}, 48)}
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: pcrs, Clock: func() time.Time { return now }, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	enc := newTestEnclave(t, "mobilefacenet")
	h, err := enc.binding.Hash()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := nsm.Attest(attest.Request{UserData: h[:], Nonce: []byte("issuer-test")})
	if err != nil {
		t.Fatal(err)
	}
	ev := Evidence{
		Attestation: doc,
		Binding:     enc.binding,
		Receipt:     enc.receipt(t, wire.Receipt{UniqueID: testUser, Status: wire.StatusExisting, IssuedAtMS: now.UnixMilli()}),
	}
	key, _ := GenerateIssuerKey(detRand(1), testController)
	holder := [32]byte{9}
	opts := IssueOptions{
		Policy: EvidencePolicy{
			Attestation: attest.VerifyOptions{Roots: []*x509.Certificate{nsm.Root()}, CurrentTime: now.Add(time.Minute), PCRs: pcrs},
			Now:         now.Add(time.Minute),
		},
		Key:                 key,
		HolderEncryptionKey: holder,
		Rand:                detRand(2),
	}
	out, err := Issue(ev, opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.Credential.CredentialSubject.FaceSignUserID != testUser {
		t.Fatalf("subject %q", out.Credential.CredentialSubject.FaceSignUserID)
	}

	// The default roots (AWS only) refuse the simulator.
	aws := opts
	aws.Policy.Attestation.Roots = nil
	if _, err := Issue(ev, aws); !errors.Is(err, attest.ErrUntrustedRoot) {
		t.Fatalf("AWS root only: err = %v", err)
	}
	// Another image (PCR0) is refused.
	other := opts
	other.Policy.Attestation.PCRs = map[int][]byte{0: bytes.Repeat([]byte{0x20}, 48)}
	if _, err := Issue(ev, other); !errors.Is(err, attest.ErrPCR) {
		t.Fatalf("other image: err = %v", err)
	}
	// Days later the document's leaf certificate has expired.
	late := opts
	late.Policy.Attestation.CurrentTime = now.Add(72 * time.Hour)
	late.Policy.Now = late.Policy.Attestation.CurrentTime
	if _, err := Issue(ev, late); !errors.Is(err, attest.ErrExpired) {
		t.Fatalf("expired document: err = %v", err)
	}
}
