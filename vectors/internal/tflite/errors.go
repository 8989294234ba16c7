package tflite

import (
	"errors"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Errors returned by [Load] and [Parse]; [Model.Run]'s errors are the
// executor's ([ErrInput], [ErrExec]).
var (
	// ErrFormat reports a file that is not a well-formed TFLite model: a
	// bad FlatBuffer, a reference outside the file, a tensor or buffer
	// index out of range, a shape or data length that does not add up.
	ErrFormat = errors.New("tflite: malformed model")
	// ErrUnsupported reports a well-formed model using something this
	// front-end does not implement: an option value, a tensor type,
	// quantised activations, several subgraphs. Unsupported operators are
	// an [*UnsupportedOpError].
	ErrUnsupported = errors.New("tflite: unsupported model feature")
	// ErrInput reports a Run input that is missing, unknown or of the
	// wrong shape.
	ErrInput = graph.ErrInput
	// ErrExec reports a failure while executing a node.
	ErrExec = graph.ErrExec
)

// UnsupportedOpError reports an operator the executor does not implement.
type UnsupportedOpError = graph.UnsupportedOpError

// Model is a loaded, validated TFLite model: a compiled [graph.Model].
type Model = graph.Model

// IO names one model input or output and its declared shape.
type IO = graph.IO
