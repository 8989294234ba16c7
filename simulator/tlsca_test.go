package simulator_test

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/simulator"
)

func TestServiceCA(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	ca, err := simulator.LoadOrCreateServiceCA(dir, rand.Reader, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := simulator.LoadOrCreateServiceCA(dir, rand.Reader, now)
	if err != nil || !again.Root().Equal(ca.Root()) {
		t.Fatalf("reload: %v", err)
	}
	host := simulator.ServiceHost("kms")
	if host != "kms.sim-local-1.amazonaws.com" {
		t.Fatalf("ServiceHost = %q", host)
	}
	cert, err := again.ServerCertificate(rand.Reader, now, host, simulator.ServiceHost("dynamodb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		roots *x509.CertPool
		host  string
		ok    bool
	}{
		{"own pool, kms", ca.Pool(), host, true},
		{"own pool, dynamodb", ca.Pool(), simulator.ServiceHost("dynamodb"), true},
		{"own pool, other name", ca.Pool(), "s3.sim-local-1.amazonaws.com", false},
		{"system-less empty pool", x509.NewCertPool(), host, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: tc.roots, DNSName: tc.host, CurrentTime: now})
			if (err == nil) != tc.ok {
				t.Fatalf("verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// The root may only vouch for the simulated domain.
	for _, bad := range []string{"kms.eu-west-1.amazonaws.com", "sim-local-1.amazonaws.com.evil"} {
		if _, err := ca.ServerCertificate(rand.Reader, now, bad); !errors.Is(err, simulator.ErrCA) {
			t.Fatalf("issued for %s: %v", bad, err)
		}
	}
	if got := ca.Root().PermittedDNSDomains; len(got) != 1 || got[0] != simulator.ServiceDomain || !ca.Root().PermittedDNSDomainsCritical {
		t.Fatalf("root name constraints %v", got)
	}
	if _, err := simulator.NewServiceCA(rand.Reader, time.Time{}); !errors.Is(err, simulator.ErrCA) {
		t.Fatalf("zero time: %v", err)
	}
}

func TestCountersRequireAccessKey(t *testing.T) {
	// Covered end to end (real SDK client, sealed credentials) in
	// enclave/stateboot; here the refusal of another signer.
	c, err := simulator.NewCounters("")
	if err != nil {
		t.Fatal(err)
	}
	c.RequireAccessKey("AKIAONE")
	for _, tc := range []struct {
		auth string
		code int
	}{
		{"AWS4-HMAC-SHA256 Credential=AKIATWO/20261122/sim-local-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00", 400},
		{"AWS4-HMAC-SHA256 Credential=AKIAONE/20261122/sim-local-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00", 200},
	} {
		rec := doDDB(t, c, tc.auth)
		if rec.Code != tc.code {
			t.Fatalf("%q: %d %s", tc.auth, rec.Code, rec.Body)
		}
	}
}

func doDDB(t *testing.T, h http.Handler, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TableName":"t12","Key":{"id":{"S":"g"}},"ConsistentRead":true}`))
	req.Header.Set("Authorization", auth)
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
