package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/facesign/facesign/internal/cborenc"
)

// Document is a verified attestation document. [Verify] returns one only
// when every check passed; all byte slices are the caller's own copies.
type Document struct {
	// ModuleID identifies the enclave, e.g. "i-04fd167167daacf3b-enc01845e97d0b3eb4e".
	ModuleID string
	// Digest names the PCR hash function; always "SHA384".
	Digest string
	// Timestamp is when the security module made the document (millisecond
	// precision, UTC).
	Timestamp time.Time
	// PCRs maps each PCR index present in the document to its value.
	PCRs map[int][]byte
	// Certificate is the signing (leaf) certificate.
	Certificate *x509.Certificate
	// CABundle is the chain above Certificate, root first, as in the document.
	CABundle []*x509.Certificate
	// PublicKey, UserData and Nonce are nil when the document carried null.
	PublicKey []byte
	UserData  []byte
	Nonce     []byte
}

// VerifyOptions says what a document must satisfy. Exactly one of
// CurrentTime and AtDocumentTime must be set.
type VerifyOptions struct {
	// Roots are the trusted root certificates; the cabundle's first
	// certificate must be byte-for-byte one of them. Nil means the embedded
	// AWS Nitro root ([AWSNitroRoot]) alone. Pass the simulator's root here
	// — and only in tests or the simulator — to accept simulator documents.
	Roots []*x509.Certificate
	// CurrentTime is the time the certificate chain must be valid at,
	// normally the verifier's clock. A zero time is an error unless
	// AtDocumentTime is set.
	CurrentTime time.Time
	// AtDocumentTime verifies the chain at the document's own timestamp
	// instead: for archived documents and tests. It proves the document was
	// genuine when made, not that it is fresh.
	AtDocumentTime bool
	// Nonce, when non-nil, must equal the document's nonce byte for byte.
	// An empty non-nil Nonce is an error.
	Nonce []byte
	// PCRs, when non-empty, is a policy: each index (0..31) must be present
	// in the document with exactly this value (32, 48 or 64 bytes).
	PCRs map[int][]byte
	// AllowDebug accepts documents whose PCR0 is all zero (debug-mode
	// enclaves, whose memory the parent can read). Never set it in
	// production.
	AllowDebug bool
}

// Verify checks an attestation document (untagged or tag-18 COSE_Sign1
// from the Nitro Security Module) and returns its verified contents. The
// steps, each with its own error: options ([ErrOptions]), COSE structure
// ([ErrCOSE]), ES384 header ([ErrAlgorithm]), payload fields
// ([ErrPayload]), certificates ([ErrCertificate]), root ([ErrUntrustedRoot]),
// chain ([ErrChain]), validity at the verification time ([ErrExpired]),
// signature ([ErrSignature]), debug mode ([ErrDebugEnclave]), nonce
// ([ErrNonce]) and PCR policy ([ErrPCR]). It never returns a Document
// together with an error.
func Verify(doc []byte, opts VerifyOptions) (*Document, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	msg, err := parseSign1(doc)
	if err != nil {
		return nil, err
	}
	p, err := parsePayload(msg.payload)
	if err != nil {
		return nil, err
	}
	leaf, bundle, err := parseCerts(p)
	if err != nil {
		return nil, err
	}
	ts := time.UnixMilli(int64(p.timestamp)).UTC()
	at := opts.CurrentTime
	if opts.AtDocumentTime {
		at = ts
	}
	roots := opts.Roots
	if roots == nil {
		roots = []*x509.Certificate{awsNitroRoot}
	}
	if err := verifyChain(leaf, bundle, roots, at); err != nil {
		return nil, err
	}
	if err := verifySignature(leaf, msg); err != nil {
		return nil, err
	}
	if ts.Before(leaf.NotBefore) || ts.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: document time %s outside the signing certificate's validity %s..%s",
			ErrExpired, ts.Format(time.RFC3339Nano), leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	if pcr0 := p.pcrs[0]; !opts.AllowDebug && allZero(pcr0) {
		return nil, ErrDebugEnclave
	}
	if opts.Nonce != nil && !bytes.Equal(opts.Nonce, p.nonce) {
		return nil, fmt.Errorf("%w: document nonce %x, want %x", ErrNonce, p.nonce, opts.Nonce)
	}
	for i, want := range opts.PCRs {
		got, ok := p.pcrs[i]
		if !ok {
			return nil, fmt.Errorf("%w: PCR%d not in document", ErrPCR, i)
		}
		if !bytes.Equal(got, want) {
			return nil, fmt.Errorf("%w: PCR%d is %x, want %x", ErrPCR, i, got, want)
		}
	}
	return &Document{
		ModuleID:    p.moduleID,
		Digest:      p.digest,
		Timestamp:   ts,
		PCRs:        p.pcrs,
		Certificate: leaf,
		CABundle:    bundle,
		PublicKey:   p.publicKey,
		UserData:    p.userData,
		Nonce:       p.nonce,
	}, nil
}

func checkOptions(o *VerifyOptions) error {
	switch {
	case o.AtDocumentTime && !o.CurrentTime.IsZero():
		return fmt.Errorf("%w: both CurrentTime and AtDocumentTime are set", ErrOptions)
	case !o.AtDocumentTime && o.CurrentTime.IsZero():
		return fmt.Errorf("%w: no verification time (set CurrentTime or AtDocumentTime)", ErrOptions)
	case o.Nonce != nil && len(o.Nonce) == 0:
		return fmt.Errorf("%w: empty expected nonce", ErrOptions)
	case len(o.Nonce) > MaxFieldSize:
		return fmt.Errorf("%w: expected nonce of %d bytes exceeds %d", ErrOptions, len(o.Nonce), MaxFieldSize)
	}
	if o.Roots != nil && len(o.Roots) == 0 {
		return fmt.Errorf("%w: empty root list", ErrOptions)
	}
	for _, r := range o.Roots {
		if r == nil {
			return fmt.Errorf("%w: nil root certificate", ErrOptions)
		}
	}
	for i, v := range o.PCRs {
		if i < 0 || i >= MaxPCRs {
			return fmt.Errorf("%w: PCR index %d out of range 0..%d", ErrOptions, i, MaxPCRs-1)
		}
		if n := len(v); n != 32 && n != 48 && n != 64 {
			return fmt.Errorf("%w: PCR%d policy value is %d bytes, want 32, 48 or 64", ErrOptions, i, n)
		}
	}
	return nil
}

// parseCerts parses the leaf and the cabundle and checks that the leaf is an
// end-entity certificate for an ECDSA P-384 signing key.
func parseCerts(p *payload) (*x509.Certificate, []*x509.Certificate, error) {
	leaf, err := x509.ParseCertificate(p.certificate)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signing certificate: %v", ErrCertificate, err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P384() {
		return nil, nil, fmt.Errorf("%w: signing certificate key is not ECDSA P-384", ErrCertificate)
	}
	if leaf.IsCA {
		return nil, nil, fmt.Errorf("%w: signing certificate is a CA certificate", ErrCertificate)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, nil, fmt.Errorf("%w: signing certificate does not allow digital signatures", ErrCertificate)
	}
	bundle := make([]*x509.Certificate, len(p.cabundle))
	for i, der := range p.cabundle {
		if bundle[i], err = x509.ParseCertificate(der); err != nil {
			return nil, nil, fmt.Errorf("%w: cabundle[%d]: %v", ErrCertificate, i, err)
		}
	}
	return leaf, bundle, nil
}

// verifyChain checks leaf ← bundle[n-1] ← … ← bundle[1] ← bundle[0], with
// bundle[0] one of roots, every certificate valid at t, and the path
// accepted by crypto/x509 (CA flags, key usage, path length, critical
// extensions).
func verifyChain(leaf *x509.Certificate, bundle, roots []*x509.Certificate, t time.Time) error {
	var root *x509.Certificate
	for _, r := range roots {
		if r.Equal(bundle[0]) {
			root = r
			break
		}
	}
	if root == nil {
		return fmt.Errorf("%w: cabundle root %q is not a trusted root", ErrUntrustedRoot, bundle[0].Subject)
	}
	// The path the document claims: leaf first, root last.
	path := make([]*x509.Certificate, 0, len(bundle)+1)
	path = append(path, leaf)
	for i := len(bundle) - 1; i >= 0; i-- {
		path = append(path, bundle[i])
	}
	inter := x509.NewCertPool()
	for _, c := range bundle[1:] {
		inter.AddCert(c)
	}
	rootPool := x509.NewCertPool()
	rootPool.AddCert(root)
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: inter,
		CurrentTime:   t,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		for _, c := range chains {
			if samePath(c, path) {
				return nil
			}
		}
		return fmt.Errorf("%w: the verified path does not follow the cabundle", ErrChain)
	}
	// Diagnose the failure link by link so the caller gets a precise class.
	for i := 0; i+1 < len(path); i++ {
		if err := path[i].CheckSignatureFrom(path[i+1]); err != nil {
			return fmt.Errorf("%w: %q is not issued by %q: %v", ErrChain, path[i].Subject, path[i+1].Subject, err)
		}
	}
	for _, c := range path {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return fmt.Errorf("%w: %q is valid %s..%s, not at %s", ErrExpired, c.Subject,
				c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), t.Format(time.RFC3339))
		}
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return fmt.Errorf("%w: %v", ErrExpired, err)
	}
	return fmt.Errorf("%w: %v", ErrChain, err)
}

func samePath(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func verifySignature(leaf *x509.Certificate, msg *coseSign1) error {
	pub := leaf.PublicKey.(*ecdsa.PublicKey) // checked by parseCerts
	h := sha512.Sum384(cborenc.SigStructure1(msg.protected, msg.payload))
	r := new(big.Int).SetBytes(msg.signature[:es384SigSize/2])
	s := new(big.Int).SetBytes(msg.signature[es384SigSize/2:])
	if !ecdsa.Verify(pub, h[:], r, s) {
		return ErrSignature
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
