package credential

import (
	"bytes"
	"fmt"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/wire"
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

// MaxEvidenceFile bounds receipt and attestation files.
const MaxEvidenceFile = 64 << 10

// ParseEvidence reads the two files a FaceSign client saves for an issuer
// ("facesign enroll|login --receipt-out R --attestation-out A"): the signed
// receipt (CBOR [wire.SignedReceipt]) and the attestation response (CBOR
// wire.AttestationResponse: the NSM document and the binding it commits
// to). Decoding is strict (no unknown fields, duplicate keys, tags or
// indefinite lengths); nothing is verified yet, see [VerifyEvidence].
func ParseEvidence(receipt, attestation []byte) (*Evidence, error) {
	if len(receipt) > MaxEvidenceFile {
		return nil, fmt.Errorf("%w: receipt file of %d bytes", ErrReceipt, len(receipt))
	}
	if len(attestation) > MaxEvidenceFile {
		return nil, fmt.Errorf("%w: attestation file of %d bytes", ErrAttestation, len(attestation))
	}
	var sr wire.SignedReceipt
	if err := wire.Unmarshal(receipt, &sr); err != nil {
		return nil, fmt.Errorf("%w: receipt file: %v", ErrReceipt, err)
	}
	var ar wire.AttestationResponse
	if err := wire.Unmarshal(attestation, &ar); err != nil {
		return nil, fmt.Errorf("%w: attestation response file: %v", ErrAttestation, err)
	}
	return &Evidence{Attestation: ar.Document, Binding: ar.Binding, Receipt: sr}, nil
}

// Marshal writes ev as the two files [ParseEvidence] reads.
func (ev Evidence) Marshal() (receipt, attestation []byte, err error) {
	if receipt, err = wire.Marshal(ev.Receipt); err != nil {
		return nil, nil, err
	}
	if attestation, err = wire.Marshal(wire.AttestationResponse{Document: ev.Attestation, Binding: ev.Binding}); err != nil {
		return nil, nil, err
	}
	return receipt, attestation, nil
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
	if err := ev.Binding.CheckUserData(doc.UserData); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBinding, err)
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
