package credential

import "errors"

// Failures, one sentinel per class (test with [errors.Is]); wrapped messages
// say which field or check failed.
var (
	// ErrOptions: the caller's options are unusable (zero time, no PCR
	// policy, no issuer key, bad holder key, nil randomness).
	ErrOptions = errors.New("credential: invalid options")
	// ErrAttestation: the enclave's attestation document does not verify
	// (the wrapped error is attest's own sentinel).
	ErrAttestation = errors.New("credential: attestation does not verify")
	// ErrBinding: the binding is not the one the attestation document
	// commits to (user_data ≠ SHA-256 of the binding), or its policy is not
	// the pinned one.
	ErrBinding = errors.New("credential: binding does not match the attestation")
	// ErrReceipt: the receipt is forged, for another policy, malformed, in
	// the future, too old, or not a successful enrolment or login.
	ErrReceipt = errors.New("credential: receipt refused")
	// ErrUnknownContext: a JSON-LD context URL that the static loader does
	// not serve.
	ErrUnknownContext = errors.New("credential: unknown JSON-LD context")
	// ErrCanonical: JSON-LD expansion or URDNA2015 canonicalisation failed
	// (for example a term no context defines).
	ErrCanonical = errors.New("credential: cannot canonicalise")
	// ErrShape: the credential or record does not have the idOS FaceID shape.
	ErrShape = errors.New("credential: unexpected shape")
	// ErrProof: the Ed25519Signature2020 proof or a record signature does
	// not verify.
	ErrProof = errors.New("credential: proof does not verify")
	// ErrExpired: the credential is expired, or not yet valid, at the
	// verification time.
	ErrExpired = errors.New("credential: not valid at the verification time")
	// ErrIssuerKey: the issuer key file is malformed.
	ErrIssuerKey = errors.New("credential: invalid issuer key")
	// ErrMultibase: a multibase / multicodec value is malformed.
	ErrMultibase = errors.New("credential: invalid multibase value")
	// ErrDecrypt: the record's content does not open with the holder's key.
	ErrDecrypt = errors.New("credential: cannot decrypt record")
)
