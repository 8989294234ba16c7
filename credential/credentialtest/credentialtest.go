// Package credentialtest provides an enclave identity for tests of issuers:
// an Ed25519 receipt key and the binding (key config, a realistic policy,
// receipt key) that names it, so tests can sign receipts for any status,
// unique ID, time or policy. Attestation documents for the binding come from
// the simulator's NSM (package simulator), whose root a test must trust
// explicitly.
//
// # Security
//
// Keys come from crypto/rand and live only in memory; nothing here is used
// outside tests.
package credentialtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/facesign/facesign/wire"
)

// Enclave is an enclave identity: the key that signs receipts and the
// binding (with a realistic policy) that names it.
type Enclave struct {
	ReceiptKey ed25519.PrivateKey
	Binding    wire.Binding
}

// NewEnclave makes an enclave identity whose policy names engine.
func NewEnclave(engine string) (*Enclave, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Enclave{ReceiptKey: priv, Binding: wire.Binding{
		KeyConfig: []byte{0x01, 0x02, 0x03},
		Policy: wire.Policy{
			Engine:         engine,
			ModelSHA256:    bytes.Repeat([]byte{0x5a}, 32),
			MatchThreshold: 0.62,
			NewThreshold:   0.45,
			Margin:         0.05,
			Actions:        []string{wire.ActionTurnLeft, wire.ActionTurnRight},
			ChallengeTTLMS: 60000,
			MinFrames:      4,
			MaxFrames:      32,
			MaxFrameBytes:  1 << 20,
			MaxPixels:      1 << 21,
		},
		ReceiptKey: pub,
	}}, nil
}

// Receipt signs r with the enclave's receipt key; an empty PolicyHash is
// filled with the binding's policy hash.
func (e *Enclave) Receipt(r wire.Receipt) (wire.SignedReceipt, error) {
	if r.PolicyHash == nil {
		h, err := e.Binding.Policy.Hash()
		if err != nil {
			return wire.SignedReceipt{}, err
		}
		r.PolicyHash = h[:]
	}
	sr, err := wire.SignReceipt(e.ReceiptKey, r)
	if err != nil {
		return wire.SignedReceipt{}, fmt.Errorf("credentialtest: signing receipt: %w", err)
	}
	return sr, nil
}
