package wire

import (
	"errors"
	"fmt"
	"net/http"
)

// Routes of the enclave's HTTP API. The parent exposes the same paths
// publicly and forwards them; each sealed route is bound into its envelope.
const (
	RouteAttestation = "/v1/attestation"
	RouteChallenge   = "/v1/challenge"
	RouteEnroll      = "/v1/enroll"
	RouteLogin       = "/v1/login"
	RouteDelete      = "/v1/delete"
	RouteHealthz     = "/healthz"
	RouteReadyz      = "/readyz"
)

// Routes of the parent's internal host-services API that only the enclave dials.
const (
	// RouteLog is the prefix of PUT /internal/v1/log/{seq} and GET /internal/v1/log?from={seq}.
	RouteLog = "/internal/v1/log"
)

// Code is a stable error code. Clients and the parent match on these strings;
// they never change meaning.
type Code string

// The stable error codes. Codes up to [CodeBodyTooLarge] are answered in the
// clear before an envelope opens; the others travel inside sealed responses
// (except [CodeRateLimited], which only the parent answers, and
// [CodeInternal] / [CodeUnavailable], which can be either).
const (
	CodeBadEnvelope      Code = "bad_envelope"
	CodeUnknownKeyID     Code = "unknown_key_id"
	CodeUnsupportedSuite Code = "unsupported_suite"
	CodeDecryptFailed    Code = "decrypt_failed"
	CodeBodyTooLarge     Code = "body_too_large"
	CodeBadRequest       Code = "bad_request"
	CodeChallengeExpired Code = "challenge_expired"
	CodeChallengeUnknown Code = "challenge_unknown"
	CodeChallengeReused  Code = "challenge_reused"
	CodeTooManyFrames    Code = "too_many_frames"
	CodeTooFewFrames     Code = "too_few_frames"
	CodeFrameTooLarge    Code = "frame_too_large"
	CodeFrameUndecodable Code = "frame_undecodable"
	CodeTooManyPixels    Code = "too_many_pixels"
	CodeNoFace           Code = "no_face"
	CodeSeveralFaces     Code = "several_faces"
	CodeFaceTooSmall     Code = "face_too_small"
	CodeLivenessFailed   Code = "liveness_failed"
	CodeWrongActions     Code = "wrong_actions"
	CodeAmbiguousMatch   Code = "ambiguous_match"
	CodeNotFound         Code = "not_found"
	CodeRateLimited      Code = "rate_limited"
	CodeInternal         Code = "internal"
	CodeUnavailable      Code = "unavailable"
)

// Codes lists every stable code, in the order above.
func Codes() []Code {
	return []Code{
		CodeBadEnvelope, CodeUnknownKeyID, CodeUnsupportedSuite, CodeDecryptFailed, CodeBodyTooLarge,
		CodeBadRequest, CodeChallengeExpired, CodeChallengeUnknown, CodeChallengeReused,
		CodeTooManyFrames, CodeTooFewFrames, CodeFrameTooLarge, CodeFrameUndecodable, CodeTooManyPixels,
		CodeNoFace, CodeSeveralFaces, CodeFaceTooSmall, CodeLivenessFailed, CodeWrongActions,
		CodeAmbiguousMatch, CodeNotFound, CodeRateLimited, CodeInternal, CodeUnavailable,
	}
}

// HTTPStatus is the status a plain (unsealed) error with this code is sent with.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeDecryptFailed, CodeUnknownKeyID, CodeUnsupportedSuite:
		return http.StatusUnprocessableEntity
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeInternal:
		return http.StatusInternalServerError
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeNotFound:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// Error is a failure with a stable code, usable with errors.As. Message is
// for people; it never holds a frame, a vector, an ID or entropy.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, if any; never sent over the wire
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an [*Error] with a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: c, Message: err.Error(), Err: errors.Unwrap(err)}
}

// CodeOf returns the code of the first [*Error] in err's chain, or
// [CodeInternal].
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, ErrUnknownKeyID):
		return CodeUnknownKeyID
	case errors.Is(err, ErrUnsupportedSuite):
		return CodeUnsupportedSuite
	case errors.Is(err, ErrDecrypt):
		return CodeDecryptFailed
	case errors.Is(err, ErrBadEnvelope):
		return CodeBadEnvelope
	}
	return CodeInternal
}

// ErrorResponse is the JSON body of a plain error:
// {"error":{"code":"...","message":"..."}}.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an [ErrorResponse].
type ErrorDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// AttestationResponse is the CBOR body of GET /v1/attestation: the NSM
// document (untagged COSE_Sign1) whose user_data is SHA-256 of Binding's
// canonical encoding, and the binding itself.
type AttestationResponse struct {
	Document []byte  `cbor:"document"`
	Binding  Binding `cbor:"binding"`
}

// Liveness actions a challenge may ask for. The direction is the USER's:
// "turn_left" means the user turns their head to their own left, which in an
// unmirrored front-camera image moves the nose towards the image's right
// (positive [vectors.Face] yaw). See docs/liveness.md.
const (
	ActionTurnLeft  = "turn_left"
	ActionTurnRight = "turn_right"
	ActionOpenMouth = "open_mouth"
	ActionFaceFront = "face_front"
)

// ChallengeRequest is the sealed body of POST /v1/challenge. It is empty
// today; clients may pad it (see [MarshalPadded]).
type ChallengeRequest struct{}

// ChallengeResponse is the sealed answer to a [ChallengeRequest]: a
// single-use challenge, secret from the parent because it travels sealed.
// When the enclave cannot issue one, Reason is set and the rest is empty.
type ChallengeResponse struct {
	ID          []byte   `cbor:"id"`    // 16 bytes
	Nonce       []byte   `cbor:"nonce"` // 32 bytes
	Actions     []string `cbor:"actions"`
	ExpiresAtMS int64    `cbor:"expires_at_ms"`
	Reason      Code     `cbor:"reason,omitempty"`
	Message     string   `cbor:"message,omitempty"`
}

// Segment tells the enclave which frames (indexes From..To inclusive) the
// client recorded for one action. Segments are hints the enclave checks,
// never trusts.
type Segment struct {
	Action string `cbor:"action"`
	From   int    `cbor:"from"`
	To     int    `cbor:"to"`
}

// FaceRequest is the sealed body of POST /v1/enroll, /v1/login and
// /v1/delete: the challenge it answers (ID and Nonce exactly as issued) and the
// recorded frames (JPEG or PNG), in capture order.
type FaceRequest struct {
	ChallengeID    []byte    `cbor:"challenge_id"`
	ChallengeNonce []byte    `cbor:"challenge_nonce"`
	Frames         [][]byte  `cbor:"frames"`
	Segments       []Segment `cbor:"segments,omitempty"`
}

// The three sealed face requests share one shape.
type (
	EnrollRequest = FaceRequest
	LoginRequest  = FaceRequest
	DeleteRequest = FaceRequest
)

// StatusRejected is the status of a refused request; Response.Reason says why.
const StatusRejected Status = "rejected"

// Response is the sealed answer to a [FaceRequest]. Entropy is set only for
// new and existing; UniqueID for new, existing and deleted; Reason and Message
// only for rejected. Every response carries a receipt and is padded to
// [ResponseSize] bytes so the parent cannot tell outcomes apart by length.
type Response struct {
	Status   Status         `cbor:"status"`
	UniqueID string         `cbor:"unique_id,omitempty"`
	Entropy  []byte         `cbor:"entropy,omitempty"`
	Receipt  *SignedReceipt `cbor:"receipt,omitempty"`
	Reason   Code           `cbor:"reason,omitempty"`
	Message  string         `cbor:"message,omitempty"`
}

// ResponseSize and ChallengeResponseSize are the plaintext sizes every sealed
// response is padded to. Messages are truncated to [MaxMessageLen] so that
// every response fits.
const (
	ResponseSize          = 1024
	ChallengeResponseSize = 256
	MaxMessageLen         = 240
)

// ErrTooLarge reports a message that does not fit its padded size.
var ErrTooLarge = errors.New("wire: message larger than its padded size")

// MarshalPadded encodes r and pads it to exactly [ResponseSize] bytes.
func (r Response) MarshalPadded() ([]byte, error) {
	if len(r.Message) > MaxMessageLen {
		r.Message = r.Message[:MaxMessageLen]
	}
	return MarshalPadded(r, ResponseSize)
}

// MarshalPadded encodes c and pads it to exactly [ChallengeResponseSize] bytes.
func (c ChallengeResponse) MarshalPadded() ([]byte, error) {
	if len(c.Message) > MaxMessageLen/2 {
		c.Message = c.Message[:MaxMessageLen/2]
	}
	return MarshalPadded(c, ChallengeResponseSize)
}

// MarshalPadded encodes v and appends zero bytes up to size, the way binary
// HTTP (RFC 9292 §3.8) pads: a sealed plaintext is one CBOR item followed by
// any number of 0x00 bytes. [UnmarshalPadded] is its inverse.
func MarshalPadded(v any, size int) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > size {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, len(b), size)
	}
	out := make([]byte, size)
	copy(out, b)
	return out, nil
}

// ErrBadPadding reports bytes after a sealed message's CBOR item that are not zero.
var ErrBadPadding = errors.New("wire: non-zero bytes after the message")

// UnmarshalPadded decodes one strict CBOR item from data into v and checks
// that everything after it is zero padding.
func UnmarshalPadded(data []byte, v any) error {
	_, dm := modes()
	rest, err := dm.UnmarshalFirst(data, v)
	if err != nil {
		return err
	}
	for _, c := range rest {
		if c != 0 {
			return ErrBadPadding
		}
	}
	return nil
}
