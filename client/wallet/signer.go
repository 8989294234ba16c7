package wallet

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"sort"
)

// A Signer signs messages with one of a wallet's keys under one scheme.
type Signer interface {
	// Scheme is the registry name of the scheme ("ed25519", "eip191").
	Scheme() string
	// Sign returns the signature of msg.
	Sign(msg []byte) []byte
	// PublicIdentity is what a verifier checks the signature against: the
	// hex Ed25519 public key, or the EIP-55 address.
	PublicIdentity() string
}

// A Verifier checks signatures of one scheme against a [Signer]'s
// PublicIdentity.
type Verifier interface {
	Verify(identity string, msg, sig []byte) error
}

var (
	_ Signer   = ed25519Signer{}
	_ Signer   = eip191Signer{}
	_ Verifier = ed25519Verifier{}
	_ Verifier = eip191Verifier{}
)

type scheme struct {
	signer   func(*Wallet) Signer
	verifier Verifier
}

// schemes is the registry of signature schemes.
var schemes = map[string]scheme{
	"ed25519": {func(w *Wallet) Signer { return ed25519Signer{w.faceSign} }, ed25519Verifier{}},
	"eip191":  {func(w *Wallet) Signer { return eip191Signer{w.evm} }, eip191Verifier{}},
}

// Schemes lists the registered signature scheme names, sorted.
func Schemes() []string {
	out := make([]string, 0, len(schemes))
	for n := range schemes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Signer returns the wallet's signer for scheme.
func (w *Wallet) Signer(name string) (Signer, error) {
	s, ok := schemes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (have %v)", ErrScheme, name, Schemes())
	}
	return s.signer(w), nil
}

// VerifierFor returns the verifier of scheme.
func VerifierFor(name string) (Verifier, error) {
	s, ok := schemes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (have %v)", ErrScheme, name, Schemes())
	}
	return s.verifier, nil
}

// ed25519Signer signs the raw message (PureEdDSA, RFC 8032), like tweetnacl
// sign.detached.
type ed25519Signer struct{ key ed25519.PrivateKey }

func (s ed25519Signer) Scheme() string         { return "ed25519" }
func (s ed25519Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }
func (s ed25519Signer) PublicIdentity() string {
	return hex.EncodeToString(s.key.Public().(ed25519.PublicKey))
}

type ed25519Verifier struct{}

func (ed25519Verifier) Verify(identity string, msg, sig []byte) error {
	pub, err := hex.DecodeString(identity)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: want %d hex bytes of public key", ErrInvalidKey, ed25519.PublicKeySize)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%w: ed25519 signature does not verify", ErrSignature)
	}
	return nil
}

// eip191Signer is Ethereum personal_sign.
type eip191Signer struct{ acct *EVMAccount }

func (s eip191Signer) Scheme() string         { return "eip191" }
func (s eip191Signer) Sign(msg []byte) []byte { return s.acct.SignPersonal(msg) }
func (s eip191Signer) PublicIdentity() string { return s.acct.Address() }

type eip191Verifier struct{}

func (eip191Verifier) Verify(identity string, msg, sig []byte) error {
	addr, err := ParseAddress(identity)
	if err != nil {
		return err
	}
	return VerifyPersonal(addr, msg, sig)
}
