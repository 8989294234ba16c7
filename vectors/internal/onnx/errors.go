package onnx

import (
	"errors"
	"fmt"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Errors returned by [Load], [Parse] and [Model.Run]: one per failure
// class, so callers can tell them apart with errors.Is.
var (
	// ErrFormat reports bytes that are not a well-formed ONNX ModelProto
	// (bad protobuf encoding, a field of the wrong wire type, a missing
	// graph, a tensor whose data does not match its dimensions, a node
	// without outputs) or a model that uses a feature the loader does not
	// read (sparse initialisers, subgraphs, model-local functions,
	// training information, segmented tensors).
	ErrFormat = errors.New("onnx: malformed model")
	// ErrVersion reports an IR version or an opset the loader does not
	// support (see [MinOpset] and [MaxOpset]), or a node whose domain the
	// model does not import.
	ErrVersion = errors.New("onnx: unsupported IR version or opset")
	// ErrExternalData reports a tensor whose data lives outside the model
	// file (data_location EXTERNAL or external_data entries). Such models
	// are refused rather than read from paths the file names.
	ErrExternalData = errors.New("onnx: tensor data stored outside the model")
	// ErrDataType reports a tensor or value of an element type the loader
	// does not support (unknown codes, strings, complex, 8-bit and 4-bit
	// floats, ...), or a float16/double value that is computed with rather
	// than cast or dequantised to float32 at load time.
	ErrDataType = errors.New("onnx: unsupported data type")
	// ErrDuplicateName reports two graph inputs, initialisers or node
	// outputs with the same name.
	ErrDuplicateName = errors.New("onnx: duplicate value name")
	// ErrDanglingInput reports a node input or graph output that names no
	// graph input, initialiser or node output.
	ErrDanglingInput = errors.New("onnx: reference to an undefined value")
	// ErrCycle reports a graph whose nodes cannot be ordered.
	ErrCycle = errors.New("onnx: the graph has a cycle")
	// ErrAttribute reports a node whose attributes or inputs are invalid
	// for its op, or valid ONNX the translator does not support (for
	// example a grouped convolution that is neither ordinary nor
	// depthwise, or an input that must be a constant and is computed).
	ErrAttribute = errors.New("onnx: bad or unsupported attribute or input")
	// ErrShape reports shapes that do not fit together (found by the
	// load-time shape inference), a dimension that is only known at run
	// time other than the batch dimension, or a declared output shape that
	// differs from the inferred one.
	ErrShape = errors.New("onnx: bad shape")
	// ErrLimit reports a model or tensor over the loader's size limits (a
	// dimension product that overflows or exceeds 2²⁶ elements, a rank
	// over 8, a file over 1 GiB).
	ErrLimit = errors.New("onnx: size limit exceeded")
	// ErrInput reports a Run input that is missing, unknown or of the
	// wrong shape (the executor's sentinel).
	ErrInput = graph.ErrInput
	// ErrExec reports a failure while executing a node (the executor's
	// sentinel; the load-time checks are meant to make it unreachable).
	ErrExec = graph.ErrExec
)

// UnsupportedOpError reports a node whose operator (domain and op_type)
// the loader does not translate. [Load] returns it, so an unsupported
// model is rejected before it ever runs.
type UnsupportedOpError struct {
	Node   string // node name (or its first output when unnamed)
	Domain string // "" for the default ai.onnx domain
	Op     string // op_type, e.g. "LSTM"
}

func (e *UnsupportedOpError) Error() string {
	if e.Domain != "" {
		return fmt.Sprintf("onnx: node %q: unsupported op %s:%s", e.Node, e.Domain, e.Op)
	}
	return fmt.Sprintf("onnx: node %q: unsupported op %q", e.Node, e.Op)
}
