package tflite

import (
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

func (t *translator) pool(op fileOp) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	padding, s, _, err := window(op.opts, 0, 1, 2, -1, -1)
	if err != nil {
		return err
	}
	fw, err1 := op.opts.i32(3, 0)
	fh, err2 := op.opts.i32(4, 0)
	act, err3 := op.opts.u8(5, 0)
	if err := firstErr(err1, err2, err3); err != nil {
		return fieldErr("options", err)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	if fw < 1 || fh < 1 || fw > 1<<16 || fh > 1<<16 || len(x) != 4 {
		return fmt.Errorf("%w: filter %d×%d on input %v", ErrFormat, fh, fw, x)
	}
	want := []int{x[0], outSize(padding, x[1], int(fh), s[0], 1), outSize(padding, x[2], int(fw), s[1], 1), x[3]}
	if !sameDims(out, want) {
		return fmt.Errorf("%w: output %v, the pool gives %v", ErrFormat, out, want)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	node, post, err := t.activation(act, name, name)
	if err != nil {
		return err
	}
	gop := "AvgPool"
	if op.code == opMaxPool2D {
		gop = "MaxPool"
	}
	t.emit(node, gop, map[string]graph.Attr{"padding": graph.String(padding), "strides": graph.Ints(1, s[0], s[1], 1),
		"ksize": graph.Ints(1, int(fh), int(fw), 1)}, xin)
	return post()
}

func (t *translator) binary(op fileOp) error {
	if err := wantCounts(op, 2, 1); err != nil {
		return err
	}
	var act uint8
	if op.optType != optNone && op.code != opMaximum && op.code != opMinimum && op.code != opSquaredDiff {
		var err error
		if act, err = op.opts.u8(0, 0); err != nil {
			return fieldErr("options", err)
		}
	}
	a, b, out := t.shape(op.inputs[0]), t.shape(op.inputs[1]), t.shape(op.outputs[0])
	if want, err := nn.BroadcastShape(a, b); err != nil || !sameDims(want, out) {
		return fmt.Errorf("%w: %v and %v give %v, not %v", ErrFormat, a, b, want, out)
	}
	x, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	y, err := t.in(op.inputs[1])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	node, post, err := t.activation(act, name, name)
	if err != nil {
		return err
	}
	t.emit(node, binaryOps[op.code], nil, x, y)
	return post()
}

func (t *translator) unary(op fileOp, gop string, attrs map[string]graph.Attr) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	if !sameDims(t.shape(op.inputs[0]), t.shape(op.outputs[0])) {
		return fmt.Errorf("%w: input %v, output %v", ErrFormat, t.shape(op.inputs[0]), t.shape(op.outputs[0]))
	}
	if gop == "L2Normalize" && len(t.shape(op.inputs[0])) == 0 {
		return fmt.Errorf("%w: L2 normalisation of a scalar", ErrFormat)
	}
	x, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	t.emit(t.names[op.outputs[0]], gop, attrs, x)
	return nil
}

func (t *translator) prelu(op fileOp) error {
	if err := wantCounts(op, 2, 1); err != nil {
		return err
	}
	x, alpha, out := t.shape(op.inputs[0]), t.shape(op.inputs[1]), t.shape(op.outputs[0])
	if want, err := nn.BroadcastShape(x, alpha); err != nil || !sameDims(want, x) || !sameDims(x, out) {
		return fmt.Errorf("%w: prelu of %v with slopes %v gives %v", ErrFormat, x, alpha, out)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	a, err := t.in(op.inputs[1])
	if err != nil {
		return err
	}
	t.emit(t.names[op.outputs[0]], "Prelu", nil, xin, a)
	return nil
}

func (t *translator) softmax(op fileOp) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	beta, err := op.opts.f32(0, 0)
	if err != nil {
		return fieldErr("beta", err)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	if len(x) == 0 || !sameDims(x, out) || !(beta > 0) || beta > 1e30 {
		return fmt.Errorf("%w: softmax of %v (beta %v) gives %v", ErrFormat, x, beta, out)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	if beta != 1 {
		scaled := t.fresh(name + "/facesign.beta")
		t.emit(scaled, "Mul", nil, xin, t.scalar(name, "betavalue", beta))
		xin = scaled
	}
	t.emit(name, "Softmax", nil, xin)
	return nil
}

// outShape is tensor k's declared shape with the batch rewritten.
func (t *translator) outShape(k int32) []int {
	s := slices.Clone(t.shape(k))
	if t.batch > 0 && len(s) > 0 {
		s[0] = 1
	}
	return s
}

func (t *translator) reshape(op fileOp) error {
	if len(op.inputs) != 1 && len(op.inputs) != 2 || len(op.outputs) != 1 {
		return fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(op.inputs), len(op.outputs))
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	// The requested shape: the shape input, else the option.
	var req []int
	var err error
	if len(op.inputs) == 2 && op.inputs[1] >= 0 {
		if req, err = t.constInts(op.inputs[1], "reshape shape"); err != nil {
			return err
		}
	} else if op.optType != optNone {
		s, e := op.opts.ints(0)
		if e != nil {
			return fieldErr("new_shape", e)
		}
		for _, v := range s {
			req = append(req, int(v))
		}
	} else {
		return fmt.Errorf("%w: reshape without a shape", ErrFormat)
	}
	n, err1 := nn.CheckShape(x)
	m, err2 := nn.CheckShape(out)
	if firstErr(err1, err2) != nil || n != m || len(req) != len(out) {
		return fmt.Errorf("%w: reshape %v to %v (requested %v)", ErrFormat, x, out, req)
	}
	for i, r := range req {
		if r != out[i] && r != -1 {
			return fmt.Errorf("%w: reshape %v to %v (requested %v)", ErrFormat, x, out, req)
		}
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	t.emit(name, "Reshape", nil, xin, t.ints(name, "shape", t.outShape(op.outputs[0])...))
	return nil
}

func (t *translator) squeeze(op fileOp) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	dims, err := op.opts.ints(0)
	if err != nil {
		return fieldErr("squeeze_dims", err)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	drop := make([]bool, len(x))
	for _, d := range dims {
		a := int(d)
		if a < 0 {
			a += len(x)
		}
		if a < 0 || a >= len(x) || x[a] != 1 {
			return fmt.Errorf("%w: squeeze axis %d of %v", ErrFormat, d, x)
		}
		drop[a] = true
	}
	var want []int
	for i, v := range x {
		if !drop[i] && !(len(dims) == 0 && v == 1) {
			want = append(want, v)
		}
	}
	if !sameDims(want, out) && !(len(want) == 0 && len(out) == 0) {
		return fmt.Errorf("%w: squeeze of %v gives %v", ErrFormat, x, out)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	// A reshape to the declared shape: the graph's Squeeze without axes
	// would also drop a batch rewritten to 1.
	name := t.names[op.outputs[0]]
	t.emit(name, "Reshape", nil, xin, t.ints(name, "shape", t.outShape(op.outputs[0])...))
	return nil
}

func (t *translator) concat(op fileOp) error {
	if len(op.inputs) < 1 || len(op.outputs) != 1 {
		return fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(op.inputs), len(op.outputs))
	}
	axis, err1 := op.opts.i32(0, 0)
	act, err2 := op.opts.u8(1, 0)
	if err := firstErr(err1, err2); err != nil {
		return fieldErr("options", err)
	}
	out := t.shape(op.outputs[0])
	a := int(axis)
	if a < 0 {
		a += len(out)
	}
	if a < 0 || a >= len(out) {
		return fmt.Errorf("%w: concat axis %d for %v", ErrFormat, axis, out)
	}
	sum := 0
	var ins []string
	for _, k := range op.inputs {
		s := t.shape(k)
		if len(s) != len(out) {
			return fmt.Errorf("%w: concat of %v into %v", ErrFormat, s, out)
		}
		for i := range s {
			if i != a && s[i] != out[i] {
				return fmt.Errorf("%w: concat of %v into %v", ErrFormat, s, out)
			}
		}
		sum += s[a]
		in, err := t.in(k)
		if err != nil {
			return err
		}
		ins = append(ins, in)
	}
	if sum != out[a] {
		return fmt.Errorf("%w: concat sizes add to %d, output has %d", ErrFormat, sum, out[a])
	}
	name := t.names[op.outputs[0]]
	node, post, err := t.activation(act, name, name)
	if err != nil {
		return err
	}
	if len(ins) == 1 {
		t.emit(node, "Identity", nil, ins[0])
		return post()
	}
	ax := t.derived(name, "axis", graph.Value{Int: &graph.IntTensor{Shape: []int{}, Data: []int32{int32(a)}}})
	t.emit(node, "ConcatV2", map[string]graph.Attr{"N": graph.Int(len(ins))}, append(ins, ax)...)
	return post()
}

func (t *translator) pad(op fileOp) error {
	want := 2
	if op.code == opPadV2 {
		want = 3
	}
	if err := wantCounts(op, want, 1); err != nil {
		return err
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	p, err := t.constInts(op.inputs[1], "paddings")
	if err != nil {
		return err
	}
	if len(p) != 2*len(x) || len(out) != len(x) {
		return fmt.Errorf("%w: %d paddings for %v", ErrFormat, len(p), x)
	}
	for i := range x {
		if p[2*i] < 0 || p[2*i+1] < 0 || x[i]+p[2*i]+p[2*i+1] != out[i] {
			return fmt.Errorf("%w: paddings %v take %v to %v", ErrFormat, p, x, out)
		}
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	ins := []string{xin, t.ints(name, "paddings", p...)}
	gop := "Pad"
	if op.code == opPadV2 {
		v, err := t.constFloat(op.inputs[2], "pad value")
		if err != nil {
			return err
		}
		if len(v.Data) != 1 {
			return fmt.Errorf("%w: pad value %v", ErrFormat, v.Shape)
		}
		ins = append(ins, t.scalar(name, "padvalue", v.Data[0]))
		gop = "PadV2"
	}
	t.emit(name, gop, nil, ins...)
	return nil
}

func (t *translator) reduce(op fileOp) error {
	if err := wantCounts(op, 2, 1); err != nil {
		return err
	}
	keep, err := op.opts.boolean(0)
	if err != nil {
		return fieldErr("keep_dims", err)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	axes, err := t.constInts(op.inputs[1], "axes")
	if err != nil {
		return err
	}
	drop := make([]bool, len(x))
	for _, a := range axes {
		if a < 0 {
			a += len(x)
		}
		if a < 0 || a >= len(x) {
			return fmt.Errorf("%w: axis %d of %v", ErrFormat, a, x)
		}
		drop[a] = true
	}
	var want []int
	for i, v := range x {
		switch {
		case !drop[i]:
			want = append(want, v)
		case keep:
			want = append(want, 1)
		}
	}
	if !sameDims(want, out) && !(len(want) == 0 && len(out) == 0) {
		return fmt.Errorf("%w: reduction of %v over %v gives %v", ErrFormat, x, axes, out)
	}
	if len(axes) == 0 {
		return fmt.Errorf("%w: reduction over no axes", ErrUnsupported)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	gop := map[int32]string{opMean: "Mean", opSum: "Sum", opReduceMax: "Max"}[op.code]
	t.emit(name, gop, map[string]graph.Attr{"keep_dims": graph.Bool(keep)}, xin, t.ints(name, "axes", axes...))
	return nil
}

func (t *translator) transpose(op fileOp) error {
	if err := wantCounts(op, 2, 1); err != nil {
		return err
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	perm, err := t.constInts(op.inputs[1], "permutation")
	if err != nil {
		return err
	}
	if len(perm) != len(x) || len(out) != len(x) {
		return fmt.Errorf("%w: permutation %v of %v", ErrFormat, perm, x)
	}
	seen := make([]bool, len(x))
	for i, p := range perm {
		if p < 0 || p >= len(x) || seen[p] || out[i] != x[p] {
			return fmt.Errorf("%w: permutation %v takes %v to %v", ErrFormat, perm, x, out)
		}
		seen[p] = true
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	t.emit(name, "Transpose", nil, xin, t.ints(name, "perm", perm...))
	return nil
}

func (t *translator) resize(op fileOp) error {
	if err := wantCounts(op, 2, 1); err != nil {
		return err
	}
	align, err1 := op.opts.boolean(2)
	half, err2 := op.opts.boolean(3)
	if err := firstErr(err1, err2); err != nil {
		return fieldErr("options", err)
	}
	if align && half {
		return fmt.Errorf("%w: align_corners with half_pixel_centers", ErrFormat)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	size, err := t.constInts(op.inputs[1], "size")
	if err != nil {
		return err
	}
	if len(x) != 4 || len(size) != 2 || !sameDims(out, []int{x[0], size[0], size[1], x[3]}) {
		return fmt.Errorf("%w: resize %v to %v gives %v", ErrFormat, x, size, out)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	name := t.names[op.outputs[0]]
	t.emit(name, "ResizeBilinear", map[string]graph.Attr{"align_corners": graph.Bool(align), "half_pixel_centers": graph.Bool(half)},
		xin, t.ints(name, "size", size...))
	return nil
}

func (t *translator) depthToSpace(op fileOp) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	b, err := op.opts.i32(0, 0)
	if err != nil {
		return fieldErr("block_size", err)
	}
	x, out := t.shape(op.inputs[0]), t.shape(op.outputs[0])
	if b < 1 || b > 1<<10 || len(x) != 4 || x[3]%int(b*b) != 0 ||
		!sameDims(out, []int{x[0], x[1] * int(b), x[2] * int(b), x[3] / int(b*b)}) {
		return fmt.Errorf("%w: depth to space of %v by %d gives %v", ErrFormat, x, b, out)
	}
	xin, err := t.in(op.inputs[0])
	if err != nil {
		return err
	}
	t.emit(t.names[op.outputs[0]], "DepthToSpace", map[string]graph.Attr{"block_size": graph.Int(int(b))}, xin)
	return nil
}

// dequantize folds DEQUANTIZE of a constant (float16 or quantised
// integers) into a float32 constant; of a computed tensor it is
// unsupported (that would be a quantised activation).
func (t *translator) dequantize(op fileOp) error {
	if err := wantCounts(op, 1, 1); err != nil {
		return err
	}
	k := op.inputs[0]
	if k < 0 || !t.isConst(int(k)) {
		return fmt.Errorf("%w: DEQUANTIZE of a computed tensor", ErrUnsupported)
	}
	v, err := t.constant(int(k))
	if err != nil {
		return err
	}
	if v.Float == nil || !sameDims(t.shape(k), t.shape(op.outputs[0])) {
		return fmt.Errorf("%w: DEQUANTIZE of %s %v to %v", ErrFormat, typeName(t.f.tensors[k].typ), t.shape(k), t.shape(op.outputs[0]))
	}
	t.consts[int(op.outputs[0])] = v
	return nil
}
