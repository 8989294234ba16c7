package tfjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Errors returned by [Load] and [Model.Run]. Run's errors come from the
// graph executor: [ErrInput] and [ErrExec] are its sentinels.
var (
	// ErrFormat reports a model.json that is not a well-formed tfjs graph
	// model (bad JSON, dangling node inputs, cycles, bad attributes).
	ErrFormat = errors.New("tfjs: malformed graph model")
	// ErrWeights reports weight files that are missing, short, too long or
	// of an unsupported data type.
	ErrWeights = errors.New("tfjs: bad weights")
	// ErrInput reports a Run input that is missing, unknown or of the
	// wrong shape.
	ErrInput = graph.ErrInput
	// ErrExec reports a failure while executing a node (for example a
	// shape that only turns out wrong at run time).
	ErrExec = graph.ErrExec
)

// UnsupportedOpError reports a graph node whose operation the executor
// does not implement. [Load] returns it, so an unsupported model is
// rejected before it ever runs.
type UnsupportedOpError = graph.UnsupportedOpError

// IO names one model input or output and its shape as declared in the
// graph (-1 for a dimension fixed only at run time; nil when unknown).
type IO = graph.IO

// Model is a loaded, validated tfjs graph model: a compiled [graph.Model].
// It is immutable after [Load] and safe for concurrent use by multiple
// goroutines.
type Model = graph.Model

// SupportedOps lists the TensorFlow op names the executor implements.
func SupportedOps() []string { return graph.SupportedOps() }

// Load reads the graph model modelJSON from fsys, and its weight shards
// from the same directory, decodes and dequantises the weights exactly as
// tfjs does, and compiles the graph. Every op must be supported
// ([UnsupportedOpError] otherwise) and every attribute valid ([ErrFormat]).
func Load(fsys fs.FS, modelJSON string) (*Model, error) {
	raw, err := fs.ReadFile(fsys, modelJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return parse(raw, fsys, path.Dir(modelJSON))
}

func parse(raw []byte, fsys fs.FS, dir string) (*Model, error) {
	var mj modelJSON
	if err := json.Unmarshal(raw, &mj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if mj.Format != "" && mj.Format != "graph-model" {
		return nil, fmt.Errorf("%w: format %q, want graph-model", ErrFormat, mj.Format)
	}
	if mj.ModelTopology == nil || len(mj.ModelTopology.Node) == 0 {
		return nil, fmt.Errorf("%w: no modelTopology nodes", ErrFormat)
	}
	weights, err := loadWeights(fsys, dir, mj.WeightsManifest)
	if err != nil {
		return nil, err
	}
	return compile(mj.ModelTopology.Node, weights)
}

// splitInput parses a node input reference: "name", "name:0" or the
// control dependency "^name" (reported as control).
func splitInput(s string) (name string, control bool, err error) {
	if strings.HasPrefix(s, "^") {
		return s[1:], true, nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		idx, perr := strconv.Atoi(s[i+1:])
		if perr == nil {
			if idx != 0 {
				return "", false, fmt.Errorf("%w: input %q: only single-output ops are supported", ErrFormat, s)
			}
			return s[:i], false, nil
		}
	}
	return s, false, nil
}

// toGraph converts the tfjs GraphDef nodes into the executor's graph:
// data inputs by node name (control dependencies are checked and
// dropped), attributes typed and base64 strings decoded, constants
// resolved from the weights or from their inline value.
func toGraph(defs []nodeDef, weights map[string]graph.Value) (*graph.Graph, error) {
	names := make(map[string]bool, len(defs))
	for _, d := range defs {
		names[d.Name] = true
	}
	g := &graph.Graph{Nodes: make([]graph.Node, len(defs))}
	for i, d := range defs {
		n := graph.Node{Name: d.Name, Op: d.Op}
		for _, s := range d.Input {
			name, control, err := splitInput(s)
			if err != nil {
				return nil, err
			}
			if !names[name] {
				return nil, fmt.Errorf("%w: node %q reads unknown node %q", ErrFormat, d.Name, name)
			}
			if !control {
				n.Inputs = append(n.Inputs, name)
			}
		}
		for k, a := range d.Attr {
			v, ok, err := a.typed()
			if err != nil {
				return nil, fmt.Errorf("%w: node %q attr %s: %w", ErrFormat, d.Name, k, err)
			}
			if ok {
				if n.Attrs == nil {
					n.Attrs = make(map[string]graph.Attr, len(d.Attr))
				}
				n.Attrs[k] = v
			}
		}
		switch d.Op {
		case "Const":
			v, ok := weights[d.Name]
			if !ok {
				a, has := d.Attr["value"]
				if !has || a.Tensor == nil {
					return nil, fmt.Errorf("%w: constant %q has no weight", ErrWeights, d.Name)
				}
				var err error
				if v, err = constTensor(*a.Tensor); err != nil {
					return nil, fmt.Errorf("%w: constant %q: %w", ErrFormat, d.Name, err)
				}
			}
			n.Value = v
		case "Placeholder":
			if a, ok := d.Attr["shape"]; ok && a.Shape != nil && !a.Shape.UnknownRank {
				n.Shape = make([]int, len(a.Shape.Dim))
				for k, dim := range a.Shape.Dim {
					n.Shape[k] = int(dim.Size)
				}
			}
		}
		g.Nodes[i] = n
	}
	return g, nil
}

// compile converts and compiles the graph; the executor's format errors
// are reported as [ErrFormat].
func compile(defs []nodeDef, weights map[string]graph.Value) (*Model, error) {
	g, err := toGraph(defs, weights)
	if err != nil {
		return nil, err
	}
	m, err := graph.Compile(g)
	if err != nil {
		if _, ok := errors.AsType[*UnsupportedOpError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}
