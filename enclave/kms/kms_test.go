package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/simulator"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func pcrs(tag byte) map[int][]byte {
	out := map[int][]byte{}
	for i := range 3 {
		v := sha512.Sum384([]byte{tag, byte(i)})
		out[i] = v[:]
	}
	return out
}

type fixture struct {
	ca   *simulator.CA
	sim  *simulator.KMS
	url  string
	key  string // ARN
	pcrs map[int][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca, err := simulator.NewCA(rand.Reader, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.NewKMS(simulator.KMSOptions{Roots: []*x509.Certificate{ca.Root()}, Clock: clock, Rand: rand.Reader, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := pcrs(1)
	arn, err := sim.CreateKey(simulator.KMSPolicy{PCRs: p})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &fixture{ca: ca, sim: sim, url: srv.URL, key: arn, pcrs: p}
}

// service is the enclave's view: its own NSM (with the given measurements)
// and the real AWS SDK client pointed at the simulator's KMS.
func (f *fixture) service(t *testing.T, ca *simulator.CA, measured map[int][]byte) *kms.AWS {
	t.Helper()
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: measured, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := kms.NewRecipient(nsm)
	if err != nil {
		t.Fatal(err)
	}
	client := kms.NewClient(kms.ClientOptions{
		Region:      "sim-local-1",
		Endpoint:    f.url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
	})
	return kms.NewAWS(client, f.key, rcpt, map[string]string{"facesign:purpose": "gallery-state"})
}

func TestDataKeyRoundTrip(t *testing.T) {
	f := newFixture(t)
	svc := f.service(t, f.ca, f.pcrs)
	ctx := context.Background()
	key, wrapped, err := svc.GenerateDataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != kms.DataKeySize || bytes.Contains(wrapped, key) {
		t.Fatalf("key %d bytes; wrapped form contains it: %v", len(key), bytes.Contains(wrapped, key))
	}
	// A restarted enclave (new recipient key, same measurements) unwraps it.
	again, err := f.service(t, f.ca, f.pcrs).Decrypt(ctx, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, key) {
		t.Fatal("unwrapped another key")
	}
	// A restarted simulator (keys from its directory) still unwraps it.
}

func TestPolicyRefusesOtherMeasurements(t *testing.T) {
	f := newFixture(t)
	_, wrapped, err := f.service(t, f.ca, f.pcrs).GenerateDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	other := pcrs(1)
	other[0] = pcrs(2)[0] // a different image: PCR0 differs
	svc := f.service(t, f.ca, other)
	if _, err := svc.Decrypt(context.Background(), wrapped); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("decrypt with another PCR0: %v, want ErrDenied", err)
	}
	if _, _, err := svc.GenerateDataKey(context.Background()); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("generate with another PCR0: %v, want ErrDenied", err)
	}
	// A document from an NSM under another CA (not the trusted root).
	ca2, err := simulator.NewCA(rand.Reader, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.service(t, ca2, f.pcrs).Decrypt(context.Background(), wrapped); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("decrypt under another root: %v, want ErrDenied", err)
	}
	// A debug-mode enclave (all-zero PCRs) matches no policy.
	if _, err := f.service(t, f.ca, nil).Decrypt(context.Background(), wrapped); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("decrypt from a debug enclave: %v, want ErrDenied", err)
	}
}

func TestTamperedWrappedKey(t *testing.T) {
	f := newFixture(t)
	svc := f.service(t, f.ca, f.pcrs)
	_, wrapped, err := svc.GenerateDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 5, len(wrapped) / 2, len(wrapped) - 1} {
		bad := bytes.Clone(wrapped)
		bad[i] ^= 1
		if key, err := svc.Decrypt(context.Background(), bad); err == nil {
			t.Fatalf("byte %d flipped: unwrapped %x", i, key[:4])
		}
	}
	// Another encryption context (another purpose) does not unwrap it.
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: f.ca, PCRs: f.pcrs, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := kms.NewRecipient(nsm)
	if err != nil {
		t.Fatal(err)
	}
	client := kms.NewClient(kms.ClientOptions{Region: "sim-local-1", Endpoint: f.url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")})
	if _, err := kms.NewAWS(client, f.key, rcpt, map[string]string{"facesign:purpose": "other"}).Decrypt(context.Background(), wrapped); err == nil {
		t.Fatal("unwrapped under another encryption context")
	}
}

// TestDecryptSecret: a secret a key administrator encrypted (the counter's
// credentials) opens only inside an enclave the policy names, and only
// under its own encryption context; a data key's ciphertext is not a secret
// of the expected purpose.
func TestDecryptSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	purpose := map[string]string{"facesign:purpose": "counter-credentials"}
	secret := []byte(`{"AccessKeyId":"AKIDCOUNTER","SecretAccessKey":"s3cr3t"}`)
	blob, err := f.sim.Encrypt(f.key, secret, purpose)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, secret[:20]) {
		t.Fatal("ciphertext holds the plaintext")
	}
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: f.ca, PCRs: f.pcrs, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := kms.NewRecipient(nsm)
	if err != nil {
		t.Fatal(err)
	}
	client := kms.NewClient(kms.ClientOptions{Region: "sim-local-1", Endpoint: f.url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")})
	got, err := kms.NewAWS(client, f.key, rcpt, purpose).DecryptSecret(ctx, blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("DecryptSecret = %q, %v", got, err)
	}
	if _, err := kms.NewAWS(client, f.key, rcpt, map[string]string{"facesign:purpose": "gallery-state"}).DecryptSecret(ctx, blob); err == nil {
		t.Fatal("opened under another encryption context")
	}
	other := pcrs(1)
	other[0] = pcrs(2)[0]
	nsm2, err := simulator.NewNSM(simulator.NSMOptions{CA: f.ca, PCRs: other, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	rcpt2, err := kms.NewRecipient(nsm2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kms.NewAWS(client, f.key, rcpt2, purpose).DecryptSecret(ctx, blob); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("another image: %v, want ErrDenied", err)
	}
	if _, err := f.sim.Encrypt(f.key, nil, purpose); err == nil {
		t.Fatal("simulator encrypted an empty plaintext")
	}
}
