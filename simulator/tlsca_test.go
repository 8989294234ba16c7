package simulator_test

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
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
