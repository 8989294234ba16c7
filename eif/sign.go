package eif

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/facesign/facesign/internal/cborenc"
)

// COSE algorithm identifiers nitro-cli's signer picks from the key's curve.
const (
	algES256 = -7
	algES384 = -35
	algES512 = -36
)

// maxSignatureSection bounds the signature section read into memory.
const maxSignatureSection = 1 << 20

// Signer signs images the way nitro-cli does: one COSE_Sign1 over PCR0 with
// an ECDSA key whose certificate is stored, PEM-encoded, in the signature
// section. Signatures are deterministic (RFC 6979), so signing the same image
// with the same key gives the same bytes.
type Signer struct {
	certPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// NewSigner parses a PEM certificate and its PEM private key (SEC 1 "EC
// PRIVATE KEY" or PKCS #8). The key must be ECDSA on P-256, P-384 or P-521
// (P-384 is what Nitro tooling documents) and must match the certificate.
// The certificate bytes are stored in the image exactly as given.
func NewSigner(certPEM, keyPEM []byte) (*Signer, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %w", ErrInput, err)
	}
	key, err := parseECKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: %w", ErrInput, err)
	}
	if _, _, err := curveParams(key.Curve); err != nil {
		return nil, fmt.Errorf("%w: signing key: %w", ErrInput, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%w: signing key does not match the certificate", ErrInput)
	}
	return &Signer{certPEM: bytes.Clone(certPEM), cert: cert, key: key}, nil
}

// Certificate returns the signing certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// PCR8 returns the PCR8 value images signed by s carry.
func (s *Signer) PCR8() PCR { return Extend(s.cert.Raw) }

// section returns the encoded signature section for an image with PCR0 pcr0.
func (s *Signer) section(pcr0 PCR) ([]byte, error) {
	alg, hashFn, err := curveParams(s.key.Curve)
	if err != nil {
		return nil, err
	}
	protected := appendInt(cborenc.AppendHead(nil, majorMap, 1), 1)
	protected = appendInt(protected, int64(alg))
	payload := pcrPayload(0, pcr0[:])
	digest := hashSum(hashFn, cborenc.SigStructure1(protected, payload))
	der, err := s.key.Sign(nil, digest, hashFn) // nil rand: RFC 6979
	if err != nil {
		return nil, fmt.Errorf("eif: signing: %w", err)
	}
	raw, err := derToRaw(der, (s.key.Curve.Params().BitSize+7)/8)
	if err != nil {
		return nil, err
	}
	// COSE_Sign1, untagged: [protected bstr, unprotected {}, payload bstr, signature bstr].
	cose := cborenc.AppendHead(nil, majorArray, 4)
	cose = cborenc.AppendBytes(cose, protected)
	cose = cborenc.AppendHead(cose, majorMap, 0)
	cose = cborenc.AppendBytes(cose, payload)
	cose = cborenc.AppendBytes(cose, raw)

	// [{ "signing_certificate": [u8...], "signature": [u8...] }] — serde_cbor
	// encodes Rust Vec<u8> as an array of small integers, not a byte string.
	out := cborenc.AppendHead(nil, majorArray, 1)
	out = cborenc.AppendHead(out, majorMap, 2)
	out = cborenc.AppendText(out, "signing_certificate")
	out = appendU8Array(out, s.certPEM)
	out = cborenc.AppendText(out, "signature")
	out = appendU8Array(out, cose)
	return out, nil
}

// Signature is a decoded signature section (its first PCR signature, the
// only one nitro-cli writes or reads).
type Signature struct {
	CertificatePEM []byte            // as stored in the image
	Certificate    *x509.Certificate // parsed from CertificatePEM
	COSESign1      []byte            // the serialized COSE_Sign1
	Algorithm      int64             // COSE alg from the protected header
	Payload        []byte            // the signed payload: CBOR {register_index, register_value}

	protected []byte
	sig       []byte
}

// PCR8 is SHA-384(zero48 ‖ SHA-384(certificate DER)).
func (s *Signature) PCR8() PCR { return Extend(s.Certificate.Raw) }

// check verifies the COSE signature under the certificate's key and that the
// payload is PCR0 of the image; it does not look at the certificate's dates.
func (s *Signature) check(pcr0 PCR) error {
	pub, ok := s.Certificate.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is not ECDSA", ErrSignatureFormat)
	}
	alg, hashFn, err := curveParams(pub.Curve)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignatureFormat, err)
	}
	if s.Algorithm != int64(alg) {
		return fmt.Errorf("%w: COSE alg %d does not match the certificate's curve", ErrSignatureInvalid, s.Algorithm)
	}
	n := (pub.Curve.Params().BitSize + 7) / 8
	if len(s.sig) != 2*n {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrSignatureInvalid, len(s.sig), 2*n)
	}
	r := new(big.Int).SetBytes(s.sig[:n])
	sv := new(big.Int).SetBytes(s.sig[n:])
	digest := hashSum(hashFn, cborenc.SigStructure1(s.protected, s.Payload))
	if !ecdsa.Verify(pub, digest, r, sv) {
		return ErrSignatureInvalid
	}
	if !bytes.Equal(s.Payload, pcrPayload(0, pcr0[:])) {
		return ErrSignatureMismatch
	}
	return nil
}

// Verify checks the signature against PCR0 and that the certificate is valid
// at now, as nitro-cli does before it runs a signed image. It does not build
// a chain: which certificates (or PCR8 values) to trust is the caller's
// policy. A zero now is an error.
func (s *Signature) Verify(pcr0 PCR, now time.Time) error {
	if now.IsZero() {
		return fmt.Errorf("%w: zero verification time", ErrInput)
	}
	if err := s.check(pcr0); err != nil {
		return err
	}
	if now.Before(s.Certificate.NotBefore) || now.After(s.Certificate.NotAfter) {
		return fmt.Errorf("%w: valid %s to %s, checked at %s", ErrCertificateTime,
			s.Certificate.NotBefore.UTC().Format(time.RFC3339), s.Certificate.NotAfter.UTC().Format(time.RFC3339),
			now.UTC().Format(time.RFC3339))
	}
	return nil
}

// u8seq decodes a Rust Vec<u8> as serde_cbor writes it (an array of
// integers 0..255); a CBOR byte string is accepted too.
type u8seq []byte

func (u *u8seq) UnmarshalCBOR(data []byte) error {
	if len(data) == 0 {
		return errors.New("empty")
	}
	switch data[0] >> 5 {
	case majorBytes:
		var b []byte
		if err := sigDecMode.Unmarshal(data, &b); err != nil {
			return err
		}
		*u = b
		return nil
	case majorArray:
		var ints []uint64
		if err := sigDecMode.Unmarshal(data, &ints); err != nil {
			return err
		}
		b := make([]byte, len(ints))
		for i, v := range ints {
			if v > 255 {
				return fmt.Errorf("array element %d is %d, not a byte", i, v)
			}
			b[i] = byte(v)
		}
		*u = b
		return nil
	}
	return fmt.Errorf("CBOR major type %d is neither an array nor a byte string", data[0]>>5)
}

type pcrSignatureWire struct {
	SigningCertificate u8seq `cbor:"signing_certificate"`
	Signature          u8seq `cbor:"signature"`
}

type coseSign1Wire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

var sigDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxArrayElements: maxSignatureSection,
		MaxMapPairs:      64,
		MaxNestedLevels:  8,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// decodeSignature decodes a signature section.
func decodeSignature(b []byte) (*Signature, error) {
	var entries []pcrSignatureWire
	if err := sigDecMode.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignatureFormat, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: no PCR signature", ErrSignatureFormat)
	}
	e := entries[0]
	cert, err := parseCertPEM(e.SigningCertificate)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %w", ErrSignatureFormat, err)
	}
	cose := []byte(e.Signature)
	if len(cose) > 0 && cose[0] == 0xd2 { // tag 18 (COSE_Sign1), optional
		cose = cose[1:]
	}
	var w coseSign1Wire
	if err := sigDecMode.Unmarshal(cose, &w); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrSignatureFormat, err)
	}
	if w.Payload == nil || w.Signature == nil {
		return nil, fmt.Errorf("%w: COSE_Sign1 without payload or signature", ErrSignatureFormat)
	}
	var hdr map[int64]cbor.RawMessage
	if err := sigDecMode.Unmarshal(w.Protected, &hdr); err != nil {
		return nil, fmt.Errorf("%w: COSE protected header: %w", ErrSignatureFormat, err)
	}
	var alg int64
	if raw, ok := hdr[1]; !ok {
		return nil, fmt.Errorf("%w: COSE protected header has no alg", ErrSignatureFormat)
	} else if err := sigDecMode.Unmarshal(raw, &alg); err != nil {
		return nil, fmt.Errorf("%w: COSE alg: %w", ErrSignatureFormat, err)
	}
	return &Signature{
		CertificatePEM: bytes.Clone(e.SigningCertificate),
		Certificate:    cert,
		COSESign1:      bytes.Clone(e.Signature),
		Algorithm:      alg,
		Payload:        w.Payload,
		protected:      w.Protected,
		sig:            w.Signature,
	}, nil
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseECKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM private key block")
		}
		switch block.Type {
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("PKCS #8 key is %T, not ECDSA", k)
			}
			return ek, nil
		case "EC PARAMETERS":
			continue // openssl ecparam -genkey writes this block first
		default:
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
	}
}

func curveParams(c elliptic.Curve) (alg int, h crypto.Hash, err error) {
	switch c {
	case elliptic.P256():
		return algES256, crypto.SHA256, nil
	case elliptic.P384():
		return algES384, crypto.SHA384, nil
	case elliptic.P521():
		return algES512, crypto.SHA512, nil
	}
	return 0, 0, fmt.Errorf("unsupported curve %s", c.Params().Name)
}

func hashSum(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(b)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(b)
		return d[:]
	default:
		d := sha512.Sum512(b)
		return d[:]
	}
}

func derToRaw(der []byte, n int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("eif: decoding ECDSA signature: %v", err)
	}
	out := make([]byte, 2*n)
	sig.R.FillBytes(out[:n])
	sig.S.FillBytes(out[n:])
	return out, nil
}

// pcrPayload is serde_cbor's encoding of nitro-cli's PcrInfo{register_index: i32, register_value: Vec<u8>}.
func pcrPayload(index int64, value []byte) []byte {
	b := cborenc.AppendHead(nil, majorMap, 2)
	b = cborenc.AppendText(b, "register_index")
	b = appendInt(b, index)
	b = cborenc.AppendText(b, "register_value")
	return appendU8Array(b, value)
}

// Minimal deterministic CBOR encoding (RFC 8949 preferred serialization).
const (
	majorUint  = cborenc.MajorUint
	majorNeg   = cborenc.MajorNeg
	majorBytes = cborenc.MajorBytes
	majorText  = cborenc.MajorText
	majorArray = cborenc.MajorArray
	majorMap   = cborenc.MajorMap
)

func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return cborenc.AppendHead(b, majorUint, uint64(v))
	}
	return cborenc.AppendHead(b, majorNeg, uint64(-1-v))
}

func appendU8Array(b, v []byte) []byte {
	b = cborenc.AppendHead(b, majorArray, uint64(len(v)))
	for _, x := range v {
		b = cborenc.AppendHead(b, majorUint, uint64(x))
	}
	return b
}
