package onnx

import (
	"fmt"
	"math"
	"slices"
)

// Values known at load time: Constant, Cast, DequantizeLinear.

// constantNode evaluates a Constant node.
func (t *translator) constantNode(n *nodeProto) error {
	name := nodeName(n)
	a, err := newAttrs(name, n, "value", "value_float", "value_floats", "value_int", "value_ints")
	if err != nil {
		return err
	}
	if len(n.inputs) != 0 || len(n.outputs) != 1 || len(a.m) != 1 {
		return a.errorf("a Constant needs no inputs, one output and one value attribute")
	}
	var c *constant
	switch {
	case a.has("value"):
		tp, err := a.tensor("value")
		if err != nil {
			return err
		}
		if c, err = decodeConstant(tp); err != nil {
			return err
		}
	case a.has("value_float"):
		f, err := a.float("value_float", 0)
		if err != nil {
			return err
		}
		c = &constant{dtype: typeFloat, shape: []int{}, f: []float32{f}}
	case a.has("value_floats"):
		f, err := a.floats("value_floats")
		if err != nil {
			return err
		}
		c = &constant{dtype: typeFloat, shape: []int{len(f)}, f: slices.Clone(f)}
	case a.has("value_int"):
		p, err := a.get("value_int", attrInt)
		if err != nil {
			return err
		}
		c = &constant{dtype: typeInt64, shape: []int{}, i: []int64{p.i}}
	default:
		p, err := a.get("value_ints", attrInts)
		if err != nil {
			return err
		}
		c = &constant{dtype: typeInt64, shape: []int{len(p.ints)}, i: slices.Clone(p.ints)}
	}
	t.vals[n.outputs[0]] = &tval{shape: c.shape, dtype: c.dtype, c: c}
	return nil
}

// castOp folds Cast of constants; a computed value may only be cast to
// FLOAT (what it already is).
func castOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	allowed := []string{"to"}
	if t.opset >= 19 {
		allowed = append(allowed, "saturate")
	}
	a, err := newAttrs(name, n, allowed...)
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 1, 1); err != nil {
		return err
	}
	to, err := a.int("to", 0)
	if err != nil {
		return err
	}
	x := t.in(n, 0)
	if x.c == nil {
		if to != typeFloat {
			return fmt.Errorf("%w: node %q: cast to %s", ErrDataType, name, typeName(int32(to)))
		}
		t.vals[n.outputs[0]] = x
		return nil
	}
	c := &constant{dtype: int32(to), shape: x.shape}
	switch to {
	case typeFloat:
		c.f = x.c.float32s()
	case typeInt64, typeInt32:
		c.i = make([]int64, len(x.c.i)+len(x.c.f))
		if x.c.isFloat() {
			for k, v := range x.c.f {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > math.MaxInt32 {
					return a.errorf("cast of %v to an integer", v)
				}
				c.i[k] = int64(v)
			}
		} else {
			copy(c.i, x.c.i)
		}
	default:
		return fmt.Errorf("%w: node %q: cast to %s", ErrDataType, name, typeName(int32(to)))
	}
	t.vals[n.outputs[0]] = &tval{shape: c.shape, dtype: c.dtype, c: c}
	return nil
}

// dequantizeOp folds DequantizeLinear of a quantised constant (weights
// stored as INT8, UINT8 or INT32 with a scale and zero point) into float32
// at load time: y = float32(x − zero_point) · scale, per tensor or per
// slice along axis.
func dequantizeOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	allowed := []string{}
	if t.opset >= 13 {
		allowed = append(allowed, "axis")
	}
	if t.opset >= 21 {
		allowed = append(allowed, "block_size")
	}
	a, err := newAttrs(name, n, allowed...)
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 2, 3); err != nil {
		return err
	}
	x, sv, zv := t.in(n, 0), t.in(n, 1), t.in(n, 2)
	if x.c == nil {
		return a.errorf("only constants (quantised weights) can be dequantised")
	}
	if x.dtype != typeInt8 && x.dtype != typeUint8 && x.dtype != typeInt32 {
		return fmt.Errorf("%w: node %q: dequantising %s", ErrDataType, name, typeName(x.dtype))
	}
	scale, err := constFloat(name, sv, "the scale")
	if err != nil {
		return err
	}
	if scale.dtype != typeFloat {
		return fmt.Errorf("%w: node %q: scale of type %s", ErrDataType, name, typeName(scale.dtype))
	}
	if bs, err := a.int("block_size", 0); err != nil || bs != 0 {
		return a.errorf("blocked quantisation")
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	var zero []int64
	if zv != nil {
		if zv.c == nil || zv.dtype != x.dtype || !slices.Equal(zv.shape, scale.shape) {
			return a.errorf("the zero point must be a constant of the input's type and the scale's shape")
		}
		zero = zv.c.i
	}
	rank := len(x.shape)
	per := 1 // values sharing one scale along the inner axes
	switch {
	case len(scale.f) == 1 && len(scale.shape) <= 1:
	case len(scale.shape) == 1:
		if axis < 0 {
			axis += rank
		}
		if axis < 0 || axis >= rank || x.shape[axis] != scale.shape[0] {
			return fmt.Errorf("%w: node %q: scale %v along axis %d of %v", ErrShape, name, scale.shape, axis, x.shape)
		}
		per = product(x.shape[axis+1:])
	default:
		return fmt.Errorf("%w: node %q: scale of shape %v", ErrShape, name, scale.shape)
	}
	out := make([]float32, len(x.c.i))
	for k, q := range x.c.i {
		j := 0
		if len(scale.f) > 1 {
			j = (k / per) % len(scale.f)
		}
		var z int64
		if zero != nil {
			z = zero[j]
		}
		out[k] = float32(q-z) * scale.f[j]
	}
	t.vals[n.outputs[0]] = &tval{shape: slices.Clone(x.shape), dtype: typeFloat, c: &constant{dtype: typeFloat, shape: slices.Clone(x.shape), f: out}}
	return nil
}
