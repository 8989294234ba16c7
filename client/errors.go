package client

import (
	"errors"
	"fmt"

	"github.com/facesign/facesign/wire"
)

// RejectedError is a refusal with one of the service's stable codes, either
// sealed inside the enclave's answer (Sealed true: liveness failed, challenge
// expired, no face, …) or answered in the clear before the envelope opened
// (bad_envelope, unknown_key_id, rate_limited, …). Match it with errors.Is
// against the Err* sentinels of this package, or errors.As to read Code.
type RejectedError struct {
	Code    wire.Code
	Message string
	// Sealed reports that the refusal came from inside the sealed response,
	// i.e. from the attested enclave itself.
	Sealed bool
	// HTTPStatus is the status of a clear refusal (0 for sealed ones).
	HTTPStatus int
}

func (e *RejectedError) Error() string {
	where := "refused by the server"
	if e.Sealed {
		where = "refused by the enclave"
	}
	if e.Message == "" {
		return fmt.Sprintf("client: %s: %s", where, e.Code)
	}
	return fmt.Sprintf("client: %s: %s: %s", where, e.Code, e.Message)
}

// Is matches the sentinel of the same code.
func (e *RejectedError) Is(target error) bool {
	c, ok := target.(codeError)
	return ok && wire.Code(c) == e.Code
}

// codeError is the type of the code sentinels: errors.Is(err, ErrNoFace)
// holds for every [*RejectedError] with code no_face.
type codeError wire.Code

func (c codeError) Error() string { return "client: " + string(c) }

// Sentinels, one per stable code (docs/protocol.md §6).
var (
	ErrBadEnvelope      error = codeError(wire.CodeBadEnvelope)
	ErrUnknownKeyID     error = codeError(wire.CodeUnknownKeyID)
	ErrUnsupportedSuite error = codeError(wire.CodeUnsupportedSuite)
	ErrDecryptFailed    error = codeError(wire.CodeDecryptFailed)
	ErrBodyTooLarge     error = codeError(wire.CodeBodyTooLarge)
	ErrBadRequest       error = codeError(wire.CodeBadRequest)
	ErrChallengeExpired error = codeError(wire.CodeChallengeExpired)
	ErrChallengeUnknown error = codeError(wire.CodeChallengeUnknown)
	ErrChallengeReused  error = codeError(wire.CodeChallengeReused)
	ErrTooManyFrames    error = codeError(wire.CodeTooManyFrames)
	ErrTooFewFrames     error = codeError(wire.CodeTooFewFrames)
	ErrFrameTooLarge    error = codeError(wire.CodeFrameTooLarge)
	ErrFrameUndecodable error = codeError(wire.CodeFrameUndecodable)
	ErrTooManyPixels    error = codeError(wire.CodeTooManyPixels)
	ErrNoFace           error = codeError(wire.CodeNoFace)
	ErrSeveralFaces     error = codeError(wire.CodeSeveralFaces)
	ErrFaceTooSmall     error = codeError(wire.CodeFaceTooSmall)
	ErrLivenessFailed   error = codeError(wire.CodeLivenessFailed)
	ErrWrongActions     error = codeError(wire.CodeWrongActions)
	ErrAmbiguousMatch   error = codeError(wire.CodeAmbiguousMatch)
	ErrNotFound         error = codeError(wire.CodeNotFound)
	ErrRateLimited      error = codeError(wire.CodeRateLimited)
	ErrInternal         error = codeError(wire.CodeInternal)
	ErrUnavailable      error = codeError(wire.CodeUnavailable)
)

// CodeSentinel returns the sentinel for code c (for tables over
// wire.Codes()); unknown codes get a sentinel of their own.
func CodeSentinel(c wire.Code) error { return codeError(c) }

// Failures of the client's own checks. None of them is ever returned together
// with a result.
var (
	// ErrOptions: the [Options] are unusable (no clock, no randomness, no
	// measurement pins without the explicit opt-out).
	ErrOptions = errors.New("client: invalid options")
	// ErrAttestation: the attestation document does not verify (wraps the
	// attest package's error: root, chain, time, nonce, PCRs, debug mode).
	ErrAttestation = errors.New("client: attestation does not verify")
	// ErrBinding: the document's user_data is not SHA-256 of the binding
	// that came with it, or the binding is malformed.
	ErrBinding = errors.New("client: attestation binding mismatch")
	// ErrPolicy: the attested policy is not the one the caller pinned
	// (policy hash, engine or model hash).
	ErrPolicy = errors.New("client: enclave policy is not the pinned one")
	// ErrBadResponse: an answer that does not open, does not decode, or
	// breaks the protocol (a status the route cannot have, a missing field).
	ErrBadResponse = errors.New("client: malformed answer")
	// ErrReceipt: the receipt does not verify against the attested binding
	// or does not match the answer it came with.
	ErrReceipt = errors.New("client: receipt does not verify")
	// ErrServer: the server answered with something other than the API's
	// responses (a proxy's error page, an unexpected status).
	ErrServer = errors.New("client: unexpected server answer")
)
