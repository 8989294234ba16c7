package onnx

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// Layouts of a value in the executor: ONNX's own (row-major in the ONNX
// shape) or, for rank-4 image tensors, NHWC (the ONNX tensor transposed
// by toNHWC).
const (
	onnxLayout = 0
	nhwcLayout = 1
)

var (
	toNHWC = []int{0, 2, 3, 1}
	toNCHW = []int{0, 3, 1, 2}
)

// tval is one ONNX value during translation.
type tval struct {
	shape []int     // ONNX shape, known at load time
	dtype int32     // element type
	c     *constant // the value, when known at load time
	home  int       // layout it is computed in (computed values)
	ir    [2]string // executor node holding it per layout; "" = not made yet
}

// translator builds the executor graph from a checked ONNX graph.
type translator struct {
	opset     int64
	g         graph.Graph
	used      map[string]bool // executor node names taken
	vals      map[string]*tval
	consumers map[string]int // value → readers (node inputs and graph outputs)
	outputs   map[string]bool
	skip      map[int]bool // nodes folded into their producer: their output aliases its input
	foldBN    map[int]int  // Conv/Gemm node → the BatchNormalization folded into it
	fuseRelu  map[int]bool // Conv node → a Relu reading it is fused
	batchFrom int          // a fixed batch dimension rewritten to 1 (0: none)

	inputs []IO
	outs   []IO
	inIR   []string
	outIR  []string
}

// fresh returns an unused executor node name based on base.
func (t *translator) fresh(base string) string {
	if base == "" {
		base = "_"
	}
	name := base
	for k := 2; t.used[name]; k++ {
		name = base + "~" + strconv.Itoa(k)
	}
	t.used[name] = true
	return name
}

func (t *translator) add(n graph.Node) string {
	n.Name = t.fresh(n.Name)
	t.g.Nodes = append(t.g.Nodes, n)
	return n.Name
}

func (t *translator) constF(base string, shape []int, data []float32) string {
	return t.add(graph.Node{Name: base, Op: "Const", Value: graph.Value{Float: &nn.Tensor{Shape: slices.Clone(shape), Data: data}}})
}

func (t *translator) constI(base string, vals ...int) string {
	d := make([]int32, len(vals))
	for k, v := range vals {
		d[k] = int32(v)
	}
	return t.add(graph.Node{Name: base, Op: "Const", Value: graph.Value{Int: &graph.IntTensor{Shape: []int{len(d)}, Data: d}}})
}

// get returns the executor node holding v in the given layout, making a
// constant or a transpose the first time it is asked for.
func (t *translator) get(name string, v *tval, layout int) (string, error) {
	if layout == nhwcLayout && len(v.shape) != 4 {
		return "", fmt.Errorf("%w: %q of rank %d in NHWC", ErrShape, name, len(v.shape))
	}
	if v.ir[layout] != "" {
		return v.ir[layout], nil
	}
	if v.c != nil {
		if v.c.dtype != typeFloat {
			return "", fmt.Errorf("%w: %q (%s) is used as a FLOAT tensor", ErrDataType, name, typeName(v.dtype))
		}
		data, shape := v.c.f, v.shape
		if layout == nhwcLayout {
			data, shape = permute(data, shape, toNHWC)
		}
		v.ir[layout] = t.constF(name, shape, data)
		return v.ir[layout], nil
	}
	perm := toNHWC
	if layout == onnxLayout {
		perm = toNCHW
	}
	suffix := map[int]string{onnxLayout: "/nchw", nhwcLayout: "/nhwc"}[layout]
	v.ir[layout] = t.add(graph.Node{Name: name + suffix, Op: "Transpose",
		Inputs: []string{v.ir[v.home], t.constI(name+suffix+"/perm", perm...)}})
	return v.ir[layout], nil
}

// computed records a node's output value.
func (t *translator) computed(name string, shape []int, layout int, ir string) {
	v := &tval{shape: shape, dtype: typeFloat, home: layout}
	v.ir[layout] = ir
	t.vals[name] = v
}

// in returns node n's k-th input value, or nil when it is absent
// (optional and left out).
func (t *translator) in(n *nodeProto, k int) *tval {
	if k >= len(n.inputs) || n.inputs[k] == "" {
		return nil
	}
	return t.vals[n.inputs[k]]
}

// translate builds the executor graph of g (checked by checkGraph; order is
// a topological order of its nodes).
func translate(g *graphProto, order []int, opset int64) (*translator, error) {
	t := &translator{opset: opset, used: map[string]bool{}, vals: map[string]*tval{},
		consumers: map[string]int{}, outputs: map[string]bool{}, skip: map[int]bool{},
		foldBN: map[int]int{}, fuseRelu: map[int]bool{}}
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			if in != "" {
				t.consumers[in]++
			}
		}
	}
	for _, o := range g.outputs {
		t.consumers[o.name]++
		t.outputs[o.name] = true
	}
	for k := range g.initializers {
		c, err := decodeConstant(&g.initializers[k])
		if err != nil {
			return nil, err
		}
		t.vals[g.initializers[k].name] = &tval{shape: c.shape, dtype: c.dtype, c: c}
	}
	if err := t.graphInputs(g); err != nil {
		return nil, err
	}
	// Constant nodes first (they read nothing), so the folding plan sees
	// their values.
	for _, i := range order {
		if n := &g.nodes[i]; n.opType == "Constant" && (n.domain == "" || n.domain == "ai.onnx") {
			if err := t.constantNode(n); err != nil {
				return nil, err
			}
		}
	}
	t.plan(g)
	for _, i := range order {
		n := &g.nodes[i]
		name := nodeName(n)
		if n.domain != "" && n.domain != "ai.onnx" {
			return nil, &UnsupportedOpError{Node: name, Domain: n.domain, Op: n.opType}
		}
		if n.opType == "Constant" {
			continue
		}
		if t.skip[i] {
			t.vals[n.outputs[0]] = t.vals[n.inputs[0]]
			continue
		}
		h, ok := handlers[n.opType]
		if !ok {
			return nil, &UnsupportedOpError{Node: name, Op: n.opType}
		}
		if err := t.checkInputs(name, n); err != nil {
			return nil, err
		}
		if err := h(t, i, name, n, g); err != nil {
			return nil, err
		}
	}
	if err := t.graphOutputs(g); err != nil {
		return nil, err
	}
	return t, nil
}

// checkInputs makes sure a node's inputs are float tensors unless the op
// reads integer or constant inputs itself.
func (t *translator) checkInputs(name string, n *nodeProto) error {
	for k, in := range n.inputs {
		if in == "" {
			continue
		}
		v := t.vals[in]
		if v == nil {
			return fmt.Errorf("%w: node %q reads %q before it is computed", ErrDanglingInput, name, in)
		}
		if v.c == nil && v.dtype != typeFloat {
			return fmt.Errorf("%w: node %q input %d is %s", ErrDataType, name, k, typeName(v.dtype))
		}
	}
	return nil
}

// graphInputs declares the graph inputs that have no initializer as
// placeholders in ONNX layout. The batch dimension (the first, of a rank
// ≥ 2 input) is fixed to 1 when it is symbolic or unknown; the fixed batch
// of an image (rank 4) input over 1 is rewritten to 1 too, and the
// translation then checks that the graph keeps the batch apart
// ([ErrShape] where it cannot).
func (t *translator) graphInputs(g *graphProto) error {
	for _, v := range g.inputs {
		if _, isConst := t.vals[v.name]; isConst {
			continue
		}
		if !v.hasType || !v.tensor {
			return fmt.Errorf("%w: input %q is not a tensor", ErrDataType, v.name)
		}
		if v.elemType != typeFloat {
			return fmt.Errorf("%w: input %q has type %s (only FLOAT inputs)", ErrDataType, v.name, typeName(v.elemType))
		}
		if !v.hasShape {
			return fmt.Errorf("%w: input %q has no shape", ErrShape, v.name)
		}
		if len(v.shape) > maxRank {
			return fmt.Errorf("%w: input %q of rank %d", ErrLimit, v.name, len(v.shape))
		}
		shape := make([]int, len(v.shape))
		for k, d := range v.shape {
			switch {
			case k == 0 && len(v.shape) >= 2 && (!d.hasValue || d.value <= 0):
				shape[k] = 1
			case k == 0 && len(v.shape) == 4 && d.value > 1:
				if t.batchFrom != 0 && t.batchFrom != int(min(d.value, math.MaxInt32)) {
					return fmt.Errorf("%w: inputs with batch sizes %d and %d", ErrShape, t.batchFrom, d.value)
				}
				t.batchFrom = int(min(d.value, math.MaxInt32))
				shape[k] = 1
			case !d.hasValue || d.value <= 0:
				return fmt.Errorf("%w: input %q dimension %d is not fixed (%q)", ErrShape, v.name, k, d.param)
			default:
				shape[k] = int(min(d.value, math.MaxInt32))
			}
		}
		if _, err := elements(toInt64(shape)); err != nil {
			return fmt.Errorf("input %q: %w", v.name, err)
		}
		ir := t.add(graph.Node{Name: v.name, Op: "Placeholder", Shape: slices.Clone(shape)})
		t.computed(v.name, shape, onnxLayout, ir)
		t.inputs = append(t.inputs, IO{Name: v.name, Shape: shape})
		t.inIR = append(t.inIR, ir)
	}
	if len(t.inputs) == 0 {
		return fmt.Errorf("%w: the graph has no inputs", ErrFormat)
	}
	return nil
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for k, v := range s {
		out[k] = int64(v)
	}
	return out
}

// graphOutputs names the executor nodes of the graph outputs, in ONNX
// layout, and checks the inferred shapes against the declared ones.
func (t *translator) graphOutputs(g *graphProto) error {
	for _, o := range g.outputs {
		v := t.vals[o.name]
		if v == nil {
			return fmt.Errorf("%w: graph output %q", ErrDanglingInput, o.name)
		}
		if v.c != nil {
			return fmt.Errorf("%w: graph output %q is a constant", ErrAttribute, o.name)
		}
		if v.dtype != typeFloat || (o.hasType && o.tensor && o.elemType != typeFloat && o.elemType != 0) {
			return fmt.Errorf("%w: graph output %q is not FLOAT", ErrDataType, o.name)
		}
		if o.hasShape {
			ok := len(o.shape) == len(v.shape)
			for k := 0; ok && k < len(o.shape); k++ {
				d := o.shape[k]
				if !d.hasValue || d.value <= 0 {
					continue // symbolic or unknown
				}
				ok = int64(v.shape[k]) == d.value || (k == 0 && t.batchFrom != 0 && d.value == int64(t.batchFrom) && v.shape[0] == 1)
			}
			if !ok {
				return fmt.Errorf("%w: graph output %q has inferred shape %v, declared %v", ErrShape, o.name, v.shape, dimsString(o.shape))
			}
		}
		ir, err := t.get(o.name, v, onnxLayout)
		if err != nil {
			return err
		}
		if slices.Contains(t.inIR, ir) {
			return fmt.Errorf("%w: graph output %q is a graph input", ErrAttribute, o.name)
		}
		t.outs = append(t.outs, IO{Name: o.name, Shape: slices.Clone(v.shape)})
		t.outIR = append(t.outIR, ir)
		if !slices.Contains(t.g.Outputs, ir) {
			t.g.Outputs = append(t.g.Outputs, ir)
		}
	}
	return nil
}

func dimsString(ds []dimProto) string {
	s := "["
	for k, d := range ds {
		if k > 0 {
			s += " "
		}
		switch {
		case d.hasValue:
			s += strconv.FormatInt(d.value, 10)
		case d.param != "":
			s += d.param
		default:
			s += "?"
		}
	}
	return s + "]"
}

// plan finds the load-time foldings: a BatchNormalization whose input is
// the only use of a Conv or Gemm output with constant weights is folded
// into the weights, and a Relu that is the only use of a Conv output (or
// of the BatchNormalization folded into it) becomes the convolution's
// fused activation.
func (t *translator) plan(g *graphProto) {
	producer := map[string]int{}
	for i, n := range g.nodes {
		for _, o := range n.outputs {
			producer[o] = i
		}
	}
	soleUse := func(v string) bool { return t.consumers[v] == 1 && !t.outputs[v] }
	isConst := func(v string) bool {
		tv := t.vals[v]
		return v != "" && tv != nil && tv.c != nil && tv.c.dtype == typeFloat
	}
	for i, n := range g.nodes {
		if n.opType != "BatchNormalization" || len(n.inputs) != 5 || !isDefault(n.domain) {
			continue
		}
		if slices.ContainsFunc(n.outputs[1:], func(o string) bool { return o != "" }) {
			continue
		}
		if !isConst(n.inputs[1]) || !isConst(n.inputs[2]) || !isConst(n.inputs[3]) || !isConst(n.inputs[4]) {
			continue
		}
		p, ok := producer[n.inputs[0]]
		if !ok || !soleUse(n.inputs[0]) || !isDefault(g.nodes[p].domain) {
			continue
		}
		pn := &g.nodes[p]
		switch pn.opType {
		case "Conv", "Gemm":
			if len(pn.inputs) < 2 || !isConst(pn.inputs[1]) || (len(pn.inputs) > 2 && pn.inputs[2] != "" && !isConst(pn.inputs[2])) {
				continue
			}
		default:
			continue
		}
		if _, taken := t.foldBN[p]; taken {
			continue
		}
		t.foldBN[p] = i
		t.skip[i] = true
	}
	for i, n := range g.nodes {
		if n.opType != "Conv" || !isDefault(n.domain) {
			continue
		}
		out := n.outputs[0]
		if b, ok := t.foldBN[i]; ok {
			out = g.nodes[b].outputs[0]
		}
		if !soleUse(out) {
			continue
		}
		for r, m := range g.nodes {
			if m.opType == "Relu" && isDefault(m.domain) && len(m.inputs) == 1 && m.inputs[0] == out && len(m.attrs) == 0 && len(m.outputs) == 1 {
				t.fuseRelu[i] = true
				t.skip[r] = true
			}
		}
	}
}

func isDefault(domain string) bool { return domain == "" || domain == "ai.onnx" }
