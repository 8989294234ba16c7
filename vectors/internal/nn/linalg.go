package nn

import (
	"fmt"
	"math"
)

// MatMul multiplies 2-D a (m×k, or k×m when transA) by b (k×n, or n×k
// when transB), adds bias (n values, or nil) and applies act — TensorFlow's
// MatMul / _FusedMatMul, and a fully connected layer.
func MatMul(a, b *Tensor, transA, transB bool, bias []float32, act Activation) (*Tensor, error) {
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, fmt.Errorf("%w: matmul of %v and %v", ErrShape, a.Shape, b.Shape)
	}
	var err error
	if transA {
		if a, err = Transpose(a, 1, 0); err != nil {
			return nil, err
		}
	}
	if transB {
		if b, err = Transpose(b, 1, 0); err != nil {
			return nil, err
		}
	}
	m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
	if b.Shape[0] != k {
		return nil, fmt.Errorf("%w: matmul of %v and %v", ErrShape, a.Shape, b.Shape)
	}
	if bias != nil && len(bias) != n {
		return nil, fmt.Errorf("%w: %d biases for %d outputs", ErrShape, len(bias), n)
	}
	if err := act.check(n); err != nil {
		return nil, err
	}
	if _, err := CheckShape([]int{m, n}); err != nil {
		return nil, err
	}
	out := New(m, n)
	gemm(m, n, k, a.Data, b.Data, out.Data)
	if bias != nil || act.Kind != Linear {
		for r := range m {
			act.applyRow(out.Data[r*n:(r+1)*n], bias)
		}
	}
	return out, nil
}

// Reduce is a reduction over axes.
type Reduce uint8

// Reductions.
const (
	ReduceSum Reduce = iota
	ReduceMean
	ReduceMax
)

// ReduceAxes reduces x over the listed axes (negative counts from the end),
// keeping them as size 1 when keepDims. No axes means all axes.
func ReduceAxes(x *Tensor, r Reduce, keepDims bool, axes ...int) (*Tensor, error) {
	rank := len(x.Shape)
	red := make([]bool, rank)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		a, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		red[a] = true
	}
	full := make([]int, rank)
	var shape []int
	for i, d := range x.Shape {
		full[i] = d
		if red[i] {
			full[i] = 1
			if keepDims {
				shape = append(shape, 1)
			}
		} else {
			shape = append(shape, d)
		}
	}
	out := New(shape...)
	count := make([]int, len(out.Data))
	if r == ReduceMax {
		for i := range out.Data {
			out.Data[i] = float32(math.Inf(-1))
		}
	}
	ostr := bstrides(full, rank)
	idx := make([]int, rank)
	o := 0
	acc := make([]float64, len(out.Data))
	for _, v := range x.Data {
		if r == ReduceMax {
			out.Data[o] = max(out.Data[o], v)
		} else {
			acc[o] += float64(v)
		}
		count[o]++
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			o += ostr[d]
			if idx[d] < x.Shape[d] {
				break
			}
			o -= ostr[d] * idx[d]
			idx[d] = 0
		}
	}
	switch r {
	case ReduceSum:
		for i, v := range acc {
			out.Data[i] = float32(v)
		}
	case ReduceMean:
		for i, v := range acc {
			out.Data[i] = float32(v / float64(max(count[i], 1)))
		}
	case ReduceMax:
	default:
		return nil, fmt.Errorf("%w: reduction %d", ErrArgument, r)
	}
	return out, nil
}

// Softmax normalises the last axis of x to probabilities.
func Softmax(x *Tensor) (*Tensor, error) {
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("%w: softmax of a scalar", ErrShape)
	}
	c := x.Shape[len(x.Shape)-1]
	out := x.Clone()
	if c == 0 {
		return out, nil
	}
	for i := 0; i < len(out.Data); i += c {
		row := out.Data[i : i+c]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			row[j] = float32(e)
			s += e
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / s)
		}
	}
	return out, nil
}

// L2Normalize scales each vector along the last axis of x to unit length,
// dividing by max(‖v‖, √eps) so a zero vector stays zero.
func L2Normalize(x *Tensor, eps float32) (*Tensor, error) {
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("%w: l2 normalise of a scalar", ErrShape)
	}
	c := x.Shape[len(x.Shape)-1]
	out := x.Clone()
	if c == 0 {
		return out, nil
	}
	for i := 0; i < len(out.Data); i += c {
		row := out.Data[i : i+c]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(max(s, float64(eps)))
		for j := range row {
			row[j] = float32(float64(row[j]) * inv)
		}
	}
	return out, nil
}
