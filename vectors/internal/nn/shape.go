package nn

import "fmt"

// Concat joins tensors along axis; every other dimension must agree.
func Concat(axis int, ts ...*Tensor) (*Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: concat of nothing", ErrArgument)
	}
	r := len(ts[0].Shape)
	axis, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), ts[0].Shape...)
	shape[axis] = 0
	for _, t := range ts {
		if len(t.Shape) != r {
			return nil, fmt.Errorf("%w: concat of ranks %d and %d", ErrShape, r, len(t.Shape))
		}
		for i, d := range t.Shape {
			if i != axis && d != ts[0].Shape[i] {
				return nil, fmt.Errorf("%w: concat %v with %v on axis %d", ErrShape, ts[0].Shape, t.Shape, axis)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	if _, err := CheckShape(shape); err != nil {
		return nil, err
	}
	outer := 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	out := New(shape...)
	pos := 0
	for o := range outer {
		for _, t := range ts {
			k := t.Shape[axis] * inner
			pos += copy(out.Data[pos:], t.Data[o*k:(o+1)*k])
		}
	}
	return out, nil
}

// Pad pads x with value; pads holds {before, after} per axis.
func Pad(x *Tensor, pads [][2]int, value float32) (*Tensor, error) {
	if len(pads) != len(x.Shape) {
		return nil, fmt.Errorf("%w: %d paddings for rank %d", ErrShape, len(pads), len(x.Shape))
	}
	shape := make([]int, len(x.Shape))
	for i, p := range pads {
		if p[0] < 0 || p[1] < 0 {
			return nil, fmt.Errorf("%w: negative padding %v", ErrArgument, p)
		}
		shape[i] = x.Shape[i] + p[0] + p[1]
	}
	if _, err := CheckShape(shape); err != nil {
		return nil, err
	}
	out := New(shape...)
	if value != 0 {
		for i := range out.Data {
			out.Data[i] = value
		}
	}
	if len(x.Data) == 0 {
		return out, nil
	}
	if len(shape) == 0 {
		out.Data[0] = x.Data[0]
		return out, nil
	}
	// Copy innermost rows.
	last := len(shape) - 1
	rowLen := x.Shape[last]
	ostr := strides(shape)
	idx := make([]int, last)
	for src := 0; src < len(x.Data); src += rowLen {
		dst := pads[last][0]
		for d, i := range idx {
			dst += (i + pads[d][0]) * ostr[d]
		}
		copy(out.Data[dst:dst+rowLen], x.Data[src:src+rowLen])
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < x.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Transpose permutes the axes of x: output axis i is input axis perm[i].
func Transpose(x *Tensor, perm ...int) (*Tensor, error) {
	r := len(x.Shape)
	if len(perm) != r {
		return nil, fmt.Errorf("%w: permutation %v for rank %d", ErrArgument, perm, r)
	}
	seen := make([]bool, r)
	shape := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("%w: permutation %v", ErrArgument, perm)
		}
		seen[p] = true
		shape[i] = x.Shape[p]
	}
	in := strides(x.Shape)
	step := make([]int, r)
	for i, p := range perm {
		step[i] = in[p]
	}
	out := New(shape...)
	idx := make([]int, r)
	src := 0
	for i := range out.Data {
		out.Data[i] = x.Data[src]
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			src += step[d]
			if idx[d] < shape[d] {
				break
			}
			src -= step[d] * idx[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// DepthToSpace moves blocks of channels of x (NHWC) into block×block
// spatial tiles (TensorFlow's DepthToSpace, DCR order).
func DepthToSpace(x *Tensor, block int) (*Tensor, error) {
	n, h, w, c, err := dims4(x, "depth-to-space input")
	if err != nil {
		return nil, err
	}
	if block < 1 || c%(block*block) != 0 {
		return nil, fmt.Errorf("%w: block %d for %d channels", ErrArgument, block, c)
	}
	oc := c / (block * block)
	out := New(n, h*block, w*block, oc)
	for b := range n {
		for y := range h {
			for xx := range w {
				src := x.Data[((b*h+y)*w+xx)*c:]
				for by := range block {
					for bx := range block {
						dst := out.Data[((b*h*block+y*block+by)*w*block+xx*block+bx)*oc:]
						copy(dst[:oc], src[(by*block+bx)*oc:(by*block+bx+1)*oc])
					}
				}
			}
		}
	}
	return out, nil
}
