package credential

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave/wire"
	"github.com/fxamacker/cbor/v2"
)

// testNSM is a minimal stand-in for a Nitro Security Module, for these tests
// only: its own P-384 root and signing certificate, and documents encoded the
// way the NSM encodes them (untagged COSE_Sign1, ES384, payload fields in
// NSM order). It lets the tests make documents for any binding, PCRs and time.
type testNSM struct {
	root    *x509.Certificate
	leaf    *x509.Certificate
	leafKey *ecdsa.PrivateKey
	pcrs    map[int][]byte
}

// testEpoch is when the test certificates become valid; they last a year.
var testEpoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newTestNSM(t testing.TB) *testNSM {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "credential test root"},
		NotBefore:             testEpoch,
		NotAfter:              testEpoch.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "credential test enclave"},
		NotBefore:             testEpoch,
		NotAfter:              testEpoch.AddDate(1, 0, 0),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	pcrs := make(map[int][]byte)
	for i := range 16 {
		pcrs[i] = make([]byte, 48)
	}
	for _, i := range []int{0, 1, 2} {
		pcrs[i] = bytes.Repeat([]byte{byte(0xa0 + i)}, 48)
	}
	return &testNSM{root: root, leaf: leaf, leafKey: leafKey, pcrs: pcrs}
}

type nsmPayload struct {
	ModuleID    string         `cbor:"module_id"`
	Digest      string         `cbor:"digest"`
	Timestamp   uint64         `cbor:"timestamp"`
	PCRs        map[int][]byte `cbor:"pcrs"`
	Certificate []byte         `cbor:"certificate"`
	CABundle    [][]byte       `cbor:"cabundle"`
	PublicKey   []byte         `cbor:"public_key"`
	UserData    []byte         `cbor:"user_data"`
	Nonce       []byte         `cbor:"nonce"`
}

// attest makes a document with user_data = SHA-256 of b, at time at.
func (n *testNSM) attest(t testing.TB, b wire.Binding, at time.Time) []byte {
	t.Helper()
	h, err := b.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return n.attestUserData(t, h[:], at)
}

func (n *testNSM) attestUserData(t testing.TB, userData []byte, at time.Time) []byte {
	t.Helper()
	payload, err := cbor.Marshal(nsmPayload{
		ModuleID:    "i-0123456789abcdef0-enc0123456789abcdef",
		Digest:      "SHA384",
		Timestamp:   uint64(at.UnixMilli()),
		PCRs:        n.pcrs,
		Certificate: n.leaf.Raw,
		CABundle:    [][]byte{n.root.Raw},
		UserData:    userData,
		Nonce:       []byte("credential-test-nonce"),
	})
	if err != nil {
		t.Fatal(err)
	}
	protected, _ := cbor.Marshal(map[int]int{1: -35})
	sigStructure, _ := cbor.Marshal([]any{"Signature1", protected, []byte{}, payload})
	digest := sha512.Sum384(sigStructure)
	r, s, err := ecdsa.Sign(rand.Reader, n.leafKey, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	doc, err := cbor.Marshal([]any{protected, map[int]any{}, payload, sig})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// verifyOptions are the options a correctly configured issuer uses for this
// module's documents at time now.
func (n *testNSM) verifyOptions(now time.Time) attest.VerifyOptions {
	return attest.VerifyOptions{
		Roots:       []*x509.Certificate{n.root},
		CurrentTime: now,
		PCRs:        map[int][]byte{0: n.pcrs[0], 1: n.pcrs[1], 2: n.pcrs[2]},
	}
}

// testEnclave is an enclave identity: its receipt key and binding.
type testEnclave struct {
	receiptKey ed25519.PrivateKey
	binding    wire.Binding
}

func newTestEnclave(t testing.TB, engine string) *testEnclave {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnclave{receiptKey: priv, binding: wire.Binding{
		KeyConfig: []byte{0x01, 0x02, 0x03},
		Policy: wire.Policy{
			Engine:         engine,
			ModelSHA256:    bytes.Repeat([]byte{0x5a}, 32),
			MatchThreshold: 0.62,
			NewThreshold:   0.45,
			Margin:         0.05,
			Actions:        []string{"turn_left", "turn_right"},
			ChallengeTTLMS: 60000,
			MinFrames:      4,
			MaxFrames:      32,
			MaxFrameBytes:  1 << 20,
			MaxPixels:      1 << 21,
		},
		ReceiptKey: pub,
	}}
}

func (e *testEnclave) receipt(t testing.TB, r wire.Receipt) wire.SignedReceipt {
	t.Helper()
	if r.PolicyHash == nil {
		h, err := e.binding.Policy.Hash()
		if err != nil {
			t.Fatal(err)
		}
		r.PolicyHash = h[:]
	}
	sr, err := wire.SignReceipt(e.receiptKey, r)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}
