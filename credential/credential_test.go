package credential

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/client/wallet"
	"github.com/facesign/facesign/wire"
)

const (
	testUser       = "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	testController = "https://issuer.example/idos/issuers/1"
)

// testNow is the issuer's clock in these tests; the receipt is a minute older.
var testNow = testEpoch.Add(10 * 24 * time.Hour)

// detRand is a deterministic randomness source for reproducible tests.
func detRand(seed byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte{seed}) }

type fixture struct {
	nsm     *testNSM
	enclave *testEnclave
	key     *IssuerKey
	holder  *wallet.EncryptionKey
	ev      Evidence
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{nsm: newTestNSM(t), enclave: newTestEnclave(t, "mobilefacenet")}
	var err error
	if f.key, err = GenerateIssuerKey(detRand(1), testController); err != nil {
		t.Fatal(err)
	}
	if f.holder, err = wallet.NewEncryptionKey([32]byte{7, 7, 7}); err != nil {
		t.Fatal(err)
	}
	f.ev = Evidence{
		Attestation: f.nsm.attest(t, f.enclave.binding, testNow.Add(-2*time.Minute)),
		Binding:     f.enclave.binding,
		Receipt: f.enclave.receipt(t, wire.Receipt{
			UniqueID: testUser, Status: wire.StatusNew, IssuedAtMS: testNow.Add(-time.Minute).UnixMilli(),
		}),
	}
	return f
}

func (f *fixture) options() IssueOptions {
	return IssueOptions{
		Policy:              EvidencePolicy{Attestation: f.nsm.verifyOptions(testNow), Now: testNow},
		Key:                 f.key,
		HolderEncryptionKey: f.holder.Public(),
		Rand:                detRand(2),
		ValidFor:            365 * 24 * time.Hour,
	}
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, err := Issue(f.ev, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if out.Receipt.UniqueID != testUser || out.Credential.CredentialSubject.FaceSignUserID != testUser {
		t.Fatalf("credential for %q / %q", out.Receipt.UniqueID, out.Credential.CredentialSubject.FaceSignUserID)
	}
	rec, err := out.Record.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	secret := f.holder.Secret()
	check, err := VerifyRecord(rec, f.key.PublicDocument(), &secret, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c := check.Credential
	if c.Issuer != testController || c.Level != "human" || c.ApprovedAt != testNow.Add(-time.Minute).Format(DateLayout) ||
		c.Issued != testNow.Format(DateLayout) || c.ExpirationDate != testNow.AddDate(1, 0, 0).Format(DateLayout) ||
		!strings.HasPrefix(c.ID, testController+"/credentials/") {
		t.Fatalf("unexpected credential %+v", c)
	}
	// Without the holder's secret only the public parts are checked.
	check, err = VerifyRecord(rec, f.key.PublicDocument(), nil, testNow)
	if err != nil || check.Credential != nil {
		t.Fatalf("public check: %+v, %v", check, err)
	}
	var notes PublicNotes
	if err := json.Unmarshal([]byte(check.Record.PublicNotes), &notes); err != nil || notes != FaceSignNotes {
		t.Fatalf("public notes %s", check.Record.PublicNotes)
	}
	if check.Record.PublicNotes != `{"type":"PoP","level":"human","status":"approved","issuer":"FaceSign"}` {
		t.Fatalf("public notes %s", check.Record.PublicNotes)
	}
	// Same inputs and randomness: the same record, byte for byte.
	again, err := Issue(f.ev, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if *again.Record != *out.Record {
		t.Fatal("issuance is not deterministic given its randomness")
	}
	// An existing person (login) gets a credential too.
	f.ev.Receipt = f.enclave.receipt(t, wire.Receipt{UniqueID: testUser, Status: wire.StatusExisting, IssuedAtMS: testNow.UnixMilli()})
	if _, err := Issue(f.ev, f.options()); err != nil {
		t.Fatalf("existing: %v", err)
	}
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	policyHash, _ := f.enclave.binding.Policy.Hash()
	other := newTestEnclave(t, "another-engine")
	otherPolicyHash, _ := other.binding.Policy.Hash()
	otherNSM := newTestNSM(t)
	forger := newTestEnclave(t, "mobilefacenet") // same policy, its own key
	receiptAt := testNow.Add(-time.Minute).UnixMilli()
	good := wire.Receipt{UniqueID: testUser, Status: wire.StatusNew, IssuedAtMS: receiptAt}

	with := func(edit func(*wire.Receipt)) wire.SignedReceipt {
		r := good
		edit(&r)
		return f.enclave.receipt(t, r)
	}
	tampered := f.ev.Receipt
	tampered.Body = bytes.Replace(bytes.Clone(tampered.Body), []byte(testUser[:8]), []byte("00000000"), 1)
	flippedDoc := bytes.Clone(f.ev.Attestation)
	flippedDoc[len(flippedDoc)-5] ^= 1
	wrongPCR := f.nsm.verifyOptions(testNow)
	wrongPCR.PCRs = map[int][]byte{0: bytes.Repeat([]byte{1}, 48)}

	tests := []struct {
		name   string
		edit   func(*Evidence, *IssueOptions)
		want   error
		wantAt error // attest's own sentinel, when the attestation failed
	}{
		{"forged receipt (another key)", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = forger.receipt(t, good)
		}, ErrReceipt, nil},
		{"tampered receipt body", func(e *Evidence, _ *IssueOptions) { e.Receipt = tampered }, ErrReceipt, nil},
		{"receipt for another policy", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = with(func(r *wire.Receipt) { r.PolicyHash = otherPolicyHash[:] })
		}, ErrReceipt, nil},
		{"binding of another enclave", func(e *Evidence, _ *IssueOptions) {
			e.Binding = other.binding
			e.Receipt = other.receipt(t, good)
		}, ErrBinding, nil},
		{"attestation of another enclave", func(e *Evidence, _ *IssueOptions) {
			e.Attestation = f.nsm.attest(t, other.binding, testNow)
		}, ErrBinding, nil},
		{"attestation from an untrusted root", func(e *Evidence, _ *IssueOptions) {
			e.Attestation = otherNSM.attest(t, f.enclave.binding, testNow)
		}, ErrAttestation, attest.ErrUntrustedRoot},
		{"attestation signature flipped", func(e *Evidence, _ *IssueOptions) { e.Attestation = flippedDoc }, ErrAttestation, attest.ErrSignature},
		{"attestation not CBOR", func(e *Evidence, _ *IssueOptions) { e.Attestation = []byte("hello") }, ErrAttestation, attest.ErrCOSE},
		{"unpinned image (PCR0 differs)", func(_ *Evidence, o *IssueOptions) { o.Policy.Attestation = wrongPCR }, ErrAttestation, attest.ErrPCR},
		{"AWS root instead of the test root", func(_ *Evidence, o *IssueOptions) { o.Policy.Attestation.Roots = nil }, ErrAttestation, attest.ErrUntrustedRoot},
		{"attestation expired at issuer time", func(_ *Evidence, o *IssueOptions) {
			o.Policy.Attestation.CurrentTime = testEpoch.AddDate(2, 0, 0)
		}, ErrAttestation, attest.ErrExpired},
		{"policy pin differs", func(_ *Evidence, o *IssueOptions) { o.Policy.PolicyHash = otherPolicyHash[:] }, ErrBinding, nil},
		{"status not_found", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = with(func(r *wire.Receipt) { r.Status = wire.StatusNotFound })
		}, ErrReceipt, nil},
		{"status deleted", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = with(func(r *wire.Receipt) { r.Status = wire.StatusDeleted })
		}, ErrReceipt, nil},
		{"unique id not a uuid", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = with(func(r *wire.Receipt) { r.UniqueID = "alice" })
		}, ErrReceipt, nil},
		{"receipt from the future", func(e *Evidence, _ *IssueOptions) {
			e.Receipt = with(func(r *wire.Receipt) { r.IssuedAtMS = testNow.Add(time.Hour).UnixMilli() })
		}, ErrReceipt, nil},
		{"receipt too old", func(_ *Evidence, o *IssueOptions) { o.Policy.MaxReceiptAge = 30 * time.Second }, ErrReceipt, nil},
		{"no PCR pins", func(_ *Evidence, o *IssueOptions) { o.Policy.Attestation.PCRs = nil }, ErrOptions, nil},
		{"zero issuer time", func(_ *Evidence, o *IssueOptions) { o.Policy.Now = time.Time{} }, ErrOptions, nil},
		{"nil randomness", func(_ *Evidence, o *IssueOptions) { o.Rand = nil }, ErrOptions, nil},
		{"public key only", func(_ *Evidence, o *IssueOptions) { o.Key = f.key.PublicDocument() }, ErrOptions, nil},
		{"low-order holder key", func(_ *Evidence, o *IssueOptions) { o.HolderEncryptionKey = [32]byte{} }, ErrOptions, nil},
		{"negative validity", func(_ *Evidence, o *IssueOptions) { o.ValidFor = -time.Second }, ErrOptions, nil},
	}
	if _, err := Issue(f.ev, f.options()); err != nil {
		t.Fatalf("baseline refused: %v", err)
	}
	_ = policyHash
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, opts := f.ev, f.options()
			tc.edit(&ev, &opts)
			out, err := Issue(ev, opts)
			if !errors.Is(err, tc.want) || out != nil {
				t.Fatalf("Issue = %v, %v; want %v", out, err, tc.want)
			}
			if tc.wantAt != nil && !errors.Is(err, tc.wantAt) {
				t.Fatalf("err = %v; want it to wrap %v", err, tc.wantAt)
			}
			if tc.want == ErrReceipt && strings.Contains(tc.name, "forged") && !errors.Is(err, wire.ErrBadReceipt) {
				t.Fatalf("err = %v; want wire.ErrBadReceipt inside", err)
			}
		})
	}
}

// oneCharEdits are one-character changes of a signed credential, each of which
// must make verification fail.
func oneCharEdits(cred []byte) map[string][]byte {
	edit := func(old, new string) []byte {
		if !bytes.Contains(cred, []byte(old)) {
			panic("edit target not found: " + old)
		}
		return bytes.Replace(cred, []byte(old), []byte(new), 1)
	}
	var c Credential
	if err := json.Unmarshal(cred, &c); err != nil {
		panic(err)
	}
	pv := c.Proof.ProofValue
	swap := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	return map[string][]byte{
		"faceSignUserId": edit(`"faceSignUserId":"6`, `"faceSignUserId":"7`),
		"level":          edit(`"level":"human"`, `"level":"humaN"`),
		"approvedAt":     edit(`"approvedAt":"2026`, `"approvedAt":"2025`),
		"issuer":         edit(`"issuer":"https://issuer.example/idos/issuers/1"`, `"issuer":"https://issuer.example/idos/issuers/2"`),
		"proofValue":     edit(pv, swap(pv, 10)),
		"created":        edit(`"created":"2026`, `"created":"2025`),
		"proofPurpose":   edit(`"assertionMethod"`, `"assertionMethoD"`),
		"id":             edit(`/credentials/`, `/credentialz/`),
	}
}

func TestVerifyCredentialRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, err := NewCredential(detRand(3), f.key, testUser, testNow.Add(-time.Minute), testNow, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := c.Marshal()
	if _, err := VerifyCredential(good, f.key, testNow); err != nil {
		t.Fatalf("good credential: %v", err)
	}
	for name, b := range oneCharEdits(good) {
		t.Run("one char: "+name, func(t *testing.T) {
			if _, err := VerifyCredential(b, f.key, testNow); !errors.Is(err, ErrProof) && !errors.Is(err, ErrShape) {
				t.Fatalf("err = %v, want ErrProof or ErrShape", err)
			}
		})
	}
	other, _ := GenerateIssuerKey(detRand(9), testController)
	otherCtl, _ := GenerateIssuerKey(detRand(9), "https://other.example")
	var m map[string]any
	_ = json.Unmarshal(good, &m)
	withField := func(k string, v any) []byte {
		m2 := map[string]any{}
		for a, b := range m {
			m2[a] = b
		}
		m2[k] = v
		b, _ := json.Marshal(m2)
		return b
	}
	without := func(k string) []byte {
		m2 := map[string]any{}
		for a, b := range m {
			if a != k {
				m2[a] = b
			}
		}
		b, _ := json.Marshal(m2)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		key  *IssuerKey
		now  time.Time
		want error
	}{
		{"other key, same controller", good, other, testNow, ErrProof},
		{"other issuer", good, otherCtl, testNow, ErrProof},
		{"expired", good, f.key, testNow.Add(24 * time.Hour), ErrExpired},
		{"before issuance", good, f.key, testNow.Add(-time.Second), ErrExpired},
		{"zero time", good, f.key, time.Time{}, ErrOptions},
		{"no key", good, nil, testNow, ErrOptions},
		{"extra member", withField("evidence", "x"), f.key, testNow, ErrShape},
		{"case-folded member", bytes.Replace(good, []byte(`"level"`), []byte(`"Level"`), 1), f.key, testNow, ErrShape},
		{"no proof", without("proof"), f.key, testNow, ErrShape},
		{"unknown context", withField("@context", []string{ContextCredentialsV1, "https://example.com/ctx", ContextEd25519_2020}), f.key, testNow, ErrShape},
		{"not JSON", []byte("{"), f.key, testNow, ErrShape},
		{"too large", make([]byte, MaxCredential+1), f.key, testNow, ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := VerifyCredential(tc.b, tc.key, tc.now); !errors.Is(err, tc.want) || c != nil {
				t.Fatalf("VerifyCredential = %v, %v; want %v", c, err, tc.want)
			}
		})
	}
}

func TestCanonicalize(t *testing.T) {
	t.Parallel()
	_, err := Canonicalize(map[string]any{"@context": "https://example.com/unknown", "a": "b"})
	if !errors.Is(err, ErrUnknownContext) {
		t.Fatalf("unknown context: err = %v", err)
	}
	_, err = Canonicalize(map[string]any{"@context": ContextCredentialsV1, "undefinedTerm": "x", "type": "VerifiableCredential"})
	if !errors.Is(err, ErrCanonical) {
		t.Fatalf("undefined term: err = %v", err)
	}
	if _, err := ContextDocument("https://example.com/x"); !errors.Is(err, ErrUnknownContext) {
		t.Fatalf("ContextDocument: err = %v", err)
	}
	for _, u := range ContextURLs() {
		if b, err := ContextDocument(u); err != nil || !json.Valid(b) {
			t.Fatalf("context %s: %v", u, err)
		}
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	plain := []byte(`{"hello":"holder"}`)
	r, err := SealRecord(detRand(4), plain, f.holder.Public(), f.key, FaceSignNotes)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(f.key.Public); err != nil {
		t.Fatal(err)
	}
	got, err := r.Open(f.holder.Secret())
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := r.Open([32]byte{9}); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong secret: err = %v", err)
	}
	other, _ := GenerateIssuerKey(detRand(9), testController)
	if err := r.Verify(other.Public); !errors.Is(err, ErrProof) {
		t.Fatalf("other issuer: err = %v", err)
	}
	mutate := func(edit func(*Record)) *Record {
		c := *r
		edit(&c)
		return &c
	}
	flipContent := func(rec *Record) {
		b := []byte(rec.Content)
		if b[40] == 'A' {
			b[40] = 'B'
		} else {
			b[40] = 'A'
		}
		rec.Content = string(b)
	}
	for name, tc := range map[string]struct {
		rec  *Record
		want error
	}{
		"content changed":   {mutate(flipContent), ErrProof},
		"notes changed":     {mutate(func(r *Record) { r.PublicNotes = strings.Replace(r.PublicNotes, "human", "bot", 1) }), ErrProof},
		"issuer key upper":  {mutate(func(r *Record) { r.IssuerAuthPublicKey = strings.ToUpper(r.IssuerAuthPublicKey) }), ErrShape},
		"encryptor garbage": {mutate(func(r *Record) { r.EncryptorPublicKey = "!!" }), ErrShape},
		"short content":     {mutate(func(r *Record) { r.Content = "AAAA" }), ErrShape},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.rec.Verify(f.key.Public); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A record whose notes are not FaceSign's, correctly signed, is refused.
	odd, err := SealRecord(detRand(4), plain, f.holder.Public(), f.key, PublicNotes{Type: "KYC", Level: "basic", Status: "approved", Issuer: "FaceSign"})
	if err != nil {
		t.Fatal(err)
	}
	if err := odd.Verify(f.key.Public); !errors.Is(err, ErrShape) {
		t.Fatalf("other notes: err = %v", err)
	}
	b, _ := r.Marshal()
	if _, err := ParseRecord(b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["user_id"] = "x"
	extra, _ := json.Marshal(m)
	if _, err := ParseRecord(extra); !errors.Is(err, ErrShape) {
		t.Fatalf("extra member: err = %v", err)
	}
	if _, err := SealRecord(detRand(4), plain, [32]byte{}, f.key, FaceSignNotes); !errors.Is(err, ErrOptions) {
		t.Fatalf("zero holder key: err = %v", err)
	}
}

func TestIssuerKey(t *testing.T) {
	t.Parallel()
	k, err := GenerateIssuerKey(detRand(5), testController)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIssuerKey(b)
	if err != nil || !back.Private.Equal(k.Private) || back.ID != testController+"/keys/1" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	pubDoc, _ := json.Marshal(k.PublicDocument())
	if bytes.Contains(pubDoc, []byte("privateKeyMultibase")) {
		t.Fatal("public document carries the private key")
	}
	if p, err := ParseIssuerKey(pubDoc); err != nil || p.Private != nil || !p.Public.Equal(k.Public) {
		t.Fatalf("public document: %+v, %v", p, err)
	}
	other, _ := GenerateIssuerKey(detRand(6), testController)
	mismatch := bytes.Replace(b, []byte(EncodePublicKeyMultibase(k.Public)), []byte(EncodePublicKeyMultibase(other.Public)), 1)
	for name, bad := range map[string]string{
		"not json":         "{",
		"unknown field":    strings.Replace(string(b), `"type"`, `"extra":1,"type"`, 1),
		"wrong type":       strings.Replace(string(b), KeyType, "Ed25519VerificationKey2018", 1),
		"id not /keys/1":   strings.Replace(string(b), "/keys/1", "/keys/2", 1),
		"controller query": strings.ReplaceAll(string(b), testController, testController+"?x=1"),
		"controller ftp":   strings.ReplaceAll(string(b), "https://", "ftp://"),
		"mismatched keys":  string(mismatch),
		"bad multibase":    strings.Replace(string(b), `"publicKeyMultibase":"z`, `"publicKeyMultibase":"u`, 1),
		"trailing data":    string(b) + "{}",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseIssuerKey([]byte(bad)); !errors.Is(err, ErrIssuerKey) {
				t.Fatalf("err = %v, want ErrIssuerKey", err)
			}
		})
	}
	if _, err := GenerateIssuerKey(detRand(5), "https://issuer.example/"); !errors.Is(err, ErrIssuerKey) {
		t.Fatalf("trailing slash: err = %v", err)
	}
	if _, err := GenerateIssuerKey(nil, testController); !errors.Is(err, ErrOptions) {
		t.Fatalf("nil rand: err = %v", err)
	}
}

func TestMultibase(t *testing.T) {
	t.Parallel()
	// Known answer from @digitalbazaar/ed25519-verification-key-2020 4.2.0:
	// Ed25519VerificationKey2020.generate({seed: 32 bytes of 7}).
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	const wantPub = "z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z"
	const wantPriv = "zruzn3fHkwqAVrY5Pkk375yb1tKt1QFKgKz4nPYWFMn9oFuwcWDdAuk5pwStKCteo7C9HvZt2G26NxAb2jBYtYXAMGF"
	if got := EncodePublicKeyMultibase(priv.Public().(ed25519.PublicKey)); got != wantPub {
		t.Fatalf("publicKeyMultibase = %s, want %s", got, wantPub)
	}
	if got := EncodePrivateKeyMultibase(priv); got != wantPriv {
		t.Fatalf("privateKeyMultibase = %s, want %s", got, wantPriv)
	}
	if back, err := DecodePrivateKeyMultibase(wantPriv); err != nil || !back.Equal(priv) {
		t.Fatalf("DecodePrivateKeyMultibase: %v", err)
	}
	if _, err := DecodePrivateKeyMultibase(wantPub); !errors.Is(err, ErrMultibase) {
		t.Fatalf("public key as private: err = %v", err)
	}
	for _, bad := range []string{"", "z", "u6Mk", "z0OIl", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo"} {
		if _, err := DecodePublicKeyMultibase(bad); !errors.Is(err, ErrMultibase) {
			t.Errorf("DecodePublicKeyMultibase(%q): err = %v", bad, err)
		}
	}
}

func TestParseEvidence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rb, ab, err := f.ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEvidence(rb, ab)
	if err != nil || !bytes.Equal(back.Receipt.Body, f.ev.Receipt.Body) || !bytes.Equal(back.Attestation, f.ev.Attestation) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := Issue(*back, f.options()); err != nil {
		t.Fatalf("issuing from parsed files: %v", err)
	}
	for name, tc := range map[string]struct {
		r, a []byte
		want error
	}{
		"empty receipt":         {nil, ab, ErrReceipt},
		"text receipt":          {[]byte("receipt"), ab, ErrReceipt},
		"truncated receipt":     {rb[:len(rb)-3], ab, ErrReceipt},
		"trailing receipt":      {append(bytes.Clone(rb), 0), ab, ErrReceipt},
		"huge receipt":          {make([]byte, MaxEvidenceFile+1), ab, ErrReceipt},
		"raw document only":     {rb, f.ev.Attestation, ErrAttestation},
		"truncated attestation": {rb, ab[:len(ab)/2], ErrAttestation},
		"swapped files":         {ab, rb, ErrReceipt},
	} {
		t.Run(name, func(t *testing.T) {
			if ev, err := ParseEvidence(tc.r, tc.a); !errors.Is(err, tc.want) || ev != nil {
				t.Fatalf("ParseEvidence = %v, %v; want %v", ev, err, tc.want)
			}
		})
	}
}

// TestBase58 checks what this package adds to internal/base58 (whose tests
// hold the known answers): input is bounded at [maxBase58] characters and
// errors are [ErrMultibase].
func TestBase58(t *testing.T) {
	t.Parallel()
	if d, err := base58Decode(strings.Repeat("1", maxBase58)); err != nil || len(d) != maxBase58 {
		t.Fatalf("%d characters: %x, %v", maxBase58, d, err)
	}
	for _, bad := range []string{strings.Repeat("1", maxBase58+1), "0OIl"} {
		if d, err := base58Decode(bad); d != nil || !errors.Is(err, ErrMultibase) {
			t.Errorf("decode %q = %x, %v; want ErrMultibase", bad, d, err)
		}
	}
}
