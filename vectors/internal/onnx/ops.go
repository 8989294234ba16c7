package onnx

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// handler translates one node: it validates the node's attributes, inputs
// and shapes and adds executor nodes (or folds the node at load time).
type handler func(t *translator, i int, name string, n *nodeProto, g *graphProto) error

// handlers maps the supported ONNX ops (default domain) to their
// translators.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"Conv":               convOp,
		"BatchNormalization": batchNormOp,
		"PRelu":              preluOp,
		"Relu":               unaryOp("Relu"),
		"Sigmoid":            unaryOp("Sigmoid"),
		"Tanh":               unaryOp("Tanh"),
		"LeakyRelu":          leakyReluOp,
		"Clip":               clipOp,
		"Add":                binaryOp("Add", func(a, b float32) float32 { return a + b }),
		"Sub":                binaryOp("Sub", func(a, b float32) float32 { return a - b }),
		"Mul":                binaryOp("Mul", func(a, b float32) float32 { return a * b }),
		"Div":                binaryOp("RealDiv", func(a, b float32) float32 { return a / b }),
		"Gemm":               gemmOp,
		"MatMul":             matMulOp,
		"Flatten":            flattenOp,
		"Reshape":            reshapeOp,
		"Transpose":          transposeOp,
		"GlobalAveragePool":  globalPoolOp("Mean"),
		"GlobalMaxPool":      globalPoolOp("Max"),
		"MaxPool":            poolOp(true),
		"AveragePool":        poolOp(false),
		"Concat":             concatOp,
		"Identity":           identityOp,
		"Dropout":            dropoutOp,
		"Cast":               castOp,
		"DequantizeLinear":   dequantizeOp,
	}
}

// SupportedOps lists the ONNX ops (default domain) the loader translates.
func SupportedOps() []string {
	names := []string{"Constant"}
	for k := range handlers {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// --- helpers ---------------------------------------------------------------

// arity checks a node's input and output counts (trailing optional inputs
// may be left out; optional outputs other than the first must not be
// used).
func (t *translator) arity(name string, n *nodeProto, minIn, maxIn int) error {
	if len(n.inputs) < minIn || len(n.inputs) > maxIn {
		return fmt.Errorf("%w: node %q (%s) has %d inputs, want %d to %d", ErrAttribute, name, n.opType, len(n.inputs), minIn, maxIn)
	}
	for k := range minIn {
		if n.inputs[k] == "" {
			return fmt.Errorf("%w: node %q (%s): required input %d is empty", ErrAttribute, name, n.opType, k)
		}
	}
	for k, o := range n.outputs[1:] {
		if o != "" && (t.consumers[o] > 0 || t.outputs[o]) {
			return fmt.Errorf("%w: node %q (%s): output %d (%q) is not supported", ErrAttribute, name, n.opType, k+1, o)
		}
	}
	return nil
}

// constFloat returns a constant float input, or an error naming what it is.
func constFloat(name string, v *tval, what string) (*constant, error) {
	if v == nil || v.c == nil {
		return nil, fmt.Errorf("%w: node %q: %s must be a constant", ErrAttribute, name, what)
	}
	if v.c.dtype != typeFloat {
		return nil, fmt.Errorf("%w: node %q: %s has type %s (cast or dequantise it to FLOAT)", ErrDataType, name, what, typeName(v.dtype))
	}
	return v.c, nil
}

// layoutOf returns the layout a computed value lives in; constants count
// as ONNX layout.
func layoutOf(v *tval) int {
	if v.c != nil {
		return onnxLayout
	}
	return v.home
}

// operand returns the executor node of v as an operand of a broadcasting
// op whose output has the given rank and layout: constants are expanded
// to that rank (leading 1s) and permuted at load time; a computed value of
// lower rank is reshaped and transposed when the output is NHWC.
func (t *translator) operand(name string, v *tval, rank, layout int) (string, error) {
	if v.c != nil {
		if v.c.dtype != typeFloat {
			return "", fmt.Errorf("%w: %q (%s) is used as a FLOAT tensor", ErrDataType, name, typeName(v.dtype))
		}
		shape := append(ones(rank-len(v.shape)), v.shape...)
		data := v.c.f
		if layout == nhwcLayout {
			data, shape = permute(data, shape, toNHWC)
		}
		return t.constF(name, shape, data), nil
	}
	if len(v.shape) == rank || layout == onnxLayout {
		return t.get(name, v, layout)
	}
	src, err := t.get(name, v, onnxLayout)
	if err != nil {
		return "", err
	}
	shape := append(ones(rank-len(v.shape)), v.shape...)
	r := t.add(graph.Node{Name: name + "/rank4", Op: "Reshape", Inputs: []string{src, t.constI(name+"/rank4/shape", shape...)}})
	return t.add(graph.Node{Name: name + "/rank4/nhwc", Op: "Transpose", Inputs: []string{r, t.constI(name+"/rank4/perm", toNHWC...)}}), nil
}

func ones(n int) []int {
	s := make([]int, max(n, 0))
	for k := range s {
		s[k] = 1
	}
	return s
}

// broadcast returns the numpy broadcast of shapes a and b.
func broadcast(a, b []int) ([]int, bool) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for k := range r {
		da, db := 1, 1
		if j := k - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := k - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, false
		}
	}
	return out, true
}

func product(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// window is a resolved 2-D convolution or pooling window.
type window struct {
	sh, sw, dh, dw int
	pt, pb, pl, pr int
	oh, ow         int
}

// resolveWindow reads strides, dilations, pads and auto_pad and computes
// the explicit padding and the output size of a kh×kw window over h×w
// (ONNX semantics; SAME_UPPER puts the odd pixel at the end, SAME_LOWER
// at the start). ceil rounds the output size up (pooling's ceil_mode).
func resolveWindow(a *attrs, h, w, kh, kw int, ceil bool) (window, error) {
	wd := window{sh: 1, sw: 1, dh: 1, dw: 1}
	two := func(key string, dst ...*int) error {
		v, err := a.ints(key)
		if err != nil || v == nil {
			return err
		}
		if len(v) != 2 || v[0] < 1 || v[1] < 1 {
			return a.errorf("%s %v (2-D, each ≥ 1)", key, v)
		}
		*dst[0], *dst[1] = v[0], v[1]
		return nil
	}
	if err := two("strides", &wd.sh, &wd.sw); err != nil {
		return wd, err
	}
	if err := two("dilations", &wd.dh, &wd.dw); err != nil {
		return wd, err
	}
	pads, err := a.ints("pads")
	if err != nil {
		return wd, err
	}
	if pads != nil && (len(pads) != 4 || slices.Min(pads) < 0) {
		return wd, a.errorf("pads %v (4 values, each ≥ 0)", pads)
	}
	auto, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return wd, err
	}
	if auto != "NOTSET" && pads != nil && slices.Max(pads) > 0 {
		return wd, a.errorf("pads %v together with auto_pad %s", pads, auto)
	}
	if pads == nil {
		pads = []int{0, 0, 0, 0}
	}
	axis := func(in, k, s, d, before, after int) (pb, pe, out int, err error) {
		eff := (k-1)*d + 1
		switch auto {
		case "NOTSET", "VALID":
			if auto == "VALID" {
				before, after = 0, 0
			}
			span := in + before + after - eff
			if span < 0 {
				return 0, 0, 0, fmt.Errorf("%w: node %q: window %d (dilated %d) over %d padded by %d+%d", ErrShape, a.node, k, eff, in, before, after)
			}
			out = span/s + 1
			if ceil && span%s != 0 {
				// ceil_mode: ONNX adds a window only where it starts
				// inside the input or the leading padding; support it
				// where that makes no difference to the floor result.
				return 0, 0, 0, a.errorf("ceil_mode with a window that does not tile the input")
			}
			return before, after, out, nil
		case "SAME_UPPER", "SAME_LOWER":
			out = (in + s - 1) / s
			total := max((out-1)*s+eff-in, 0)
			pb = total / 2
			if auto == "SAME_LOWER" {
				pb = total - total/2
			}
			return pb, total - pb, out, nil
		}
		return 0, 0, 0, a.errorf("auto_pad %q", auto)
	}
	if wd.pt, wd.pb, wd.oh, err = axis(h, kh, wd.sh, wd.dh, pads[0], pads[2]); err != nil {
		return wd, err
	}
	if wd.pl, wd.pr, wd.ow, err = axis(w, kw, wd.sw, wd.dw, pads[1], pads[3]); err != nil {
		return wd, err
	}
	if wd.oh < 1 || wd.ow < 1 {
		return wd, fmt.Errorf("%w: node %q: empty output %dx%d", ErrShape, a.node, wd.oh, wd.ow)
	}
	return wd, nil
}

// irAttrs returns the executor attributes of a window.
func (w window) irAttrs() map[string]graph.Attr {
	m := map[string]graph.Attr{
		"strides":   graph.Ints(1, w.sh, w.sw, 1),
		"dilations": graph.Ints(1, w.dh, w.dw, 1),
		"padding":   graph.String("VALID"),
	}
	if w.pt != 0 || w.pb != 0 || w.pl != 0 || w.pr != 0 {
		m["padding"] = graph.String("EXPLICIT")
		m["explicit_paddings"] = graph.Ints(0, 0, w.pt, w.pb, w.pl, w.pr, 0, 0)
	}
	return m
}

// --- elementwise -------------------------------------------------------------

func preluOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	if _, err := newAttrs(name, n); err != nil {
		return err
	}
	if err := t.arity(name, n, 2, 2); err != nil {
		return err
	}
	x, s := t.in(n, 0), t.in(n, 1)
	if out, ok := broadcast(x.shape, s.shape); !ok || !slices.Equal(out, x.shape) {
		return fmt.Errorf("%w: node %q: slope %v does not broadcast to %v", ErrShape, name, s.shape, x.shape)
	}
	layout := layoutOf(x)
	xin, err := t.get(n.inputs[0], x, layout)
	if err != nil {
		return err
	}
	sin, err := t.operand(n.inputs[1], s, len(x.shape), layout)
	if err != nil {
		return err
	}
	t.computed(n.outputs[0], slices.Clone(x.shape), layout, t.add(graph.Node{Name: n.outputs[0], Op: "Prelu", Inputs: []string{xin, sin}}))
	return nil
}

func unaryOp(op string) handler {
	return func(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
		if _, err := newAttrs(name, n); err != nil {
			return err
		}
		if err := t.arity(name, n, 1, 1); err != nil {
			return err
		}
		return t.unary(n, graph.Node{Op: op})
	}
}

// unary adds node (its op and attributes set) reading n's first input in
// its own layout.
func (t *translator) unary(n *nodeProto, node graph.Node) error {
	x := t.in(n, 0)
	layout := layoutOf(x)
	xin, err := t.get(n.inputs[0], x, layout)
	if err != nil {
		return err
	}
	node.Name = n.outputs[0]
	node.Inputs = []string{xin}
	t.computed(n.outputs[0], slices.Clone(x.shape), layout, t.add(node))
	return nil
}

func leakyReluOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "alpha")
	if err != nil {
		return err
	}
	alpha, err := a.float("alpha", 0.01)
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 1, 1); err != nil {
		return err
	}
	return t.unary(n, graph.Node{Op: "LeakyRelu", Attrs: map[string]graph.Attr{"alpha": graph.Float(alpha)}})
}

func clipOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
	var a *attrs
	var err error
	if t.opset < 11 {
		if a, err = newAttrs(name, n, "min", "max"); err != nil {
			return err
		}
		if lo, err = a.float("min", lo); err != nil {
			return err
		}
		if hi, err = a.float("max", hi); err != nil {
			return err
		}
		if err := t.arity(name, n, 1, 1); err != nil {
			return err
		}
	} else {
		if a, err = newAttrs(name, n); err != nil {
			return err
		}
		if err := t.arity(name, n, 1, 3); err != nil {
			return err
		}
		for k, dst := range []*float32{&lo, &hi} {
			v := t.in(n, k+1)
			if v == nil {
				continue
			}
			c, err := constFloat(name, v, []string{"min", "max"}[k])
			if err != nil {
				return err
			}
			if *dst, err = c.scalar(name); err != nil {
				return err
			}
		}
	}
	if !(lo <= hi) {
		return a.errorf("min %v above max %v", lo, hi)
	}
	switch {
	case lo == 0 && hi == 6:
		return t.unary(n, graph.Node{Op: "Relu6"})
	case lo == 0 && hi >= math.MaxFloat32:
		return t.unary(n, graph.Node{Op: "Relu"})
	}
	x := t.in(n, 0)
	layout := layoutOf(x)
	xin, err := t.get(n.inputs[0], x, layout)
	if err != nil {
		return err
	}
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "ClipByValue", Inputs: []string{xin,
		t.constF(name+"/min", []int{}, []float32{lo}), t.constF(name+"/max", []int{}, []float32{hi})}})
	t.computed(n.outputs[0], slices.Clone(x.shape), layout, ir)
	return nil
}

func binaryOp(op string, fold func(a, b float32) float32) handler {
	return func(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
		if _, err := newAttrs(name, n); err != nil {
			return err
		}
		if err := t.arity(name, n, 2, 2); err != nil {
			return err
		}
		a, b := t.in(n, 0), t.in(n, 1)
		out, ok := broadcast(a.shape, b.shape)
		if !ok {
			return fmt.Errorf("%w: node %q: shapes %v and %v do not broadcast", ErrShape, name, a.shape, b.shape)
		}
		if _, err := elements(toInt64(out)); err != nil {
			return fmt.Errorf("node %q: %w", name, err)
		}
		if a.c != nil && b.c != nil {
			if a.c.dtype != typeFloat || b.c.dtype != typeFloat {
				return fmt.Errorf("%w: node %q: integer arithmetic", ErrDataType, name)
			}
			x, y := broadcastTo(a.c.f, a.shape, out), broadcastTo(b.c.f, b.shape, out)
			data := make([]float32, len(x))
			for k := range data {
				data[k] = fold(x[k], y[k])
			}
			t.vals[n.outputs[0]] = &tval{shape: out, dtype: typeFloat, c: &constant{dtype: typeFloat, shape: out, f: data}}
			return nil
		}
		layout := onnxLayout
		if len(out) == 4 && ((a.c == nil && len(a.shape) == 4 && a.home == nhwcLayout) || (b.c == nil && len(b.shape) == 4 && b.home == nhwcLayout)) {
			layout = nhwcLayout
		}
		ain, err := t.operand(n.inputs[0], a, len(out), layout)
		if err != nil {
			return err
		}
		bin, err := t.operand(n.inputs[1], b, len(out), layout)
		if err != nil {
			return err
		}
		t.computed(n.outputs[0], out, layout, t.add(graph.Node{Name: n.outputs[0], Op: op, Inputs: []string{ain, bin}}))
		return nil
	}
}

func identityOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	if _, err := newAttrs(name, n); err != nil {
		return err
	}
	if err := t.arity(name, n, 1, 1); err != nil {
		return err
	}
	t.vals[n.outputs[0]] = t.in(n, 0)
	return nil
}

// dropoutOp: at inference Dropout is the identity; its mask output must
// not be used and training_mode, when given, must be a constant false.
func dropoutOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	allowed := []string{"seed"}
	if t.opset < 12 {
		allowed = append(allowed, "ratio")
	}
	a, err := newAttrs(name, n, allowed...)
	if err != nil {
		return err
	}
	maxIn := 1
	if t.opset >= 12 {
		maxIn = 3
	}
	if err := t.arity(name, n, 1, maxIn); err != nil {
		return err
	}
	if tm := t.in(n, 2); tm != nil {
		if tm.c == nil || len(tm.c.i)+len(tm.c.f) != 1 || slices.Max(append(tm.c.float32s(), 0)) != 0 {
			return a.errorf("training_mode must be a constant false")
		}
	}
	t.vals[n.outputs[0]] = t.in(n, 0)
	return nil
}
