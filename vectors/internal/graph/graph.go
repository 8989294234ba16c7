package graph

import (
	"errors"
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// Errors returned by [Compile] and [Model.Run].
var (
	// ErrFormat reports a graph that cannot be compiled: a node without a
	// name or defined twice, a reference to an unknown node, a cycle, a
	// constant without a value, a bad attribute or input count.
	ErrFormat = errors.New("graph: malformed graph")
	// ErrInput reports a Run input that is missing, unknown or of the
	// wrong shape.
	ErrInput = errors.New("graph: bad input")
	// ErrExec reports a failure while executing a node (for example a
	// shape that only turns out wrong at run time).
	ErrExec = errors.New("graph: execution failed")
)

// UnsupportedOpError reports a node whose operation this executor does not
// implement. [Compile] returns it, so an unsupported model is rejected
// before it ever runs.
type UnsupportedOpError struct {
	Node string // node name
	Op   string // op name, e.g. "NonMaxSuppressionV5"
}

func (e *UnsupportedOpError) Error() string {
	return fmt.Sprintf("graph: node %q: unsupported op %q", e.Node, e.Op)
}

// Graph is a model in the executor's format-neutral form: a list of
// nodes, each producing one tensor, in any order. Front-ends (tfjs,
// TFLite, ONNX) build it from their files; [Compile] validates and
// compiles it.
type Graph struct {
	Nodes []Node
	// Outputs names the nodes whose tensors [Model.Run] returns, in order.
	// When nil, the outputs are the computed nodes that no other node
	// reads, in topological order. When set, nodes the outputs do not
	// depend on are validated but never run.
	Outputs []string
}

// Node is one operation of a [Graph].
type Node struct {
	// Name identifies the node; it is unique in its graph.
	Name string
	// Op is "Placeholder" (a model input), "Const" (a constant) or one of
	// [SupportedOps]: TensorFlow op names with TensorFlow semantics.
	Op string
	// Inputs names the nodes whose tensors this node reads, in order.
	Inputs []string
	// Attrs holds the op's attributes under their TensorFlow names
	// (padding, strides, keep_dims, ...).
	Attrs map[string]Attr
	// Value is the tensor of a Const node.
	Value Value
	// Shape is the declared shape of a Placeholder: -1 for a dimension
	// fixed only at run time, nil when unknown.
	Shape []int
}

// Value is a tensor flowing along a graph edge: float32 ([nn.Tensor]) or
// int32 (shapes, axes, paddings). Exactly one field is set.
type Value struct {
	Float *nn.Tensor
	Int   *IntTensor
}

// IntTensor is a dense row-major int32 tensor.
type IntTensor struct {
	Shape []int
	Data  []int32
}

func (v Value) shape() []int {
	if v.Float != nil {
		return v.Float.Shape
	}
	if v.Int != nil {
		return v.Int.Shape
	}
	return nil
}

func (v Value) valid() bool {
	if (v.Float == nil) == (v.Int == nil) {
		return false
	}
	if v.Float != nil {
		n, err := nn.CheckShape(v.Float.Shape)
		return err == nil && n == len(v.Float.Data)
	}
	n, err := nn.CheckShape(v.Int.Shape)
	return err == nil && n == len(v.Int.Data)
}

// AttrKind says which field of an [Attr] holds its value.
type AttrKind uint8

// Attribute kinds.
const (
	KindInt AttrKind = iota + 1
	KindFloat
	KindString
	KindBool
	KindInts
	KindFloats
	KindStrings
)

// Attr is a typed attribute value; Kind says which field is meaningful.
// Build one with [Int], [Float], [String], [Bool], [Ints], [Floats] or
// [Strings]. An empty list of any kind reads as an empty list of the kind
// an op asks for.
type Attr struct {
	Kind    AttrKind
	Int     int
	Float   float32
	Str     string
	Bool    bool
	Ints    []int
	Floats  []float32
	Strings []string
}

// Int returns an integer attribute.
func Int(v int) Attr { return Attr{Kind: KindInt, Int: v} }

// Float returns a float attribute.
func Float(v float32) Attr { return Attr{Kind: KindFloat, Float: v} }

// String returns a string attribute.
func String(s string) Attr { return Attr{Kind: KindString, Str: s} }

// Bool returns a boolean attribute.
func Bool(b bool) Attr { return Attr{Kind: KindBool, Bool: b} }

// Ints returns an integer-list attribute.
func Ints(v ...int) Attr { return Attr{Kind: KindInts, Ints: slices.Clone(v)} }

// Floats returns a float-list attribute.
func Floats(v ...float32) Attr { return Attr{Kind: KindFloats, Floats: slices.Clone(v)} }

// Strings returns a string-list attribute.
func Strings(s ...string) Attr { return Attr{Kind: KindStrings, Strings: slices.Clone(s)} }

func (a Attr) emptyList() bool {
	switch a.Kind {
	case KindInts:
		return len(a.Ints) == 0
	case KindFloats:
		return len(a.Floats) == 0
	case KindStrings:
		return len(a.Strings) == 0
	}
	return false
}

// IO names one model input or output and its shape as declared in the
// graph (-1 for a dimension fixed only at run time; nil when unknown).
type IO struct {
	Name  string
	Shape []int
}

// Step names one node that [Model.Run] executes and the op it runs as
// (after the load-time fusions; see the package documentation).
type Step struct {
	Name string
	Op   string
}
