package credential

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// KeyType is the verification method type of issuer keys.
const KeyType = "Ed25519VerificationKey2020"

// IssuerKey is an issuer's Ed25519 signing key and where verifiers find it:
// ID is the verification method ("<controller>/keys/1"), Controller the
// issuer URL that appears as the credential's issuer.
//
// Its file format is the JSON that @digitalbazaar/ed25519-verification-key-2020
// exports with export({publicKey: true, privateKey: true, includeContext: true}):
//
//	{
//	  "@context": "https://w3id.org/security/suites/ed25519-2020/v1",
//	  "id": "https://issuer.example/idos/issuers/1/keys/1",
//	  "type": "Ed25519VerificationKey2020",
//	  "controller": "https://issuer.example/idos/issuers/1",
//	  "publicKeyMultibase": "z6Mk…",
//	  "privateKeyMultibase": "zrv…"
//	}
//
// so the same file loads in the JavaScript libraries idOS issues with. A
// public key document is the same without privateKeyMultibase.
type IssuerKey struct {
	ID         string
	Controller string
	Public     ed25519.PublicKey
	Private    ed25519.PrivateKey // nil for a public key document
}

type issuerKeyJSON struct {
	Context             string `json:"@context"`
	ID                  string `json:"id"`
	Type                string `json:"type"`
	Controller          string `json:"controller"`
	PublicKeyMultibase  string `json:"publicKeyMultibase"`
	PrivateKeyMultibase string `json:"privateKeyMultibase,omitempty"`
}

// KeyIDSuffix is appended to the controller to name the issuer's key.
const KeyIDSuffix = "/keys/1"

// GenerateIssuerKey makes a new issuer key for controller (an absolute
// https URL without query or fragment), reading 32 bytes of seed from rand.
func GenerateIssuerKey(rand io.Reader, controller string) (*IssuerKey, error) {
	if rand == nil {
		return nil, fmt.Errorf("%w: nil randomness", ErrOptions)
	}
	if err := checkIssuerURL(controller); err != nil {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("credential: reading randomness: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &IssuerKey{
		ID:         controller + KeyIDSuffix,
		Controller: controller,
		Public:     priv.Public().(ed25519.PublicKey),
		Private:    priv,
	}, nil
}

// checkIssuerURL accepts absolute https (or http for loopback tests) URLs
// without query, fragment or trailing slash: they are credential and key
// IDs prefixes.
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(s, "/") ||
		u.String() != s {
		return fmt.Errorf("%w: controller %q is not an absolute http(s) URL without query, fragment or trailing slash", ErrIssuerKey, s)
	}
	return nil
}

// MaxKeyFile bounds the size of an issuer key file.
const MaxKeyFile = 4096

// ParseIssuerKey reads an issuer key file (or public key document) and checks
// it: known fields only, the suite context, type, an id equal to controller +
// "/keys/1", a valid controller URL, and a private key whose public half is
// the public key.
func ParseIssuerKey(b []byte) (*IssuerKey, error) {
	if len(b) > MaxKeyFile {
		return nil, fmt.Errorf("%w: %d bytes", ErrIssuerKey, len(b))
	}
	var j issuerKeyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIssuerKey, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrIssuerKey)
	}
	if j.Context != ContextEd25519_2020 || j.Type != KeyType {
		return nil, fmt.Errorf("%w: want @context %s and type %s", ErrIssuerKey, ContextEd25519_2020, KeyType)
	}
	if err := checkIssuerURL(j.Controller); err != nil {
		return nil, err
	}
	if j.ID != j.Controller+KeyIDSuffix {
		return nil, fmt.Errorf("%w: id %q, want %q", ErrIssuerKey, j.ID, j.Controller+KeyIDSuffix)
	}
	pub, err := DecodePublicKeyMultibase(j.PublicKeyMultibase)
	if err != nil {
		return nil, fmt.Errorf("%w: publicKeyMultibase: %w", ErrIssuerKey, err)
	}
	k := &IssuerKey{ID: j.ID, Controller: j.Controller, Public: pub}
	if j.PrivateKeyMultibase != "" {
		priv, err := DecodePrivateKeyMultibase(j.PrivateKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("%w: privateKeyMultibase: %w", ErrIssuerKey, err)
		}
		if !pub.Equal(priv.Public()) {
			return nil, fmt.Errorf("%w: private key does not match publicKeyMultibase", ErrIssuerKey)
		}
		k.Private = priv
	}
	return k, nil
}

// MarshalJSON writes the key file, private key included when present. Use
// [IssuerKey.PublicDocument] for what may be published.
func (k *IssuerKey) MarshalJSON() ([]byte, error) {
	j := issuerKeyJSON{
		Context:            ContextEd25519_2020,
		ID:                 k.ID,
		Type:               KeyType,
		Controller:         k.Controller,
		PublicKeyMultibase: EncodePublicKeyMultibase(k.Public),
	}
	if k.Private != nil {
		j.PrivateKeyMultibase = EncodePrivateKeyMultibase(k.Private)
	}
	return json.Marshal(j)
}

// PublicDocument returns the key without its private half.
func (k *IssuerKey) PublicDocument() *IssuerKey {
	return &IssuerKey{ID: k.ID, Controller: k.Controller, Public: k.Public}
}
