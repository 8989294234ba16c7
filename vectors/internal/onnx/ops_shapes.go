package onnx

import (
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Reshaping, transposing and concatenating.

// reshapeTo gives n's first output the data of value x (name) with a new
// shape, in ONNX element order. An NHWC value is transposed back first
// unless its NHWC and NCHW element orders coincide (one channel, or 1×1
// spatial).
func (t *translator) reshapeTo(name string, n *nodeProto, x *tval, shape []int) error {
	if product(shape) != product(x.shape) {
		return fmt.Errorf("%w: node %q: reshape %v to %v", ErrShape, name, x.shape, shape)
	}
	if t.batchFrom != 0 && len(x.shape) > 0 && (len(shape) == 0 || shape[0] != x.shape[0]) {
		return fmt.Errorf("%w: node %q: reshape %v to %v mixes the batch dimension, fixed at %d in the model, with the others", ErrShape, name, x.shape, shape, t.batchFrom)
	}
	if x.c != nil {
		c := *x.c
		c.shape = slices.Clone(shape)
		t.vals[n.outputs[0]] = &tval{shape: c.shape, dtype: c.dtype, c: &c}
		return nil
	}
	src := x.ir[x.home]
	if x.home == nhwcLayout && x.shape[1] != 1 && x.shape[2]*x.shape[3] != 1 {
		var err error
		if src, err = t.get(n.inputs[0], x, onnxLayout); err != nil {
			return err
		}
	}
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "Reshape", Inputs: []string{src, t.constI(n.outputs[0]+"/shape", shape...)}})
	t.computed(n.outputs[0], slices.Clone(shape), onnxLayout, ir)
	return nil
}

func flattenOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "axis")
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 1, 1); err != nil {
		return err
	}
	x := t.in(n, 0)
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	if axis < 0 {
		axis += len(x.shape)
	}
	if axis < 0 || axis > len(x.shape) {
		return a.errorf("axis %d for rank %d", axis, len(x.shape))
	}
	return t.reshapeTo(name, n, x, []int{product(x.shape[:axis]), product(x.shape[axis:])})
}

func reshapeOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	allowed := []string{}
	if t.opset >= 14 {
		allowed = append(allowed, "allowzero")
	}
	a, err := newAttrs(name, n, allowed...)
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 2, 2); err != nil {
		return err
	}
	x, sv := t.in(n, 0), t.in(n, 1)
	if sv.c == nil {
		return a.errorf("the target shape must be a constant")
	}
	target, err := sv.c.ints("the target shape")
	if err != nil {
		return err
	}
	if len(sv.shape) != 1 || len(target) > maxRank {
		return fmt.Errorf("%w: node %q: target shape %v", ErrShape, name, target)
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	shape := make([]int, len(target))
	infer := -1
	for k, d := range target {
		switch {
		case d == 0 && allowZero == 0:
			if k >= len(x.shape) {
				return fmt.Errorf("%w: node %q: target %v copies dimension %d of %v", ErrShape, name, target, k, x.shape)
			}
			shape[k] = x.shape[k]
		case d == -1 && infer < 0:
			infer = k
		case d < 0 || d > maxElements:
			return fmt.Errorf("%w: node %q: target shape %v", ErrShape, name, target)
		default:
			shape[k] = int(d)
			if k == 0 && t.batchFrom != 0 && shape[0] == t.batchFrom {
				shape[0] = 1 // the batch dimension, rewritten to 1
			}
		}
	}
	if infer >= 0 {
		shape[infer] = 1
		known := product(shape)
		if known == 0 || product(x.shape)%known != 0 {
			return fmt.Errorf("%w: node %q: reshape %v to %v", ErrShape, name, x.shape, target)
		}
		shape[infer] = product(x.shape) / known
	}
	return t.reshapeTo(name, n, x, shape)
}

func transposeOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "perm")
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 1, 1); err != nil {
		return err
	}
	x := t.in(n, 0)
	perm, err := a.ints("perm")
	if err != nil {
		return err
	}
	if perm == nil {
		for k := len(x.shape) - 1; k >= 0; k-- {
			perm = append(perm, k)
		}
	}
	seen := make([]bool, len(x.shape))
	for _, p := range perm {
		if p < 0 || p >= len(x.shape) || seen[p] {
			return a.errorf("perm %v for rank %d", perm, len(x.shape))
		}
		seen[p] = true
	}
	if len(perm) != len(x.shape) {
		return a.errorf("perm %v for rank %d", perm, len(x.shape))
	}
	shape := make([]int, len(perm))
	for k, p := range perm {
		shape[k] = x.shape[p]
	}
	if x.c != nil {
		if x.c.dtype != typeFloat {
			return fmt.Errorf("%w: node %q: transpose of %s", ErrDataType, name, typeName(x.dtype))
		}
		data, _ := permute(x.c.f, x.shape, perm)
		t.vals[n.outputs[0]] = &tval{shape: shape, dtype: x.dtype, c: &constant{dtype: x.dtype, shape: shape, f: data}}
		return nil
	}
	if x.home == nhwcLayout && slices.Equal(perm, toNHWC) {
		// The NHWC tensor already is this transpose, in ONNX layout.
		t.computed(n.outputs[0], shape, onnxLayout, x.ir[nhwcLayout])
		return nil
	}
	xin, err := t.get(n.inputs[0], x, onnxLayout)
	if err != nil {
		return err
	}
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "Transpose", Inputs: []string{xin, t.constI(n.outputs[0]+"/perm", perm...)}})
	t.computed(n.outputs[0], shape, onnxLayout, ir)
	return nil
}

func concatOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "axis")
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 1, len(n.inputs)); err != nil {
		return err
	}
	if !a.has("axis") {
		return a.errorf("axis is required")
	}
	axis, err := a.int("axis", 0)
	if err != nil {
		return err
	}
	vs := make([]*tval, len(n.inputs))
	for k := range n.inputs {
		if vs[k] = t.in(n, k); vs[k] == nil {
			return a.errorf("input %d is empty", k)
		}
	}
	rank := len(vs[0].shape)
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return a.errorf("axis %d for rank %d", axis, rank)
	}
	if t.batchFrom != 0 && axis == 0 {
		return fmt.Errorf("%w: node %q: concatenation along the batch dimension, fixed at %d in the model", ErrShape, name, t.batchFrom)
	}
	shape := slices.Clone(vs[0].shape)
	shape[axis] = 0
	layout, allConst := onnxLayout, true
	for k, v := range vs {
		if len(v.shape) != rank {
			return fmt.Errorf("%w: node %q: input %d of rank %d, want %d", ErrShape, name, k, len(v.shape), rank)
		}
		for d := range rank {
			if d != axis && v.shape[d] != vs[0].shape[d] {
				return fmt.Errorf("%w: node %q: input %d of shape %v, want %v outside axis %d", ErrShape, name, k, v.shape, vs[0].shape, axis)
			}
		}
		shape[axis] += v.shape[axis]
		if v.c == nil {
			allConst = false
			if v.home == nhwcLayout {
				layout = nhwcLayout
			}
		}
	}
	if len(vs) == 1 {
		t.vals[n.outputs[0]] = vs[0]
		return nil
	}
	if allConst {
		return a.errorf("concatenation of constants only") // shape arithmetic is not supported
	}
	irAxis := axis
	if layout == nhwcLayout {
		irAxis = slices.Index(toNHWC, axis)
	}
	ins := make([]string, 0, len(vs)+1)
	for k, v := range vs {
		s, err := t.operand(n.inputs[k], v, rank, layout)
		if err != nil {
			return err
		}
		ins = append(ins, s)
	}
	ins = append(ins, t.add(graph.Node{Name: n.outputs[0] + "/axis", Op: "Const", Value: graph.Value{Int: &graph.IntTensor{Shape: []int{}, Data: []int32{int32(irAxis)}}}}))
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "ConcatV2", Inputs: ins})
	t.computed(n.outputs[0], shape, layout, ir)
	return nil
}
