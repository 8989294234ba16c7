package credential

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave/wire"
)

// Evidence is what an issuer is shown before minting: the enclave's signed
// receipt, the binding it is checked against, and the attestation document
// that commits to that binding.
type Evidence struct {
	// Attestation is the enclave's attestation document (COSE_Sign1, as the
	// NSM emits it) whose user_data is SHA-256 of Binding.
	Attestation []byte
	// Binding carries the receipt signing key and the policy.
	Binding wire.Binding
	// Receipt is the enclave's signed statement about one request.
	Receipt wire.SignedReceipt
}

// ReceiptFile is the file a client saves for an issuer after enrolling or
// logging in: the binding (from the attestation endpoint) and the signed
// receipt, in the project's canonical CBOR ([wire.Marshal]). The attestation
// document travels in its own file.
type ReceiptFile struct {
	Binding wire.Binding       `cbor:"binding"`
	Receipt wire.SignedReceipt `cbor:"receipt"`
}

// MaxEvidenceFile bounds receipt and attestation files.
const MaxEvidenceFile = 64 << 10

// Marshal encodes f with deterministic CBOR.
func (f ReceiptFile) Marshal() ([]byte, error) { return wire.Marshal(f) }

// ParseReceiptFile decodes a receipt file strictly (no unknown fields,
// duplicate keys, tags or indefinite lengths).
func ParseReceiptFile(b []byte) (*ReceiptFile, error) {
	if len(b) > MaxEvidenceFile {
		return nil, fmt.Errorf("%w: receipt file of %d bytes", ErrReceipt, len(b))
	}
	var f ReceiptFile
	if err := wire.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: receipt file: %v", ErrReceipt, err)
	}
	return &f, nil
}

// DecodeAttestationFile accepts an attestation document as raw CBOR bytes or
// as base64 text (standard or URL alphabet, as HTTP APIs carry it).
func DecodeAttestationFile(b []byte) ([]byte, error) {
	if len(b) > MaxEvidenceFile {
		return nil, fmt.Errorf("%w: attestation file of %d bytes", ErrAttestation, len(b))
	}
	t := bytes.TrimSpace(b)
	if len(t) > 0 && (t[0] == 0x84 || t[0] == 0xd2) { // CBOR array(4) or tag 18
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(string(t)); err == nil {
			return d, nil
		}
	}
	return b, nil
}

// EvidencePolicy is what the issuer requires of evidence.
type EvidencePolicy struct {
	// Attestation verifies the document: trusted roots (nil: the AWS Nitro
	// root), the verification time, and the PCR pins, which are required —
	// without them any enclave image, the operator's own included, could
	// sign receipts.
	Attestation attest.VerifyOptions
	// PolicyHash, when set, pins the SHA-256 of the enclave policy.
	PolicyHash []byte
	// Now is the issuer's time; receipts issued more than [ReceiptClockSkew]
	// after it are refused.
	Now time.Time
	// MaxReceiptAge, when positive, refuses receipts older than this at Now.
	MaxReceiptAge time.Duration
}

// ReceiptClockSkew is how far in the future of the issuer's clock a receipt
// may be dated (the enclave's and the issuer's clocks differ).
const ReceiptClockSkew = 5 * time.Minute

// VerifyEvidence checks, in order: the attestation document with
// attest.Verify under p.Attestation ([ErrAttestation]); that its user_data is
// SHA-256 of the canonical binding, and the policy pin ([ErrBinding]); the
// receipt's Ed25519 signature by the binding's receipt key and its policy
// hash (wire.SignedReceipt.Open), its status (new or existing: a live,
// enrolled person), its unique ID (a UUID) and its time ([ErrReceipt]). It
// returns the receipt only when everything holds.
func VerifyEvidence(ev Evidence, p EvidencePolicy) (*wire.Receipt, error) {
	if p.Now.IsZero() {
		return nil, fmt.Errorf("%w: zero issuer time", ErrOptions)
	}
	if len(p.Attestation.PCRs) == 0 {
		return nil, fmt.Errorf("%w: no PCR pins: the enclave image must be pinned", ErrOptions)
	}
	doc, err := attest.Verify(ev.Attestation, p.Attestation)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestation, err)
	}
	bh, err := ev.Binding.Hash()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBinding, err)
	}
	if !bytes.Equal(doc.UserData, bh[:]) {
		return nil, fmt.Errorf("%w: user_data %x, SHA-256 of the binding %x", ErrBinding, doc.UserData, bh)
	}
	if p.PolicyHash != nil {
		ph, err := ev.Binding.Policy.Hash()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBinding, err)
		}
		if !bytes.Equal(ph[:], p.PolicyHash) {
			return nil, fmt.Errorf("%w: policy %x, pinned %x", ErrBinding, ph, p.PolicyHash)
		}
	}
	r, err := ev.Receipt.Open(ev.Binding)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	if r.Status != wire.StatusNew && r.Status != wire.StatusExisting {
		return nil, fmt.Errorf("%w: status %q, want %q or %q", ErrReceipt, r.Status, wire.StatusNew, wire.StatusExisting)
	}
	if !canonicalUUID(r.UniqueID) {
		return nil, fmt.Errorf("%w: unique_id %q is not a lower-case UUID", ErrReceipt, r.UniqueID)
	}
	at := r.IssuedAt()
	if r.IssuedAtMS <= 0 || at.After(p.Now.Add(ReceiptClockSkew)) {
		return nil, fmt.Errorf("%w: issued at %s, issuer time %s", ErrReceipt, at.Format(time.RFC3339), p.Now.UTC().Format(time.RFC3339))
	}
	if p.MaxReceiptAge > 0 && p.Now.Sub(at) > p.MaxReceiptAge {
		return nil, fmt.Errorf("%w: issued at %s, older than %s", ErrReceipt, at.Format(time.RFC3339), p.MaxReceiptAge)
	}
	return &r, nil
}
