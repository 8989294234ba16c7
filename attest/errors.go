package attest

import (
	"errors"
	"fmt"
)

// Verification failures. [Verify] wraps exactly one of these (test with
// [errors.Is]); the wrapped message says which field or certificate failed.
var (
	// ErrOptions: the caller's [VerifyOptions] are unusable, for example no
	// verification time, both a time and AtDocumentTime, or a malformed PCR
	// policy. Nothing about the document was decided.
	ErrOptions = errors.New("attest: invalid verify options")
	// ErrCOSE: the document is not a well-formed COSE_Sign1 of bounded size.
	ErrCOSE = errors.New("attest: malformed COSE_Sign1")
	// ErrAlgorithm: the protected header is not exactly {1: -35} (ES384).
	ErrAlgorithm = errors.New("attest: unsupported algorithm")
	// ErrPayload: the payload map is malformed, has unknown, missing or
	// duplicate fields, or a field of the wrong type or size.
	ErrPayload = errors.New("attest: malformed payload")
	// ErrCertificate: a certificate does not parse, or the signing
	// certificate is not an end-entity ECDSA P-384 signing certificate.
	ErrCertificate = errors.New("attest: unacceptable certificate")
	// ErrUntrustedRoot: the cabundle's first certificate is none of the
	// trusted roots (for example a simulator document checked against the
	// AWS root).
	ErrUntrustedRoot = errors.New("attest: untrusted root certificate")
	// ErrChain: the certificates do not link leaf → cabundle → root (a
	// swapped or reordered certificate, a broken issuer signature, a
	// violated constraint).
	ErrChain = errors.New("attest: invalid certificate chain")
	// ErrExpired: a certificate of the chain is not valid at the
	// verification time, or the document's timestamp lies outside the
	// signing certificate's validity.
	ErrExpired = errors.New("attest: certificate not valid at verification time")
	// ErrSignature: the COSE signature does not verify under the signing
	// certificate's key.
	ErrSignature = errors.New("attest: signature does not verify")
	// ErrNonce: the document's nonce is not the expected one.
	ErrNonce = errors.New("attest: nonce mismatch")
	// ErrPCR: a PCR differs from the caller's policy or is missing.
	ErrPCR = errors.New("attest: PCR mismatch")
	// ErrDebugEnclave: PCR0 is all zero, which is what a debug-mode enclave
	// reports; its memory is readable by the parent.
	ErrDebugEnclave = errors.New("attest: debug-mode enclave (PCR0 is all zero)")
)

// Security module failures, shared by [Nitro] and the simulator's NSM.
var (
	// ErrRequest: an attestation request field is longer than [MaxFieldSize].
	ErrRequest = errors.New("attest: invalid attestation request")
	// ErrPCRIndex: a PCR index is outside the module's range.
	ErrPCRIndex = errors.New("attest: invalid PCR index")
	// ErrPCRLocked: the PCR is locked and cannot be extended or relocked.
	ErrPCRLocked = errors.New("attest: PCR is locked")
	// ErrUnimplemented: the Nitro attester is not available on this platform.
	ErrUnimplemented = errors.New("attest: nitro security module is only available on linux")
)

// NSMError is an error code returned by the Nitro Security Module (for
// example "InvalidArgument", "ReadOnlyIndex"). It matches [ErrPCRLocked] and
// [ErrPCRIndex] under [errors.Is] for the corresponding codes.
type NSMError struct {
	Op   string // the request, e.g. "Attestation"
	Code string // the NSM's error code
}

func (e *NSMError) Error() string {
	return fmt.Sprintf("attest: nsm %s: %s", e.Op, e.Code)
}

// Is reports whether the NSM error code means target.
func (e *NSMError) Is(target error) bool {
	switch target {
	case ErrPCRLocked:
		return e.Code == "ReadOnlyIndex"
	case ErrPCRIndex:
		return e.Code == "InvalidIndex"
	case ErrRequest:
		return e.Code == "InputTooLarge" || e.Code == "InvalidArgument"
	}
	return false
}
