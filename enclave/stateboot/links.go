package stateboot

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/facesign/facesign/enclave"
)

// Links are how the enclave reaches the outside: the parent's egress relays
// to KMS and DynamoDB, and the parent's host services. They carry only
// ciphertext (TLS to AWS, sealed records) or data the enclave checks, so
// they need no confidentiality of their own. [Nitro] returns the production
// links; the simulator passes unix sockets and its own TLS roots.
type Links struct {
	// KMS and DynamoDB dial the parent's egress relays, each of which
	// forwards bytes to one fixed upstream. Required.
	KMS, DynamoDB enclave.Dialer
	// Host dials the parent's host services that serve the instance
	// credentials, the sealed counter credentials and the snapshots.
	// Required.
	Host enclave.Dialer
	// Roots are the TLS trust anchors for the AWS endpoints; nil means
	// [AWSRoots]. The enclave has no system trust store.
	Roots *x509.CertPool
	// Logger receives boot progress (never credentials or key material);
	// nil discards.
	Logger *slog.Logger
}

// Nitro returns the production links: the egress relays at vsock CID
// [enclave.ParentCID] ports [enclave.KMSEgressPort] and
// [enclave.DynamoDBEgressPort], the host services at port
// [enclave.HostServicesPort], and the public roots of [AWSRoots].
func Nitro(log *slog.Logger) Links {
	vs := func(port uint32) enclave.Dialer {
		return enclave.Endpoint{Network: "vsock", CID: enclave.ParentCID, Port: port}.Dialer()
	}
	return Links{
		KMS:      vs(enclave.KMSEgressPort),
		DynamoDB: vs(enclave.DynamoDBEgressPort),
		Host:     vs(enclave.HostServicesPort),
		Logger:   log,
	}
}

// AWSRoots returns the public root certificates AWS's endpoints chain to:
// the Mozilla-derived bundle of golang.org/x/crypto/x509roots/fallback,
// compiled into the binary (and so measured with it). Constrained roots
// keep their constraints.
var AWSRoots = sync.OnceValue(func() *x509.CertPool {
	p := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			continue // the bundle is generated from parsed certificates
		}
		if c.Constraint == nil {
			p.AddCert(cert)
		} else {
			p.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	return p
})

// ErrTLS reports a TLS handshake with an AWS endpoint that failed: the
// certificate does not chain to the roots or does not name the endpoint.
// Through an egress relay this is what a parent that tries to answer
// itself (or to read the traffic) gets.
var ErrTLS = errors.New("stateboot: TLS to the AWS endpoint failed")

// errPlainHTTP refuses a request that would leave in the clear.
var errPlainHTTP = errors.New("stateboot: refusing plain HTTP to an AWS endpoint")

// httpsVia returns an HTTP client whose every connection goes to the relay
// dial and runs TLS to endpoint's host inside the enclave, verified against
// roots. A request for any other host is refused: the relay forwards to one
// upstream only, and the enclave does not talk to hosts it was not
// configured for.
func httpsVia(dial enclave.Dialer, endpoint string, roots *x509.CertPool) (*http.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return nil, bad("endpoint", "%q: want https://HOST", endpoint)
	}
	host := u.Hostname()
	tr := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errPlainHTTP },
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			h, _, err := net.SplitHostPort(addr)
			if err != nil || h != host {
				return nil, fmt.Errorf("%w: %q is not %s, the relay's upstream", ErrTLS, addr, host)
			}
			raw, err := dial(ctx)
			if err != nil {
				return nil, fmt.Errorf("stateboot: egress relay for %s: %w", host, err)
			}
			tc := tls.Client(raw, &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, fmt.Errorf("%w: %s: %w", ErrTLS, host, err)
			}
			return tc, nil
		},
		TLSHandshakeTimeout:    15 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		MaxIdleConns:           4,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// hostClient is a plain HTTP/1.1 client over the host-services dialer (the
// answers are checked, not trusted).
func hostClient(dial enclave.Dialer) *http.Client {
	tr := &http.Transport{
		DialContext:            func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:           2,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
