package simulator

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/internal/cms"
)

type kmsFixture struct {
	kms  *KMS
	srv  *httptest.Server
	arn  string
	nsm  *NSM
	key  *rsa.PrivateKey
	spki []byte
	dir  string
}

func newKMSFixture(t *testing.T) *kmsFixture {
	t.Helper()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ca, err := NewCA(rand.Reader, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pcr0 := sha512.Sum384([]byte("image"))
	nsm, err := NewNSM(NSMOptions{CA: ca, PCRs: map[int][]byte{0: pcr0[:]}, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	k, err := NewKMS(KMSOptions{Roots: []*x509.Certificate{ca.Root()}, Clock: clock, Rand: rand.Reader, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	arn, err := k.CreateKey(KMSPolicy{PCRs: map[int][]byte{0: pcr0[:]}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return &kmsFixture{kms: k, srv: srv, arn: arn, nsm: nsm, key: key, spki: spki, dir: dir}
}

func (f *kmsFixture) call(t *testing.T, target string, body map[string]any, signed bool) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL, bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if signed {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261122/sim-local-1/kms/aws4_request")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v: %s", target, err, raw)
	}
	return res.StatusCode, out
}

func (f *kmsFixture) recipient(t *testing.T) map[string]any {
	doc, err := f.nsm.Attest(attest.Request{PublicKey: f.spki})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"AttestationDocument": doc, "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
}

func TestKMSProtocol(t *testing.T) {
	f := newKMSFixture(t)
	status, out := f.call(t, "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_256", "Recipient": f.recipient(t)}, true)
	if status != 200 {
		t.Fatalf("GenerateDataKey: %d %v", status, out)
	}
	if _, ok := out["Plaintext"]; ok {
		t.Fatal("plaintext key material in a recipient response")
	}
	var blob, ctfr []byte
	for k, dst := range map[string]*[]byte{"CiphertextBlob": &blob, "CiphertextForRecipient": &ctfr} {
		s, _ := out[k].(string)
		if err := json.Unmarshal([]byte(`"`+s+`"`), dst); err != nil || len(*dst) == 0 {
			t.Fatalf("%s: %v", k, err)
		}
	}
	key, err := cms.Decrypt(ctfr, f.key)
	if err != nil || len(key) != 32 {
		t.Fatalf("CiphertextForRecipient: %v", err)
	}

	// A restarted simulator reads its keys back and decrypts the blob.
	k2, err := NewKMS(KMSOptions{Roots: f.kms.opts.Roots, Clock: f.kms.opts.Clock, Rand: rand.Reader, Dir: f.dir})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(k2)
	defer srv2.Close()
	f2 := *f
	f2.srv = srv2
	status, out = f2.call(t, "TrentService.Decrypt", map[string]any{"CiphertextBlob": blob, "Recipient": f.recipient(t)}, true)
	if status != 200 {
		t.Fatalf("Decrypt after restart: %d %v", status, out)
	}
	s, _ := out["CiphertextForRecipient"].(string)
	if err := json.Unmarshal([]byte(`"`+s+`"`), &ctfr); err != nil {
		t.Fatal(err)
	}
	again, err := cms.Decrypt(ctfr, f.key)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("decrypt after restart: %v", err)
	}
}

func TestKMSRefusals(t *testing.T) {
	f := newKMSFixture(t)
	rcpt := f.recipient(t)
	noKey := f.recipient(t)
	docNoKey, err := f.nsm.Attest(attest.Request{})
	if err != nil {
		t.Fatal(err)
	}
	noKey["AttestationDocument"] = docNoKey
	cases := []struct {
		name   string
		target string
		body   map[string]any
		signed bool
		want   string
	}{
		{"unsigned", "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_256", "Recipient": rcpt}, false, "MissingAuthenticationTokenException"},
		{"no recipient", "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_256"}, true, "AccessDeniedException"},
		{"unknown key", "TrentService.GenerateDataKey", map[string]any{"KeyId": "arn:aws:kms:sim-local-1:000000000000:key/nope", "KeySpec": "AES_256", "Recipient": rcpt}, true, "NotFoundException"},
		{"bad key spec", "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_512", "Recipient": rcpt}, true, "ValidationException"},
		{"document without a key", "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_256", "Recipient": noKey}, true, "ValidationException"},
		{"forged document", "TrentService.GenerateDataKey", map[string]any{"KeyId": f.arn, "KeySpec": "AES_256",
			"Recipient": map[string]any{"AttestationDocument": []byte("not a document"), "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}, true, "AccessDeniedException"},
		{"foreign blob", "TrentService.Decrypt", map[string]any{"CiphertextBlob": []byte("fsk1\x03abc0123456789012345678901234567"), "Recipient": rcpt}, true, "InvalidCiphertextException"},
		{"unknown operation", "TrentService.ScheduleKeyDeletion", map[string]any{"KeyId": f.arn}, true, "UnknownOperationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := f.call(t, c.target, c.body, c.signed)
			if status != http.StatusBadRequest || out["__type"] != c.want {
				t.Fatalf("%d %v, want 400 %s", status, out, c.want)
			}
			if msg, _ := out["message"].(string); strings.TrimSpace(msg) == "" {
				t.Fatal("no message")
			}
		})
	}
}
