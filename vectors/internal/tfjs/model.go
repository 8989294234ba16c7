package tfjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// Errors returned by [Load] and [Model.Run].
var (
	// ErrFormat reports a model.json that is not a well-formed tfjs graph
	// model (bad JSON, dangling node inputs, cycles, bad attributes).
	ErrFormat = errors.New("tfjs: malformed graph model")
	// ErrWeights reports weight files that are missing, short, too long or
	// of an unsupported data type.
	ErrWeights = errors.New("tfjs: bad weights")
	// ErrInput reports a Run input that is missing, unknown or of the
	// wrong shape.
	ErrInput = errors.New("tfjs: bad input")
	// ErrExec reports a failure while executing a node (for example a
	// shape that only turns out wrong at run time).
	ErrExec = errors.New("tfjs: execution failed")
)

// UnsupportedOpError reports a graph node whose operation this executor
// does not implement. [Load] returns it, so an unsupported model is
// rejected before it ever runs.
type UnsupportedOpError struct {
	Node string // node name
	Op   string // TensorFlow op name, e.g. "NonMaxSuppressionV5"
}

func (e *UnsupportedOpError) Error() string {
	return fmt.Sprintf("tfjs: node %q: unsupported op %q", e.Node, e.Op)
}

// IO names one model input or output and its shape as declared in the
// graph (-1 for a dimension fixed only at run time; nil when unknown).
type IO struct {
	Name  string
	Shape []int
}

// runFunc executes one node on its input values.
type runFunc func(in []value) (value, error)

type step struct {
	name string
	op   string
	in   []int // value slots of the inputs
	out  int   // value slot of the result
	run  runFunc
	free []int // slots whose last use is this step
}

// Model is a loaded, validated tfjs graph model. It is immutable after
// [Load] and safe for concurrent use by multiple goroutines.
type Model struct {
	steps   []step
	consts  []value // slot → constant (zero value for computed slots)
	inputs  []IO
	inSlot  []int
	outputs []IO
	outSlot []int
}

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

func compile(defs []nodeDef, weights map[string]value) (*Model, error) {
	m := &Model{}
	slot := make(map[string]int, len(defs))
	for i, d := range defs {
		if d.Name == "" {
			return nil, fmt.Errorf("%w: node %d has no name", ErrFormat, i)
		}
		if _, dup := slot[d.Name]; dup {
			return nil, fmt.Errorf("%w: node %q defined twice", ErrFormat, d.Name)
		}
		slot[d.Name] = i
	}
	m.consts = make([]value, len(defs))
	// Data inputs per node, and consumer counts for finding outputs.
	ins := make([][]int, len(defs))
	consumers := make([]int, len(defs))
	for i, d := range defs {
		for _, s := range d.Input {
			name, control, err := splitInput(s)
			if err != nil {
				return nil, err
			}
			j, ok := slot[name]
			if !ok {
				return nil, fmt.Errorf("%w: node %q reads unknown node %q", ErrFormat, d.Name, name)
			}
			if control {
				continue
			}
			ins[i] = append(ins[i], j)
			consumers[j]++
		}
	}
	// Topological order (Kahn), stable in file order.
	order := make([]int, 0, len(defs))
	indeg := make([]int, len(defs))
	users := make([][]int, len(defs))
	for i := range defs {
		for _, j := range ins[i] {
			indeg[i]++
			users[j] = append(users[j], i)
		}
	}
	var queue []int
	for i := range defs {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		order = append(order, i)
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(order) != len(defs) {
		return nil, fmt.Errorf("%w: the graph has a cycle", ErrFormat)
	}
	elided := fusePads(defs, ins, consumers, weights)
	fusePReLUs(defs, ins, consumers, weights, elided)
	fusedNodes := fuseAddActivations(defs, ins, consumers, elided)
	lastUse := make([]int, len(defs))
	for i := range lastUse {
		lastUse[i] = -1
	}
	for _, i := range order {
		d := &defs[i]
		if elided[i] {
			continue
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
			m.consts[i] = v
		case "Placeholder":
			io := IO{Name: d.Name}
			if a, ok := d.Attr["shape"]; ok && a.Shape != nil && !a.Shape.UnknownRank {
				io.Shape = make([]int, len(a.Shape.Dim))
				for k, dim := range a.Shape.Dim {
					io.Shape[k] = int(dim.Size)
				}
			}
			m.inputs = append(m.inputs, io)
			m.inSlot = append(m.inSlot, i)
		default:
			c, ok := ops[d.Op]
			if fusedNodes[i] {
				c, ok = fusedOps[d.Op]
			}
			if !ok {
				return nil, &UnsupportedOpError{Node: d.Name, Op: d.Op}
			}
			run, err := c(d, len(ins[i]))
			if err != nil {
				return nil, fmt.Errorf("%w: node %q (%s): %w", ErrFormat, d.Name, d.Op, err)
			}
			for _, j := range ins[i] {
				lastUse[j] = len(m.steps)
			}
			m.steps = append(m.steps, step{name: d.Name, op: d.Op, in: ins[i], out: i, run: run})
			if consumers[i] == 0 {
				m.outputs = append(m.outputs, IO{Name: d.Name})
				m.outSlot = append(m.outSlot, i)
			}
		}
	}
	if len(m.inputs) == 0 || len(m.outputs) == 0 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(m.inputs), len(m.outputs))
	}
	for i, j := range lastUse {
		if j >= 0 && m.consts[i].f == nil && m.consts[i].i == nil && !slices.Contains(m.outSlot, i) {
			m.steps[j].free = append(m.steps[j].free, i)
		}
	}
	return m, nil
}

// Inputs lists the model's inputs (its Placeholder nodes).
func (m *Model) Inputs() []IO { return cloneIO(m.inputs) }

// Outputs lists the model's outputs: the computed nodes no other node
// reads. Their shapes are known only after a run and are reported as nil.
func (m *Model) Outputs() []IO { return cloneIO(m.outputs) }

func cloneIO(s []IO) []IO {
	out := make([]IO, len(s))
	for i, io := range s {
		out[i] = IO{Name: io.Name, Shape: slices.Clone(io.Shape)}
	}
	return out
}

// Run executes the graph on inputs (keyed by input name; every input is
// required and must match its declared shape, -1 dimensions matching any
// size) and returns every output keyed by name. Inputs are not modified.
// Run is safe to call from several goroutines at once.
func (m *Model) Run(inputs map[string]*nn.Tensor) (map[string]*nn.Tensor, error) {
	vals := make([]value, len(m.consts))
	copy(vals, m.consts)
	for name := range inputs {
		if !slices.ContainsFunc(m.inputs, func(io IO) bool { return io.Name == name }) {
			return nil, fmt.Errorf("%w: unknown input %q", ErrInput, name)
		}
	}
	for k, io := range m.inputs {
		t, ok := inputs[io.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("%w: missing input %q", ErrInput, io.Name)
		}
		if n, err := nn.CheckShape(t.Shape); err != nil || n != len(t.Data) {
			return nil, fmt.Errorf("%w: input %q: %d values for shape %v", ErrInput, io.Name, len(t.Data), t.Shape)
		}
		if io.Shape != nil {
			ok := len(t.Shape) == len(io.Shape)
			for d := 0; ok && d < len(io.Shape); d++ {
				ok = io.Shape[d] < 0 || io.Shape[d] == t.Shape[d]
			}
			if !ok {
				return nil, fmt.Errorf("%w: input %q has shape %v, want %v", ErrInput, io.Name, t.Shape, io.Shape)
			}
		}
		vals[m.inSlot[k]] = value{f: t}
	}
	args := make([]value, 0, 8)
	for _, s := range m.steps {
		args = args[:0]
		for _, j := range s.in {
			args = append(args, vals[j])
		}
		v, err := s.run(args)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q (%s): %w", ErrExec, s.name, s.op, err)
		}
		vals[s.out] = v
		for _, j := range s.free {
			vals[j] = value{}
		}
	}
	out := make(map[string]*nn.Tensor, len(m.outputs))
	for k, io := range m.outputs {
		v := vals[m.outSlot[k]]
		if v.f == nil {
			return nil, fmt.Errorf("%w: output %q is not a float tensor", ErrExec, io.Name)
		}
		out[io.Name] = v.f
	}
	return out, nil
}
