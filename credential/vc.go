package credential

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Fixed values of an idOS FaceID credential.
const (
	CredentialType = "VerifiableCredential"
	Level          = "human"
	ProofType      = "Ed25519Signature2020"
	ProofPurpose   = "assertionMethod"
	// CredentialIDInfix joins the issuer URL and the credential's UUID.
	CredentialIDInfix = "/credentials/"
)

// DateLayout is how every date in a credential is written: RFC 3339 in UTC
// with whole seconds ("2026-11-22T03:04:05Z"), as @digitalbazaar/vc writes
// issuanceDate and proof.created.
const DateLayout = "2006-01-02T15:04:05Z"

// Credential is an idOS FaceID Verifiable Credential (W3C VC data model 1.1).
// Field order is the order it is written in.
type Credential struct {
	Context           []string `json:"@context"`
	ID                string   `json:"id"`
	Type              []string `json:"type"`
	Issuer            string   `json:"issuer"`
	Level             string   `json:"level"`
	Issued            string   `json:"issued"`
	ApprovedAt        string   `json:"approvedAt"`
	IssuanceDate      string   `json:"issuanceDate"`
	ExpirationDate    string   `json:"expirationDate,omitempty"`
	CredentialSubject Subject  `json:"credentialSubject"`
	Proof             *Proof   `json:"proof,omitempty"`
}

// Subject is the credential subject: the FaceSign unique ID, nothing else.
type Subject struct {
	Context        string `json:"@context"`
	FaceSignUserID string `json:"faceSignUserId"`
}

// Proof is an Ed25519Signature2020 Data Integrity proof.
type Proof struct {
	Type               string `json:"type"`
	Created            string `json:"created"`
	VerificationMethod string `json:"verificationMethod"`
	ProofPurpose       string `json:"proofPurpose"`
	ProofValue         string `json:"proofValue"`
}

// credentialContexts is the exact @context list, in order.
var credentialContexts = []string{ContextCredentialsV1, ContextIDOSV1, ContextEd25519_2020}

// verifyData is what Ed25519Signature2020 signs (jsonld-signatures'
// LinkedDataSignature.createVerifyData): SHA-256 of the canonical proof
// options (the proof without proofValue, under the document's @context) ‖
// SHA-256 of the canonical document without its proof. 64 bytes, signed as
// is by Ed25519.
func verifyData(doc map[string]any, proof map[string]any) ([]byte, error) {
	body := maps.Clone(doc)
	delete(body, "proof")
	opts := maps.Clone(proof)
	delete(opts, "proofValue")
	delete(opts, "jws")
	delete(opts, "signatureValue")
	opts["@context"] = doc["@context"]
	ph, err := hashCanonical(opts)
	if err != nil {
		return nil, err
	}
	dh, err := hashCanonical(body)
	if err != nil {
		return nil, err
	}
	return append(ph[:], dh[:]...), nil
}

// sign adds an Ed25519Signature2020 proof made by key at created.
func (c *Credential) sign(key *IssuerKey, created time.Time) error {
	if key == nil || key.Private == nil {
		return fmt.Errorf("%w: no issuer private key", ErrOptions)
	}
	c.Proof = nil
	g, err := generic(c)
	if err != nil {
		return err
	}
	p := &Proof{
		Type:               ProofType,
		Created:            created.UTC().Format(DateLayout),
		VerificationMethod: key.ID,
		ProofPurpose:       ProofPurpose,
	}
	pg, err := generic(p)
	if err != nil {
		return err
	}
	data, err := verifyData(g.(map[string]any), pg.(map[string]any))
	if err != nil {
		return err
	}
	p.ProofValue = MultibaseEncode(ed25519.Sign(key.Private, data))
	c.Proof = p
	return nil
}

// Marshal writes the credential as compact JSON.
func (c *Credential) Marshal() ([]byte, error) { return json.Marshal(c) }

// MaxCredential bounds the size of a credential document.
const MaxCredential = 64 << 10

// ParseCredential reads a credential and checks its shape: exactly the
// members an idOS FaceID credential has (a closed world, so nothing can be
// signed that a verifier would not see), each of the right type, and the
// fixed values (contexts, type, level, proof type and purpose). It does not
// check the proof: use [VerifyCredential].
func ParseCredential(b []byte) (*Credential, error) {
	if len(b) > MaxCredential {
		return nil, fmt.Errorf("%w: %d bytes", ErrShape, len(b))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShape, err)
	}
	if err := exactKeys("credential", top,
		[]string{"@context", "id", "type", "issuer", "level", "issued", "approvedAt", "issuanceDate", "credentialSubject", "proof"},
		[]string{"expirationDate"}); err != nil {
		return nil, err
	}
	var sub, proof map[string]json.RawMessage
	if err := json.Unmarshal(top["credentialSubject"], &sub); err != nil {
		return nil, fmt.Errorf("%w: credentialSubject: %v", ErrShape, err)
	}
	if err := exactKeys("credentialSubject", sub, []string{"@context", "faceSignUserId"}, nil); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(top["proof"], &proof); err != nil {
		return nil, fmt.Errorf("%w: proof: %v", ErrShape, err)
	}
	if err := exactKeys("proof", proof, []string{"type", "created", "verificationMethod", "proofPurpose", "proofValue"}, nil); err != nil {
		return nil, err
	}
	var c Credential
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShape, err)
	}
	if err := c.checkShape(); err != nil {
		return nil, err
	}
	return &c, nil
}

// exactKeys checks that m has every required key, and no key that is neither
// required nor optional (compared exactly, unlike encoding/json).
func exactKeys(what string, m map[string]json.RawMessage, required, optional []string) error {
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("%w: %s has no %q", ErrShape, what, k)
		}
	}
	var extra []string
	for k := range m {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%w: %s has unexpected %q", ErrShape, what, extra)
	}
	return nil
}

func (c *Credential) checkShape() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrShape}, a...)...)
	}
	if !slices.Equal(c.Context, credentialContexts) {
		return bad("@context %q, want %q", c.Context, credentialContexts)
	}
	if !slices.Equal(c.Type, []string{CredentialType}) {
		return bad("type %q, want [%s]", c.Type, CredentialType)
	}
	if err := checkIssuerURL(c.Issuer); err != nil {
		return bad("issuer: %v", err)
	}
	id, ok := strings.CutPrefix(c.ID, c.Issuer+CredentialIDInfix)
	if !ok || !canonicalUUID(id) {
		return bad("id %q is not %s%s<uuid>", c.ID, c.Issuer, CredentialIDInfix)
	}
	if c.Level != Level {
		return bad("level %q, want %q", c.Level, Level)
	}
	for name, v := range map[string]string{"issued": c.Issued, "approvedAt": c.ApprovedAt, "issuanceDate": c.IssuanceDate} {
		if _, err := parseDate(v); err != nil {
			return bad("%s: %v", name, err)
		}
	}
	if c.ExpirationDate != "" {
		if _, err := parseDate(c.ExpirationDate); err != nil {
			return bad("expirationDate: %v", err)
		}
	}
	if c.CredentialSubject.Context != ContextFaceIDSubject {
		return bad("credentialSubject @context %q, want %q", c.CredentialSubject.Context, ContextFaceIDSubject)
	}
	if !canonicalUUID(c.CredentialSubject.FaceSignUserID) {
		return bad("faceSignUserId %q is not a lower-case UUID", c.CredentialSubject.FaceSignUserID)
	}
	if c.Proof == nil {
		return bad("no proof")
	}
	p := c.Proof
	if p.Type != ProofType || p.ProofPurpose != ProofPurpose {
		return bad("proof type %q purpose %q, want %s / %s", p.Type, p.ProofPurpose, ProofType, ProofPurpose)
	}
	if p.VerificationMethod != c.Issuer+KeyIDSuffix {
		return bad("verificationMethod %q, want %q", p.VerificationMethod, c.Issuer+KeyIDSuffix)
	}
	if _, err := parseDate(p.Created); err != nil {
		return bad("proof created: %v", err)
	}
	return nil
}

func canonicalUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// parseDate accepts exactly [DateLayout].
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not %s", s, "YYYY-MM-DDThh:mm:ssZ")
	}
	return t, nil
}

// VerifyCredential parses a credential ([ParseCredential]) and checks it
// against the issuer's key at time now: the issuer is the key's controller,
// the proof's verification method is the key, the Ed25519Signature2020
// signature verifies over the URDNA2015-canonical document and proof
// options, and now lies in [issuanceDate, expirationDate).
func VerifyCredential(b []byte, key *IssuerKey, now time.Time) (*Credential, error) {
	if now.IsZero() {
		return nil, fmt.Errorf("%w: zero verification time", ErrOptions)
	}
	if key == nil || len(key.Public) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: no issuer public key", ErrOptions)
	}
	c, err := ParseCredential(b)
	if err != nil {
		return nil, err
	}
	if c.Issuer != key.Controller || c.Proof.VerificationMethod != key.ID {
		return nil, fmt.Errorf("%w: issued by %s (%s), not by %s", ErrProof, c.Issuer, c.Proof.VerificationMethod, key.ID)
	}
	sig, err := MultibaseDecode(c.Proof.ProofValue)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: proofValue is not a multibase 64-byte signature", ErrProof)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShape, err)
	}
	proof, _ := doc["proof"].(map[string]any)
	data, err := verifyData(doc, proof)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(key.Public, data, sig) {
		return nil, fmt.Errorf("%w: Ed25519Signature2020 signature does not verify", ErrProof)
	}
	from, _ := parseDate(c.IssuanceDate)
	if now.Before(from) {
		return nil, fmt.Errorf("%w: issued at %s, after %s", ErrExpired, c.IssuanceDate, now.UTC().Format(DateLayout))
	}
	if c.ExpirationDate != "" {
		until, _ := parseDate(c.ExpirationDate)
		if !now.Before(until) {
			return nil, fmt.Errorf("%w: expired at %s", ErrExpired, c.ExpirationDate)
		}
	}
	return c, nil
}
