package credential

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// IssueOptions is everything [Issue] needs besides the evidence.
type IssueOptions struct {
	// Policy is what the evidence must satisfy; Policy.Now is also the
	// credential's issued / issuanceDate / proof time.
	Policy EvidencePolicy
	// Key is the issuer's key, private half included.
	Key *IssuerKey
	// HolderEncryptionKey is the holder's x25519 public key (their idOS
	// encryption key, or FaceSign's, see client/wallet).
	HolderEncryptionKey [32]byte
	// Rand supplies the credential UUID, the ephemeral key and the nonce.
	Rand io.Reader
	// ValidFor, when positive, sets expirationDate = Now + ValidFor.
	ValidFor time.Duration
}

// Issued is the result of [Issue].
type Issued struct {
	Receipt        wire.Receipt
	Credential     *Credential
	CredentialJSON []byte
	Record         *Record
}

// Issue verifies the evidence ([VerifyEvidence]) and mints the idOS FaceID
// credential for the receipt's unique ID: signed with Ed25519Signature2020
// by opts.Key, encrypted to the holder in an idOS [Record]. Nothing is
// returned unless every check passed.
func Issue(ev Evidence, opts IssueOptions) (*Issued, error) {
	if opts.Rand == nil {
		return nil, fmt.Errorf("%w: nil randomness", ErrOptions)
	}
	if opts.Key == nil || opts.Key.Private == nil {
		return nil, fmt.Errorf("%w: no issuer private key", ErrOptions)
	}
	if err := checkHolderKey(opts.HolderEncryptionKey); err != nil {
		return nil, err
	}
	if opts.ValidFor < 0 {
		return nil, fmt.Errorf("%w: negative validity", ErrOptions)
	}
	r, err := VerifyEvidence(ev, opts.Policy)
	if err != nil {
		return nil, err
	}
	c, err := NewCredential(opts.Rand, opts.Key, r.UniqueID, r.IssuedAt(), opts.Policy.Now, opts.ValidFor)
	if err != nil {
		return nil, err
	}
	b, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	rec, err := SealRecord(opts.Rand, b, opts.HolderEncryptionKey, opts.Key, FaceSignNotes)
	if err != nil {
		return nil, err
	}
	return &Issued{Receipt: *r, Credential: c, CredentialJSON: b, Record: rec}, nil
}

// NewCredential builds and signs a FaceID credential for a FaceSign unique ID
// approved at approvedAt, issued at now (also the proof time), expiring
// validFor later when validFor > 0; its UUID is read from rand. Callers
// normally use [Issue], which first verifies the enclave's evidence.
func NewCredential(rand io.Reader, key *IssuerKey, uniqueID string, approvedAt, now time.Time, validFor time.Duration) (*Credential, error) {
	if rand == nil {
		return nil, fmt.Errorf("%w: nil randomness", ErrOptions)
	}
	if now.IsZero() || approvedAt.IsZero() {
		return nil, fmt.Errorf("%w: zero time", ErrOptions)
	}
	if key == nil || key.Private == nil || len(key.Private) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: no issuer private key", ErrOptions)
	}
	if !canonicalUUID(uniqueID) {
		return nil, fmt.Errorf("%w: unique ID %q is not a lower-case UUID", ErrOptions, uniqueID)
	}
	id, err := uuid.NewRandomFromReader(rand)
	if err != nil {
		return nil, fmt.Errorf("credential: reading randomness: %w", err)
	}
	ts := now.UTC().Format(DateLayout)
	c := &Credential{
		Context:      append([]string(nil), credentialContexts...),
		ID:           key.Controller + CredentialIDInfix + id.String(),
		Type:         []string{CredentialType},
		Issuer:       key.Controller,
		Level:        Level,
		Issued:       ts,
		ApprovedAt:   approvedAt.UTC().Format(DateLayout),
		IssuanceDate: ts,
		CredentialSubject: Subject{
			Context:        ContextFaceIDSubject,
			FaceSignUserID: uniqueID,
		},
	}
	if validFor > 0 {
		c.ExpirationDate = now.Add(validFor).UTC().Format(DateLayout)
	}
	if err := c.sign(key, now); err != nil {
		return nil, err
	}
	return c, nil
}

// RecordCheck is the result of [VerifyRecord].
type RecordCheck struct {
	Record *Record
	// Credential is the decrypted, verified credential; nil when no holder
	// secret was given.
	Credential *Credential
}

// VerifyRecord checks a record file against the issuer key (shape, notes,
// signatures; [Record.Verify]) and, given the holder's x25519 secret key,
// decrypts it and verifies the credential inside at now ([VerifyCredential]).
func VerifyRecord(b []byte, key *IssuerKey, holderSecret *[32]byte, now time.Time) (*RecordCheck, error) {
	if key == nil || len(key.Public) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: no issuer public key", ErrOptions)
	}
	if now.IsZero() {
		return nil, fmt.Errorf("%w: zero verification time", ErrOptions)
	}
	r, err := ParseRecord(b)
	if err != nil {
		return nil, err
	}
	if err := r.Verify(key.Public); err != nil {
		return nil, err
	}
	out := &RecordCheck{Record: r}
	if holderSecret == nil {
		return out, nil
	}
	plain, err := r.Open(*holderSecret)
	if err != nil {
		return nil, err
	}
	c, err := VerifyCredential(plain, key, now)
	if err != nil {
		return nil, err
	}
	out.Credential = c
	return out, nil
}
