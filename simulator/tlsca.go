package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names of a persisted [ServiceCA] inside its directory.
const (
	ServiceCARootFile = "sim-service-ca.pem"     // give this to the enclave as its TLS roots
	ServiceCAKeyFile  = "sim-service-ca-key.pem" // PKCS #8, mode 0600
)

// Lifetimes of the service CA and its server certificates.
const (
	ServiceCALifetime   = 10 * 365 * 24 * time.Hour
	ServiceCertLifetime = 90 * 24 * time.Hour
)

// ServiceDomain is the DNS suffix every simulated AWS endpoint lives under
// ("kms.sim-local-1.amazonaws.com"); the service CA may name nothing else.
const ServiceDomain = SimRegion + ".amazonaws.com"

// ServiceCA is the simulator's TLS authority for its stand-ins of AWS's
// regional endpoints (the simulated KMS and DynamoDB counter). It is a
// separate root from the attestation [CA]: one vouches for enclaves, the
// other for servers the enclave talks to. The enclave trusts it only when
// its pool is passed explicitly (sim-enclave --state-tls-roots); the
// production enclave binary trusts the public roots AWS's endpoints chain
// to and never this one.
//
// The root is name-constrained to [ServiceDomain], so even a leaked service
// CA key cannot vouch for a real AWS endpoint.
type ServiceCA struct {
	root *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewServiceCA makes a fresh ECDSA P-256 root, valid from an hour before now.
func NewServiceCA(rand io.Reader, now time.Time) (*ServiceCA, error) {
	if rand == nil || now.IsZero() {
		return nil, fmt.Errorf("%w: NewServiceCA needs randomness and a non-zero time", ErrCA)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("simulator: service CA key: %w", err)
	}
	serial, err := randomSerial(rand)
	if err != nil {
		return nil, err
	}
	nb := now.Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{simOrg},
			OrganizationalUnit: []string{"NOT FOR PRODUCTION"},
			CommonName:         "simulator service TLS root",
		},
		NotBefore:                   nb,
		NotAfter:                    nb.Add(ServiceCALifetime),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{ServiceDomain},
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("simulator: service CA certificate: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ServiceCA{root: root, key: key}, nil
}

// LoadOrCreateServiceCA loads the service CA saved in dir, or makes one and
// saves it there on first use.
func LoadOrCreateServiceCA(dir string, rand io.Reader, now time.Time) (*ServiceCA, error) {
	if interruptedCreation(filepath.Join(dir, ServiceCARootFile), filepath.Join(dir, ServiceCAKeyFile)) {
		if err := os.Remove(filepath.Join(dir, ServiceCAKeyFile)); err != nil {
			return nil, err
		}
	}
	certPEM, cerr := os.ReadFile(filepath.Join(dir, ServiceCARootFile))
	keyPEM, kerr := os.ReadFile(filepath.Join(dir, ServiceCAKeyFile))
	if errors.Is(cerr, fs.ErrNotExist) && errors.Is(kerr, fs.ErrNotExist) {
		ca, err := NewServiceCA(rand, now)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(ca.key)
		if err != nil {
			return nil, err
		}
		if err := writeNew(filepath.Join(dir, ServiceCAKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		if err := writeNew(filepath.Join(dir, ServiceCARootFile), ca.RootPEM(), 0o644); err != nil {
			return nil, err
		}
		return ca, nil
	}
	if cerr != nil || kerr != nil {
		return nil, fmt.Errorf("%w: service CA in %s: %w", ErrCA, dir, errors.Join(cerr, kerr))
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil || cb.Type != "CERTIFICATE" || kb.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: service CA in %s is not PEM", ErrCA, dir)
	}
	root, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCA, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCA, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(root.PublicKey) {
		return nil, fmt.Errorf("%w: service CA key does not match its certificate", ErrCA)
	}
	return &ServiceCA{root: root, key: key}, nil
}

// Root returns the root certificate.
func (c *ServiceCA) Root() *x509.Certificate { return c.root }

// RootPEM returns the root certificate in PEM.
func (c *ServiceCA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.root.Raw})
}

// Pool returns a pool holding only the root.
func (c *ServiceCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.root)
	return p
}

// ServerCertificate issues a P-256 server certificate for hosts (each under
// [ServiceDomain]), valid from an hour before now for
// [ServiceCertLifetime], ready for tls.Config.Certificates.
func (c *ServiceCA) ServerCertificate(rand io.Reader, now time.Time, hosts ...string) (tls.Certificate, error) {
	if rand == nil || now.IsZero() || len(hosts) == 0 {
		return tls.Certificate{}, fmt.Errorf("%w: a server certificate needs randomness, a time and host names", ErrCA)
	}
	for _, h := range hosts {
		if !strings.HasSuffix(h, "."+ServiceDomain) {
			return tls.Certificate{}, fmt.Errorf("%w: host %q is outside %s", ErrCA, h, ServiceDomain)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := randomSerial(rand)
	if err != nil {
		return tls.Certificate{}, err
	}
	nb := now.Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{simOrg}, CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    nb,
		NotAfter:     nb.Add(ServiceCertLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand, tmpl, c.root, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("simulator: server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ServiceHost is the simulated regional endpoint host of an AWS service:
// "kms" → "kms.sim-local-1.amazonaws.com".
func ServiceHost(service string) string { return service + "." + ServiceDomain }
