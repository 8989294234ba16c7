package onnx

import (
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// Versions the loader reads: the IR versions and the range of the default
// (ai.onnx) opset whose operator semantics the translator implements.
const (
	MinIRVersion = 3  // the first with opset_import
	MaxIRVersion = 11 // ONNX 1.18
	MinOpset     = 7  // numpy-style broadcasting without attributes
	MaxOpset     = 22
)

// IO names one model input or output and its shape in ONNX layout (NCHW
// for images), with the batch dimension fixed to 1 where the model left it
// open.
type IO struct {
	Name  string
	Shape []int
}

// Model is a loaded, validated ONNX model translated to the executor's
// graph. It is immutable and safe for concurrent use.
type Model struct {
	m       *graph.Model
	inputs  []IO
	outputs []IO
	inIR    []string // executor placeholder per input
	outIR   []string // executor node per output (may repeat)
	// IRVersion and Opset are the model's IR version and default-domain
	// opset; Producer is producer_name and producer_version.
	IRVersion int64
	Opset     int64
	Producer  string
}

// Load reads the ONNX file name from fsys and parses it with [Parse].
func Load(fsys fs.FS, name string) (*Model, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return Parse(raw)
}

// Parse decodes an ONNX ModelProto, validates it and translates its graph
// to the executor: everything in the package documentation's guarantees
// is checked here, before any run. raw is not retained.
func Parse(raw []byte) (*Model, error) {
	if len(raw) > maxFileSize {
		return nil, fmt.Errorf("%w: model of %d bytes", ErrLimit, len(raw))
	}
	mp, err := decodeModel(raw)
	if err != nil {
		return nil, err
	}
	opset, err := checkModel(mp)
	if err != nil {
		return nil, err
	}
	order, err := checkGraph(mp.graph)
	if err != nil {
		return nil, err
	}
	t, err := translate(mp.graph, order, opset)
	if err != nil {
		return nil, err
	}
	gm, err := graph.Compile(&t.g)
	if err != nil {
		// The translator emits only what the executor accepts; a
		// compile error means the model's shapes or values slipped past
		// the checks above.
		return nil, fmt.Errorf("%w: %w", ErrAttribute, err)
	}
	m := &Model{m: gm, inputs: t.inputs, outputs: t.outs, inIR: t.inIR, outIR: t.outIR,
		IRVersion: mp.irVersion, Opset: opset, Producer: mp.producerName}
	if mp.producerVersion != "" {
		m.Producer += " " + mp.producerVersion
	}
	return m, nil
}

// checkModel checks the IR version, the features the loader refuses and
// the opset imports, and returns the default-domain opset.
func checkModel(m *modelProto) (int64, error) {
	if m.irVersion < MinIRVersion || m.irVersion > MaxIRVersion {
		return 0, fmt.Errorf("%w: IR version %d (supported %d to %d)", ErrVersion, m.irVersion, MinIRVersion, MaxIRVersion)
	}
	if m.graph == nil {
		return 0, fmt.Errorf("%w: no graph", ErrFormat)
	}
	if m.functions > 0 {
		return 0, fmt.Errorf("%w: model-local functions", ErrFormat)
	}
	if m.trainingInfo > 0 {
		return 0, fmt.Errorf("%w: training information", ErrFormat)
	}
	var opset int64
	seen := map[string]bool{}
	for _, o := range m.opsets {
		d := o.domain
		if d == "ai.onnx" {
			d = ""
		}
		if seen[d] {
			return 0, fmt.Errorf("%w: domain %q imported twice", ErrVersion, o.domain)
		}
		seen[d] = true
		if d == "" {
			opset = o.version
		}
	}
	if !seen[""] {
		return 0, fmt.Errorf("%w: the model does not import the default opset", ErrVersion)
	}
	if opset < MinOpset || opset > MaxOpset {
		return 0, fmt.Errorf("%w: opset %d (supported %d to %d)", ErrVersion, opset, MinOpset, MaxOpset)
	}
	for _, n := range m.graph.nodes {
		d := n.domain
		if d == "ai.onnx" {
			d = ""
		}
		if !seen[d] {
			return 0, fmt.Errorf("%w: node %q uses domain %q, which the model does not import", ErrVersion, nodeName(&n), n.domain)
		}
	}
	return opset, nil
}

func nodeName(n *nodeProto) string {
	if n.name != "" {
		return n.name
	}
	if len(n.outputs) > 0 {
		return n.outputs[0]
	}
	return n.opType
}

// checkGraph checks names and references and returns the nodes in a
// topological order (stable: the file's order where it is already one).
func checkGraph(g *graphProto) ([]int, error) {
	if g.sparse > 0 {
		return nil, fmt.Errorf("%w: sparse initializers", ErrFormat)
	}
	if len(g.nodes) == 0 {
		return nil, fmt.Errorf("%w: the graph has no nodes", ErrFormat)
	}
	if len(g.outputs) == 0 {
		return nil, fmt.Errorf("%w: the graph has no outputs", ErrFormat)
	}
	producer := map[string]int{} // value name → node index, -1 for inputs and initializers
	inits := map[string]bool{}
	for _, t := range g.initializers {
		if t.name == "" {
			return nil, fmt.Errorf("%w: an initializer has no name", ErrFormat)
		}
		if inits[t.name] {
			return nil, fmt.Errorf("%w: initializer %q", ErrDuplicateName, t.name)
		}
		inits[t.name] = true
		producer[t.name] = -1
	}
	inputs := map[string]bool{}
	for _, v := range g.inputs {
		if v.name == "" {
			return nil, fmt.Errorf("%w: a graph input has no name", ErrFormat)
		}
		if inputs[v.name] {
			return nil, fmt.Errorf("%w: graph input %q", ErrDuplicateName, v.name)
		}
		inputs[v.name] = true
		producer[v.name] = -1 // an input with an initializer is a constant
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		if n.opType == "" {
			return nil, fmt.Errorf("%w: node %d has no op_type", ErrFormat, i)
		}
		if len(n.outputs) == 0 || n.outputs[0] == "" {
			return nil, fmt.Errorf("%w: node %q has no output", ErrFormat, nodeName(n))
		}
		for _, o := range n.outputs {
			if o == "" {
				continue // an optional output left out
			}
			if _, dup := producer[o]; dup {
				return nil, fmt.Errorf("%w: %q (output of node %q)", ErrDuplicateName, o, nodeName(n))
			}
			producer[o] = i
		}
	}
	outs := map[string]bool{}
	for _, v := range g.outputs {
		if _, ok := producer[v.name]; !ok {
			return nil, fmt.Errorf("%w: graph output %q", ErrDanglingInput, v.name)
		}
		if outs[v.name] {
			return nil, fmt.Errorf("%w: graph output %q listed twice", ErrDuplicateName, v.name)
		}
		outs[v.name] = true
	}
	// Kahn's algorithm over value dependencies.
	indeg := make([]int, len(g.nodes))
	users := make([][]int, len(g.nodes))
	for i := range g.nodes {
		n := &g.nodes[i]
		for _, in := range n.inputs {
			if in == "" {
				continue // an optional input left out
			}
			p, ok := producer[in]
			if !ok {
				return nil, fmt.Errorf("%w: node %q reads %q", ErrDanglingInput, nodeName(n), in)
			}
			if p >= 0 {
				indeg[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	order := make([]int, 0, len(g.nodes))
	var queue []int
	for i := range g.nodes {
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
	if len(order) != len(g.nodes) {
		return nil, fmt.Errorf("%w: %d of %d nodes are on or behind a cycle", ErrCycle, len(g.nodes)-len(order), len(g.nodes))
	}
	return order, nil
}

// Inputs lists the model's inputs (graph inputs without an initializer),
// in the file's order, with their shapes in ONNX layout.
func (m *Model) Inputs() []IO { return cloneIO(m.inputs) }

// Outputs lists the graph outputs, in the file's order, with the shapes
// the load-time inference found.
func (m *Model) Outputs() []IO { return cloneIO(m.outputs) }

// Steps lists what the executor runs, in order, after the translation and
// the executor's fusions.
func (m *Model) Steps() []graph.Step { return m.m.Steps() }

func cloneIO(s []IO) []IO {
	out := make([]IO, len(s))
	for i, io := range s {
		out[i] = IO{Name: io.Name, Shape: slices.Clone(io.Shape)}
	}
	return out
}

// Run executes the model. inputs are keyed by the ONNX input names, in
// ONNX layout (NCHW images) with exactly the shapes [Model.Inputs] lists;
// they are not modified. The outputs are keyed by the ONNX output names,
// in ONNX layout, and belong to the caller.
func (m *Model) Run(inputs map[string]*nn.Tensor) (map[string]*nn.Tensor, error) {
	in := make(map[string]*nn.Tensor, len(inputs))
	for name, x := range inputs {
		k := slices.IndexFunc(m.inputs, func(io IO) bool { return io.Name == name })
		if k < 0 {
			return nil, fmt.Errorf("%w: unknown input %q", ErrInput, name)
		}
		if x == nil || !slices.Equal(x.Shape, m.inputs[k].Shape) {
			var shape []int
			if x != nil {
				shape = x.Shape
			}
			return nil, fmt.Errorf("%w: input %q has shape %v, want %v", ErrInput, name, shape, m.inputs[k].Shape)
		}
		in[m.inIR[k]] = x
	}
	for k, io := range m.inputs {
		if _, ok := in[m.inIR[k]]; !ok {
			return nil, fmt.Errorf("%w: missing input %q", ErrInput, io.Name)
		}
	}
	res, err := m.m.Run(in)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	out := make(map[string]*nn.Tensor, len(m.outputs))
	taken := map[string]bool{}
	for k, io := range m.outputs {
		y := res[m.outIR[k]]
		if y == nil {
			return nil, fmt.Errorf("%w: output %q not computed", ErrExec, io.Name)
		}
		if taken[m.outIR[k]] {
			y = y.Clone() // two outputs of one tensor: each caller-owned
		}
		taken[m.outIR[k]] = true
		if !slices.Equal(y.Shape, io.Shape) {
			return nil, fmt.Errorf("%w: output %q has shape %v, inferred %v", ErrExec, io.Name, y.Shape, io.Shape)
		}
		out[io.Name] = y
	}
	return out, nil
}
