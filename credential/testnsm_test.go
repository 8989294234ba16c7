package credential

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/credential/credentialtest"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/wire"
)

// testEpoch is when the simulated CA is made; the tests run ten days later.
var testEpoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// testNSM is the project's simulated Nitro Security Module (real NSM
// encoding, AWS-shaped five-level chain, its own root) on a clock the test
// sets, so documents can be made at any time.
type testNSM struct {
	nsm  *simulator.NSM
	pcrs map[int][]byte

	mu  sync.Mutex // serialises set-clock-then-attest
	now time.Time
}

func newTestNSM(t testing.TB) *testNSM {
	t.Helper()
	ca, err := simulator.NewCA(rand.Reader, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNSM{now: testNow.Add(-time.Hour), pcrs: map[int][]byte{
		0: bytes.Repeat([]byte{0xa0}, 48), 1: bytes.Repeat([]byte{0xa1}, 48), 2: bytes.Repeat([]byte{0xa2}, 48),
	}}
	n.nsm, err = simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: n.pcrs, Clock: func() time.Time { return n.now }, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// attest makes a document with user_data = SHA-256 of b, dated at.
func (n *testNSM) attest(t testing.TB, b wire.Binding, at time.Time) []byte {
	t.Helper()
	h, err := b.Hash()
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.now = at
	doc, err := n.nsm.Attest(attest.Request{UserData: h[:], Nonce: []byte("credential-test")})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// verifyOptions are what a correctly configured issuer uses at now: the
// simulator's root (opted in) and the image's PCR0-2.
func (n *testNSM) verifyOptions(now time.Time) attest.VerifyOptions {
	return attest.VerifyOptions{Roots: []*x509.Certificate{n.nsm.Root()}, CurrentTime: now, PCRs: n.pcrs}
}

// testEnclave adapts credentialtest.Enclave to testing.TB.
type testEnclave struct {
	*credentialtest.Enclave
	binding wire.Binding
}

func newTestEnclave(t testing.TB, engine string) *testEnclave {
	t.Helper()
	e, err := credentialtest.NewEnclave(engine)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnclave{e, e.Binding}
}

func (e *testEnclave) receipt(t testing.TB, r wire.Receipt) wire.SignedReceipt {
	t.Helper()
	sr, err := e.Receipt(r)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}
