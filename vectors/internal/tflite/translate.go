package tflite

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// translator turns a file's operators into graph nodes.
type translator struct {
	f       *file
	g       *graph.Graph
	names   []string            // node name of each tensor
	used    map[string]bool     // node names taken
	consts  map[int]graph.Value // decoded constants, by tensor
	emitted map[string]bool     // Const nodes already in the graph
	written []bool              // tensor is a model input or an op's output
	batch   int                 // the declared batch rewritten to 1, or 0
	decoded int                 // bytes of decoded constant data
}

// optionSpec says which options table an op takes and how many fields
// of it this package knows; a field beyond those is an error.
type optionSpec struct {
	typ    uint8
	fields int
}

var options = map[int32]optionSpec{
	opConv2D:          {optConv2D, 7},
	opDepthwiseConv2D: {optDepthwiseConv, 7},
	opAveragePool2D:   {optPool2D, 6},
	opMaxPool2D:       {optPool2D, 6},
	opFullyConnected:  {optFullyConnected, 5},
	opSoftmax:         {optSoftmax, 1},
	opConcatenation:   {optConcatenation, 2},
	opAdd:             {optAdd, 2},
	opSub:             {optSub, 2},
	opMul:             {optMul, 1},
	opDiv:             {optDiv, 1},
	opL2Normalization: {optL2Norm, 1},
	opResizeBilinear:  {optResizeBilinear, 4},
	opReshape:         {optReshape, 1},
	opPad:             {optPad, 0},
	opPadV2:           {optPadV2, 0},
	opTranspose:       {optTranspose, 0},
	opMean:            {optReducer, 1},
	opSum:             {optReducer, 1},
	opReduceMax:       {optReducer, 1},
	opSqueeze:         {optSqueeze, 1},
	opExp:             {optExp, 0},
	opDequantize:      {optDequantize, 0},
	opMaximum:         {optMaximumMinimum, 0},
	opMinimum:         {optMaximumMinimum, 0},
	opNeg:             {optNeg, 0},
	opSquare:          {optSquare, 0},
	opLeakyRelu:       {optLeakyRelu, 1},
	opSquaredDiff:     {optSquaredDiff, 0},
	opAbs:             {optAbs, 0},
	opHardSwish:       {optHardSwish, 0},
	opDepthToSpace:    {optDepthToSpace, 1},
	// Ops without an options table.
	opRelu: {}, opRelu6: {}, opLogistic: {}, opTanh: {}, opPrelu: {}, opLog: {}, opSqrt: {}, opRsqrt: {},
}

// unaryOps maps the one-input ops without options to graph ops.
var unaryOps = map[int32]string{
	opRelu: "Relu", opRelu6: "Relu6", opLogistic: "Sigmoid", opTanh: "Tanh", opAbs: "Abs", opNeg: "Neg",
	opExp: "Exp", opLog: "Log", opSqrt: "Sqrt", opRsqrt: "Rsqrt", opSquare: "Square", opHardSwish: "HardSwish",
}

// binaryOps maps the two-input elementwise ops to graph ops.
var binaryOps = map[int32]string{
	opAdd: "AddV2", opSub: "Sub", opMul: "Mul", opDiv: "RealDiv",
	opMaximum: "Maximum", opMinimum: "Minimum", opSquaredDiff: "SquaredDifference",
}

// translate builds the graph of f.
func translate(f *file) (*graph.Graph, error) {
	t := &translator{
		f:       f,
		g:       &graph.Graph{},
		names:   make([]string, len(f.tensors)),
		used:    map[string]bool{},
		consts:  map[int]graph.Value{},
		emitted: map[string]bool{},
		written: make([]bool, len(f.tensors)),
	}
	for k, ft := range f.tensors {
		base := ft.name
		if base == "" {
			base = "tensor" + strconv.Itoa(k)
		}
		t.names[k] = t.fresh(base)
	}
	if len(f.inputs) == 0 || len(f.outputs) == 0 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(f.inputs), len(f.outputs))
	}
	t.batch = batchToRewrite(f)
	for _, k := range f.inputs {
		ft := f.tensors[k]
		if ft.typ != typeFloat32 {
			return nil, fmt.Errorf("%w: input %q is %s (only FLOAT32 inputs)", ErrUnsupported, ft.name, typeName(ft.typ))
		}
		if t.isConst(int(k)) || t.written[k] {
			return nil, fmt.Errorf("%w: input %q is a constant or listed twice", ErrFormat, ft.name)
		}
		// The model runs at its declared shape (batch rewritten), the
		// one every operator was checked against: a dimension the
		// shape signature leaves open (-1) stays at its declared size.
		shape := slices.Clone(ft.shape)
		if t.batch > 0 {
			shape[0] = 1
		}
		t.g.Nodes = append(t.g.Nodes, graph.Node{Name: t.names[k], Op: "Placeholder", Shape: shape})
		t.written[k] = true
	}
	for i, op := range f.ops {
		if err := t.op(op); err != nil {
			return nil, fmt.Errorf("operator %d (%s): %w", i, opName(op.code), err)
		}
	}
	for _, k := range f.outputs {
		if !t.written[k] || t.isConst(int(k)) || slices.Contains(f.inputs, k) || slices.Contains(t.g.Outputs, t.names[k]) {
			return nil, fmt.Errorf("%w: output %q is not computed by any operator or listed twice", ErrFormat, f.tensors[k].name)
		}
		if f.tensors[k].typ != typeFloat32 {
			return nil, fmt.Errorf("%w: output %q is %s", ErrUnsupported, f.tensors[k].name, typeName(f.tensors[k].typ))
		}
		t.g.Outputs = append(t.g.Outputs, t.names[k])
	}
	return t.g, nil
}

// fresh returns base, or base with a suffix, as a node name not yet used.
func (t *translator) fresh(base string) string {
	name := base
	for i := 1; t.used[name]; i++ {
		name = base + "#" + strconv.Itoa(i)
	}
	t.used[name] = true
	return name
}

// isConst reports whether tensor k holds data (or was made constant by a
// DEQUANTIZE of a constant).
func (t *translator) isConst(k int) bool {
	if _, ok := t.consts[k]; ok {
		return true
	}
	ft := t.f.tensors[k]
	return len(t.f.buffers) > ft.buffer && len(t.f.buffers[ft.buffer]) > 0
}

// constant returns the decoded value of constant tensor k.
func (t *translator) constant(k int) (graph.Value, error) {
	if v, ok := t.consts[k]; ok {
		return v, nil
	}
	ft := t.f.tensors[k]
	n, err := nn.CheckShape(ft.shape)
	if err != nil {
		return graph.Value{}, fmt.Errorf("%w: tensor %q: %w", ErrFormat, ft.name, err)
	}
	if t.decoded += 4 * n; t.decoded > maxDecodedBytes {
		return graph.Value{}, fmt.Errorf("%w: more than %d bytes of constants", ErrFormat, maxDecodedBytes)
	}
	v, err := decodeConst(ft, t.f.buffers[ft.buffer])
	if err != nil {
		return graph.Value{}, fmt.Errorf("tensor %q: %w", ft.name, err)
	}
	t.consts[k] = v
	return v, nil
}

// in returns the node name for reading tensor k: a Const node for a
// constant (added on first use), else the node that wrote it.
func (t *translator) in(k int32) (string, error) {
	if k < 0 {
		return "", fmt.Errorf("%w: a required input is absent", ErrFormat)
	}
	if t.isConst(int(k)) {
		v, err := t.constant(int(k))
		if err != nil {
			return "", err
		}
		return t.constNode(t.names[k], v), nil
	}
	if !t.written[k] {
		return "", fmt.Errorf("%w: tensor %q is read before any operator writes it", ErrFormat, t.f.tensors[k].name)
	}
	if ft := t.f.tensors[k]; ft.typ != typeFloat32 {
		return "", fmt.Errorf("%w: tensor %q is %s (quantised or integer activations)", ErrUnsupported, ft.name, typeName(ft.typ))
	}
	return t.names[k], nil
}

// constNode adds a Const node named name holding v (once).
func (t *translator) constNode(name string, v graph.Value) string {
	if !t.emitted[name] {
		t.emitted[name] = true
		t.g.Nodes = append(t.g.Nodes, graph.Node{Name: name, Op: "Const", Value: v})
	}
	return name
}

// derived adds a Const node holding v under a fresh name derived from
// base.
func (t *translator) derived(base, tag string, v graph.Value) string {
	return t.constNode(t.fresh(base+"/facesign."+tag), v)
}

func (t *translator) ints(base, tag string, v ...int) string {
	d := make([]int32, len(v))
	for i, x := range v {
		d[i] = int32(x)
	}
	return t.derived(base, tag, graph.Value{Int: &graph.IntTensor{Shape: []int{len(v)}, Data: d}})
}

func (t *translator) scalar(base, tag string, f float32) string {
	return t.derived(base, tag, graph.Value{Float: nn.Scalar(f)})
}

// shape returns the declared shape of tensor k.
func (t *translator) shape(k int32) []int { return t.f.tensors[k].shape }

// emit adds a computed node.
func (t *translator) emit(name, op string, attrs map[string]graph.Attr, inputs ...string) {
	t.g.Nodes = append(t.g.Nodes, graph.Node{Name: name, Op: op, Attrs: attrs, Inputs: inputs})
}

// constInts returns constant tensor k as ints.
func (t *translator) constInts(k int32, what string) ([]int, error) {
	if k < 0 || !t.isConst(int(k)) {
		return nil, fmt.Errorf("%w: %s must be a constant", ErrUnsupported, what)
	}
	v, err := t.constant(int(k))
	if err != nil {
		return nil, err
	}
	if v.Int == nil {
		return nil, fmt.Errorf("%w: %s is not an integer tensor", ErrFormat, what)
	}
	out := make([]int, len(v.Int.Data))
	for i, x := range v.Int.Data {
		out[i] = int(x)
	}
	return out, nil
}

// constFloat returns constant tensor k as a float tensor.
func (t *translator) constFloat(k int32, what string) (*nn.Tensor, error) {
	if k < 0 || !t.isConst(int(k)) {
		return nil, fmt.Errorf("%w: %s must be a constant", ErrUnsupported, what)
	}
	v, err := t.constant(int(k))
	if err != nil {
		return nil, err
	}
	if v.Float == nil {
		return nil, fmt.Errorf("%w: %s is not a float tensor", ErrFormat, what)
	}
	return v.Float, nil
}

func wantCounts(op fileOp, ins, outs int) error {
	if len(op.inputs) != ins || len(op.outputs) != outs {
		return fmt.Errorf("%w: %d inputs and %d outputs, want %d and %d", ErrFormat, len(op.inputs), len(op.outputs), ins, outs)
	}
	return nil
}

func sameDims(a, b []int) bool { return slices.Equal(a, b) }

// op translates one operator.
func (t *translator) op(op fileOp) error {
	spec, known := options[op.code]
	if !known {
		return &UnsupportedOpError{Node: t.opNode(op), Op: opName(op.code)}
	}
	if op.optType != optNone && op.optType != spec.typ {
		return fmt.Errorf("%w: options of union type %d, want %d", ErrFormat, op.optType, spec.typ)
	}
	if op.optType != optNone {
		if f := op.opts.maxField(); f >= spec.fields {
			return fmt.Errorf("%w: options field %d is not known to this reader", ErrUnsupported, f)
		}
	}
	for i, k := range op.inputs {
		if k < 0 && !optionalInput(op.code, i) {
			return fmt.Errorf("%w: required input %d is absent", ErrFormat, i)
		}
	}
	for _, k := range op.outputs {
		if t.written[k] || t.isConst(int(k)) {
			return fmt.Errorf("%w: tensor %q is written twice or is a constant", ErrFormat, t.f.tensors[k].name)
		}
		if ft := t.f.tensors[k]; ft.typ != typeFloat32 {
			return fmt.Errorf("%w: output %q is %s (quantised or integer activations)", ErrUnsupported, ft.name, typeName(ft.typ))
		}
	}
	var err error
	switch code := op.code; {
	case code == opConv2D || code == opDepthwiseConv2D:
		err = t.conv(op)
	case code == opFullyConnected:
		err = t.fullyConnected(op)
	case code == opAveragePool2D || code == opMaxPool2D:
		err = t.pool(op)
	case binaryOps[code] != "":
		err = t.binary(op)
	case unaryOps[code] != "":
		err = t.unary(op, unaryOps[code], nil)
	case code == opLeakyRelu:
		alpha, e := op.opts.f32(0, 0)
		if e != nil {
			return fieldErr("alpha", e)
		}
		err = t.unary(op, "LeakyRelu", map[string]graph.Attr{"alpha": graph.Float(alpha)})
	case code == opL2Normalization:
		if err := t.noActivation(op, 0); err != nil {
			return err
		}
		err = t.unary(op, "L2Normalize", map[string]graph.Attr{"epsilon": graph.Float(1e-12)})
	case code == opPrelu:
		err = t.prelu(op)
	case code == opSoftmax:
		err = t.softmax(op)
	case code == opReshape:
		err = t.reshape(op)
	case code == opSqueeze:
		err = t.squeeze(op)
	case code == opConcatenation:
		err = t.concat(op)
	case code == opPad || code == opPadV2:
		err = t.pad(op)
	case code == opMean || code == opSum || code == opReduceMax:
		err = t.reduce(op)
	case code == opTranspose:
		err = t.transpose(op)
	case code == opResizeBilinear:
		err = t.resize(op)
	case code == opDepthToSpace:
		err = t.depthToSpace(op)
	case code == opDequantize:
		err = t.dequantize(op)
	default:
		return &UnsupportedOpError{Node: t.opNode(op), Op: opName(op.code)}
	}
	if err != nil {
		return err
	}
	for _, k := range op.outputs {
		t.written[k] = true
	}
	return nil
}

// optionalInput reports whether input i of an op may be absent (-1): a
// bias, or a reshape's shape tensor (the option holds it then).
func optionalInput(code int32, i int) bool {
	switch code {
	case opConv2D, opDepthwiseConv2D, opFullyConnected:
		return i == 2
	case opReshape:
		return i == 1
	}
	return false
}

// opNode names an operator by its first output, for error messages.
func (t *translator) opNode(op fileOp) string {
	if len(op.outputs) > 0 {
		return t.names[op.outputs[0]]
	}
	return ""
}

// activation appends the fused activation act after node (named out when
// it is the op's result) and returns the name of the result. tmp is the
// name for the pre-activation value when an activation follows.
func (t *translator) activation(act uint8, base, out string) (pre string, post func() error, err error) {
	switch act {
	case actNone:
		return out, func() error { return nil }, nil
	case actRelu, actRelu6, 2:
		pre = t.fresh(base + "/facesign.preact")
		return pre, func() error {
			switch act {
			case actRelu:
				t.emit(out, "Relu", nil, pre)
			case actRelu6:
				t.emit(out, "Relu6", nil, pre)
			default: // RELU_N1_TO_1
				t.emit(out, "ClipByValue", nil, pre, t.scalar(base, "min", -1), t.scalar(base, "max", 1))
			}
			return nil
		}, nil
	case 4: // TANH
		pre = t.fresh(base + "/facesign.preact")
		return pre, func() error { t.emit(out, "Tanh", nil, pre); return nil }, nil
	}
	return "", nil, fmt.Errorf("%w: fused activation %s", ErrUnsupported, actName(act))
}

func actName(a uint8) string {
	if s, ok := actNames[a]; ok {
		return s
	}
	return strconv.Itoa(int(a))
}

func (t *translator) noActivation(op fileOp, field int) error {
	act, err := op.opts.u8(field, 0)
	if err != nil {
		return fieldErr("fused activation", err)
	}
	if act != actNone {
		return fmt.Errorf("%w: fused activation %s", ErrUnsupported, actName(act))
	}
	return nil
}

// window reads padding, strides and dilations from an options table at
// the given field ids (dilation ids < 0: none).
func window(o table, pad, sw, sh, dw, dh int) (padding string, s, d [2]int, err error) {
	p, err1 := o.u8(pad, 0)
	w, err2 := o.i32(sw, 0)
	h, err3 := o.i32(sh, 0)
	dwv, dhv := int32(1), int32(1)
	var err4, err5 error
	if dw >= 0 {
		dwv, err4 = o.i32(dw, 1)
		dhv, err5 = o.i32(dh, 1)
	}
	if err := firstErr(err1, err2, err3, err4, err5); err != nil {
		return "", s, d, fieldErr("options", err)
	}
	switch p {
	case paddingSame:
		padding = "SAME"
	case paddingValid:
		padding = "VALID"
	default:
		return "", s, d, fmt.Errorf("%w: padding %d", ErrFormat, p)
	}
	if h < 1 || w < 1 || dhv < 1 || dwv < 1 || h > 1<<16 || w > 1<<16 || dhv > 1<<16 || dwv > 1<<16 {
		return "", s, d, fmt.Errorf("%w: strides %d×%d, dilations %d×%d", ErrFormat, h, w, dhv, dwv)
	}
	return padding, [2]int{int(h), int(w)}, [2]int{int(dhv), int(dwv)}, nil
}

// outSize is TensorFlow's output size of a window of k (dilation d)
// sliding with stride s over n.
func outSize(padding string, n, k, s, d int) int {
	if padding == "SAME" {
		return (n + s - 1) / s
	}
	ek := (k-1)*d + 1
	if n < ek {
		return 0
	}
	return (n-ek)/s + 1
}

func (t *translator) conv(op fileOp) error {
	if len(op.inputs) != 2 && len(op.inputs) != 3 || len(op.outputs) != 1 {
		return fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(op.inputs), len(op.outputs))
	}
	depthwise := op.code == opDepthwiseConv2D
	o := op.opts
	var padding string
	var s, d [2]int
	var act uint8
	var err error
	if depthwise {
		padding, s, d, err = window(o, 0, 1, 2, 5, 6)
		if err == nil {
			act, err = o.u8(4, 0)
		}
	} else {
		padding, s, d, err = window(o, 0, 1, 2, 4, 5)
		if err == nil {
			act, err = o.u8(3, 0)
		}
	}
	if err != nil {
		return err
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	w, err := t.constFloat(op.inputs[1], "filter")
	if err != nil {
		return err
	}
	if len(x) != 4 || len(out) != 4 || len(w.Shape) != 4 {
		return fmt.Errorf("%w: input %v, filter %v, output %v", ErrFormat, x, w.Shape, out)
	}
	// TFLite filters: conv [O, KH, KW, I]; depthwise [1, KH, KW, C·M].
	// The graph's: conv HWIO [KH, KW, I, O]; depthwise [KH, KW, C, M].
	kh, kw := w.Shape[1], w.Shape[2]
	co := w.Shape[0]
	var filter *nn.Tensor
	if depthwise {
		c := x[3]
		co = w.Shape[3]
		if w.Shape[0] != 1 || c == 0 || co%c != 0 {
			return fmt.Errorf("%w: depthwise filter %v for input %v", ErrFormat, w.Shape, x)
		}
		if filter, err = nn.Reshape(w, kh, kw, c, co/c); err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
	} else {
		if w.Shape[3] != x[3] {
			return fmt.Errorf("%w: filter %v for input %v (grouped convolution)", ErrUnsupported, w.Shape, x)
		}
		if filter, err = nn.Transpose(w, 1, 2, 3, 0); err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
	}
	want := []int{x[0], outSize(padding, x[1], kh, s[0], d[0]), outSize(padding, x[2], kw, s[1], d[1]), co}
	if !sameDims(out, want) {
		return fmt.Errorf("%w: output %v, the convolution gives %v", ErrFormat, out, want)
	}
	name := t.names[op.outputs[0]]
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	inputs := []string{xin, t.derived(t.names[op.inputs[1]], "filter", graph.Value{Float: filter})}
	var fused []string
	if len(op.inputs) == 3 && op.inputs[2] >= 0 {
		b, err := t.constFloat(op.inputs[2], "bias")
		if err != nil {
			return err
		}
		if len(b.Data) != co || len(b.Shape) != 1 {
			return fmt.Errorf("%w: bias %v for %d channels", ErrFormat, b.Shape, co)
		}
		bn, err := t.in(op.inputs[2])
		if err != nil {
			return err
		}
		inputs = append(inputs, bn)
		fused = []string{"BiasAdd"}
	}
	node := name
	post := func() error { return nil }
	switch act {
	case actRelu:
		fused = append(fused, "Relu")
	case actRelu6:
		fused = append(fused, "Relu6")
	default:
		if node, post, err = t.activation(act, name, name); err != nil {
			return err
		}
	}
	attrs := map[string]graph.Attr{
		"padding":   graph.String(padding),
		"strides":   graph.Ints(1, s[0], s[1], 1),
		"dilations": graph.Ints(1, d[0], d[1], 1),
	}
	gop := "Conv2D"
	if depthwise {
		gop = "DepthwiseConv2dNative"
	}
	if len(fused) > 0 {
		gop = "_FusedConv2D"
		if depthwise {
			gop = "FusedDepthwiseConv2dNative"
		}
		attrs["fused_ops"] = graph.Strings(fused...)
		attrs["num_args"] = graph.Int(len(inputs) - 2)
	}
	t.emit(node, gop, attrs, inputs...)
	return post()
}

func (t *translator) fullyConnected(op fileOp) error {
	if len(op.inputs) != 2 && len(op.inputs) != 3 || len(op.outputs) != 1 {
		return fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(op.inputs), len(op.outputs))
	}
	o := op.opts
	act, err1 := o.u8(0, 0)
	format, err2 := o.u8(1, 0)
	keep, err3 := o.boolean(2)
	if err := firstErr(err1, err2, err3); err != nil {
		return fieldErr("options", err)
	}
	if format != 0 {
		return fmt.Errorf("%w: weights format %d", ErrUnsupported, format)
	}
	w, err := t.constFloat(op.inputs[1], "weights")
	if err != nil {
		return err
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	if len(w.Shape) != 2 || len(x) == 0 || w.Shape[1] == 0 {
		return fmt.Errorf("%w: weights %v for input %v", ErrFormat, w.Shape, x)
	}
	units, depth := w.Shape[0], w.Shape[1]
	n, _ := nn.CheckShape(x)
	if n%depth != 0 {
		return fmt.Errorf("%w: input %v is not a multiple of depth %d", ErrFormat, x, depth)
	}
	want := []int{n / depth, units}
	if keep {
		if x[len(x)-1] != depth {
			return fmt.Errorf("%w: keep_num_dims with input %v and depth %d", ErrFormat, x, depth)
		}
		want = append(slices.Clone(x[:len(x)-1]), units)
	}
	if !sameDims(out, want) {
		return fmt.Errorf("%w: output %v, the layer gives %v", ErrFormat, out, want)
	}
	wt, err := nn.Transpose(w, 1, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	name := t.names[op.outputs[0]]
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	flat := t.fresh(name + "/facesign.flatten")
	t.emit(flat, "Reshape", nil, xin, t.ints(name, "flatshape", -1, depth))
	inputs := []string{flat, t.derived(t.names[op.inputs[1]], "weights", graph.Value{Float: wt})}
	var fused []string
	if len(op.inputs) == 3 && op.inputs[2] >= 0 {
		b, err := t.constFloat(op.inputs[2], "bias")
		if err != nil {
			return err
		}
		if len(b.Data) != units {
			return fmt.Errorf("%w: bias %v for %d units", ErrFormat, b.Shape, units)
		}
		bn, err := t.in(op.inputs[2])
		if err != nil {
			return err
		}
		inputs = append(inputs, bn)
		fused = []string{"BiasAdd"}
	}
	result := name
	if keep && len(x) != 2 {
		result = t.fresh(name + "/facesign.matmul")
	}
	node, post, err := t.activation(act, name, result)
	if err != nil {
		return err
	}
	if act == actRelu || act == actRelu6 {
		fused = append(fused, map[uint8]string{actRelu: "Relu", actRelu6: "Relu6"}[act])
		node, post = result, func() error { return nil }
	}
	t.emit(node, "_FusedMatMul", map[string]graph.Attr{"fused_ops": graph.Strings(fused...), "num_args": graph.Int(len(inputs) - 2)}, inputs...)
	if err := post(); err != nil {
		return err
	}
	if result != name {
		shape := slices.Clone(out)
		if t.batch > 0 {
			shape[0] = 1
		}
		t.emit(name, "Reshape", nil, result, t.ints(name, "outshape", shape...))
	}
	return nil
}
