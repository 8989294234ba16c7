package vectors

import "errors"

// Errors every [Engine] (and the detectors behind it) reports for faces it
// cannot use. Each is a failure the client causes with its frame, so callers
// map them to stable client error codes with errors.Is; an engine wraps them
// with detail.
var (
	// ErrNoFace: no face in the image.
	ErrNoFace = errors.New("vectors: no face found")
	// ErrSeveralFaces: more than one face where exactly one is required.
	ErrSeveralFaces = errors.New("vectors: several faces found")
	// ErrFaceTooSmall: the face is too small to embed reliably.
	ErrFaceTooSmall = errors.New("vectors: face too small")
	// ErrFaceCutOff: the face extends beyond the image border.
	ErrFaceCutOff = errors.New("vectors: face cut off at the image border")
)
