package credential

import (
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/credential/credentialtest"
	"github.com/facesign/facesign/enclave/wire"
)

// testEpoch is when the test certificates become valid; they last a year.
var testEpoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// testNSM and testEnclave adapt package credentialtest to testing.TB.
type testNSM struct{ *credentialtest.NSM }

func newTestNSM(t testing.TB) *testNSM {
	t.Helper()
	n, err := credentialtest.NewNSM(testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	return &testNSM{n}
}

func (n *testNSM) attest(t testing.TB, b wire.Binding, at time.Time) []byte {
	t.Helper()
	doc, err := n.AttestBinding(b, at)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func (n *testNSM) verifyOptions(now time.Time) attest.VerifyOptions { return n.VerifyOptions(now) }

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
