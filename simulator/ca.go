package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// File names of a persisted [CA] inside its directory.
const (
	CARootFile = "sim-root.pem"     // the root certificate (give this to verifiers)
	CAKeyFile  = "sim-root-key.pem" // its PKCS #8 private key, mode 0600
)

// Lifetimes of the simulated chain, shaped like the AWS Nitro chain.
const (
	RootLifetime     = 30 * 365 * 24 * time.Hour // AWS root: 2019-10-28..2049-10-28
	RegionalLifetime = 481 * time.Hour           // AWS regional CA: ~20 days
	ZonalLifetime    = 144*time.Hour - time.Second
	InstanceLifetime = 24 * time.Hour
	LeafLifetime     = 3 * time.Hour // the NSM's per-document signing certificate
)

// SimRegion stands where the AWS region appears in certificate names.
const SimRegion = "sim-local-1"

// simOrg marks every simulator certificate; no AWS certificate carries it.
const simOrg = "FaceSign Simulator"

// ErrCA reports an unusable CA directory or file.
var ErrCA = errors.New("simulator: invalid CA")

// CA is the simulator's root of trust: a self-signed ECDSA P-384 root that
// plays the part of the AWS Nitro Enclaves root. It is not the AWS root, so
// attest.Verify rejects its documents unless the caller lists [CA.Root] in
// attest.VerifyOptions.Roots.
type CA struct {
	root *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a fresh root valid from an hour before now for
// [RootLifetime]. Randomness comes from rand (serial number; since Go 1.26
// crypto/ecdsa draws key and signature randomness from the system source
// regardless).
func NewCA(rand io.Reader, now time.Time) (*CA, error) {
	if rand == nil || now.IsZero() {
		return nil, fmt.Errorf("%w: NewCA needs randomness and a non-zero time", ErrCA)
	}
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand)
	if err != nil {
		return nil, fmt.Errorf("simulator: root key: %w", err)
	}
	serial, err := randomSerial(rand)
	if err != nil {
		return nil, err
	}
	nb := now.Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country:            []string{"US"},
			Organization:       []string{simOrg},
			OrganizationalUnit: []string{"NOT FOR PRODUCTION"},
			CommonName:         "simulator.nitro-enclaves",
		},
		NotBefore:             nb,
		NotAfter:              nb.Add(RootLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            -1,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("simulator: root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{root: root, key: key}, nil
}

// LoadCA reads a CA saved by [CA.Save] from dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CARootFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s is not a PEM certificate", ErrCA, CARootFile)
	}
	root, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCA, CARootFile, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s is not a PEM private key", ErrCA, CAKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCA, CAKeyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P384() || !key.PublicKey.Equal(root.PublicKey) {
		return nil, fmt.Errorf("%w: %s does not hold the root's P-384 key", ErrCA, CAKeyFile)
	}
	if !root.IsCA || root.CheckSignatureFrom(root) != nil {
		return nil, fmt.Errorf("%w: %s is not a self-signed CA certificate", ErrCA, CARootFile)
	}
	return &CA{root: root, key: key}, nil
}

// LoadOrCreateCA loads the CA in dir, or, when dir holds none, makes one
// with [NewCA] and saves it there, so a restarted simulator keeps the root
// its verifiers trust. A half-present or corrupt CA is an error, never
// silently replaced.
func LoadOrCreateCA(dir string, rand io.Reader, now time.Time) (*CA, error) {
	if interruptedCreation(filepath.Join(dir, CARootFile), filepath.Join(dir, CAKeyFile)) {
		if err := os.Remove(filepath.Join(dir, CAKeyFile)); err != nil {
			return nil, err
		}
	}
	_, errCert := os.Stat(filepath.Join(dir, CARootFile))
	_, errKey := os.Stat(filepath.Join(dir, CAKeyFile))
	if errors.Is(errCert, fs.ErrNotExist) && errors.Is(errKey, fs.ErrNotExist) {
		ca, err := NewCA(rand, now)
		if err != nil {
			return nil, err
		}
		if err := ca.Save(dir); err != nil {
			return nil, err
		}
		return ca, nil
	}
	return LoadCA(dir)
}

// Save writes the root certificate and (mode 0600) its key into dir,
// creating dir (mode 0700) if needed. Existing files are not overwritten.
func (ca *CA) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(filepath.Join(dir, CAKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return writeNew(filepath.Join(dir, CARootFile), ca.RootPEM(), 0o644)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	// Written whole under a temporary name, then linked into place: a
	// process killed meanwhile leaves no partial file at path, and the
	// link fails if path exists (nothing is overwritten).
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(tmp, path)
}

// interruptedCreation reports a CA directory where a creation was cut short:
// the key was written and the root, always written last and the only part
// ever handed out, was not. Nothing can have used such a key, so the caller
// may remove it and create the CA again. Only one process creates a data
// directory's CAs at a time (the parent, before it starts anything else).
func interruptedCreation(rootPath, keyPath string) bool {
	_, errRoot := os.Stat(rootPath)
	_, errKey := os.Stat(keyPath)
	return errors.Is(errRoot, fs.ErrNotExist) && errKey == nil
}

// Root returns the root certificate: the trust anchor a verifier must pass
// explicitly to accept simulator documents.
func (ca *CA) Root() *x509.Certificate { return ca.root }

// RootPEM returns the root certificate in PEM.
func (ca *CA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw})
}

// issued is a certificate with its private key.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue signs a new P-384 certificate under parent.
func issue(rand io.Reader, parent issued, tmpl *x509.Certificate) (issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand)
	if err != nil {
		return issued{}, err
	}
	if tmpl.SerialNumber, err = randomSerial(rand); err != nil {
		return issued{}, err
	}
	der, err := x509.CreateCertificate(rand, tmpl, parent.cert, &key.PublicKey, parent.key)
	if err != nil {
		return issued{}, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return issued{}, err
	}
	return issued{cert: c, key: key}, nil
}

// randomSerial returns a positive 128-bit serial number.
func randomSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("simulator: randomness: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40
	return new(big.Int).SetBytes(b), nil
}
