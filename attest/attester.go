package attest

import (
	"fmt"
	"io"
)

// Request is what an enclave asks its security module to attest. Each field is
// optional and at most [MaxFieldSize] bytes; absent fields are encoded as CBOR
// null in the document, exactly as the Nitro Security Module does.
type Request struct {
	// Nonce is the verifier's challenge, echoed in the document.
	Nonce []byte
	// UserData is application data bound into the document. FaceSign puts the
	// SHA-256 of the enclave's CBOR binding here.
	UserData []byte
	// PublicKey is a key the verifier may encrypt to (for example the RSA key a
	// KMS Recipient uses).
	PublicKey []byte
}

// MaxFieldSize is the largest nonce, user_data or public_key the NSM accepts.
const MaxFieldSize = 1024

// An Attester produces signed attestation documents (untagged COSE_Sign1,
// the bytes the NSM emits) and is the enclave's source of hardware randomness.
//
// The Nitro implementation talks to /dev/nsm; the simulator's lives in package
// simulator and is never linked into the production enclave binary.
type Attester interface {
	// Attest returns a fresh attestation document for req.
	Attest(req Request) ([]byte, error)
	// Random returns a reader of randomness from the security module.
	Random() io.Reader
}

// Check reports whether r is within the NSM's limits (each field at most
// [MaxFieldSize] bytes); attesters call it before they sign. It fails with
// [ErrRequest].
func (r Request) Check() error {
	for _, f := range []struct {
		name string
		b    []byte
	}{{"nonce", r.Nonce}, {"user_data", r.UserData}, {"public_key", r.PublicKey}} {
		if len(f.b) > MaxFieldSize {
			return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrRequest, f.name, len(f.b), MaxFieldSize)
		}
	}
	return nil
}
