// Package credentialtest provides a stand-in enclave for tests of issuers:
// a security module with its own P-384 root that emits attestation
// documents encoded exactly as the Nitro Security Module encodes them
// (untagged COSE_Sign1, ES384, payload fields in NSM order), and an enclave
// identity (receipt key and binding) that signs receipts.
//
// # Security
//
// Documents from an [NSM] chain to its own root, which nothing trusts unless
// a test passes [NSM.Root] explicitly (attest.VerifyOptions.Roots). It
// exists so that credential and CLI tests can make evidence for any binding,
// PCRs and time; it is not the simulator and is never used outside tests.
package credentialtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave/wire"
	"github.com/fxamacker/cbor/v2"
)

// NSM is a test security module.
type NSM struct {
	// Root is the module's root certificate; Leaf signs documents.
	Root, Leaf *x509.Certificate
	leafKey    *ecdsa.PrivateKey
	// PCRs are the measurements every document reports (PCR0-2 non-zero).
	PCRs map[int][]byte
}

// NewNSM makes a module whose certificates are valid for one year from
// notBefore. Keys come from crypto/rand.
func NewNSM(notBefore time.Time) (*NSM, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "credentialtest root"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "credentialtest enclave"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(1, 0, 0),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	pcrs := make(map[int][]byte)
	for i := range 16 {
		pcrs[i] = make([]byte, 48)
	}
	for _, i := range []int{0, 1, 2} {
		pcrs[i] = bytes.Repeat([]byte{byte(0xa0 + i)}, 48)
	}
	return &NSM{Root: root, Leaf: leaf, leafKey: leafKey, PCRs: pcrs}, nil
}

type payload struct {
	ModuleID    string         `cbor:"module_id"`
	Digest      string         `cbor:"digest"`
	Timestamp   uint64         `cbor:"timestamp"`
	PCRs        map[int][]byte `cbor:"pcrs"`
	Certificate []byte         `cbor:"certificate"`
	CABundle    [][]byte       `cbor:"cabundle"`
	PublicKey   []byte         `cbor:"public_key"`
	UserData    []byte         `cbor:"user_data"`
	Nonce       []byte         `cbor:"nonce"`
}

// Attest makes a document carrying userData, dated at.
func (n *NSM) Attest(userData []byte, at time.Time) ([]byte, error) {
	p, err := cbor.Marshal(payload{
		ModuleID:    "i-0123456789abcdef0-enc0123456789abcdef",
		Digest:      "SHA384",
		Timestamp:   uint64(at.UnixMilli()),
		PCRs:        n.PCRs,
		Certificate: n.Leaf.Raw,
		CABundle:    [][]byte{n.Root.Raw},
		UserData:    userData,
		Nonce:       []byte("credentialtest-nonce"),
	})
	if err != nil {
		return nil, err
	}
	protected, err := cbor.Marshal(map[int]int{1: -35})
	if err != nil {
		return nil, err
	}
	sigStructure, err := cbor.Marshal([]any{"Signature1", protected, []byte{}, p})
	if err != nil {
		return nil, err
	}
	digest := sha512.Sum384(sigStructure)
	r, s, err := ecdsa.Sign(rand.Reader, n.leafKey, digest[:])
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return cbor.Marshal([]any{protected, map[int]any{}, p, sig})
}

// AttestBinding makes a document whose user_data is SHA-256 of b.
func (n *NSM) AttestBinding(b wire.Binding, at time.Time) ([]byte, error) {
	h, err := b.Hash()
	if err != nil {
		return nil, err
	}
	return n.Attest(h[:], at)
}

// VerifyOptions are what a correctly configured verifier uses for this
// module's documents at now: its root and its PCR0-2.
func (n *NSM) VerifyOptions(now time.Time) attest.VerifyOptions {
	return attest.VerifyOptions{
		Roots:       []*x509.Certificate{n.Root},
		CurrentTime: now,
		PCRs:        map[int][]byte{0: n.PCRs[0], 1: n.PCRs[1], 2: n.PCRs[2]},
	}
}

// RootPEM is the root certificate in PEM.
func (n *NSM) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.Root.Raw})
}

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
