package nn

import (
	"fmt"
	"math"
)

// BinaryOp is an elementwise operation of two tensors.
type BinaryOp uint8

// Binary operations with NumPy/TensorFlow broadcasting.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	Maximum
	Minimum
	SquaredDifference
)

func (op BinaryOp) fn() (func(a, b float32) float32, error) {
	switch op {
	case Add:
		return func(a, b float32) float32 { return a + b }, nil
	case Sub:
		return func(a, b float32) float32 { return a - b }, nil
	case Mul:
		return func(a, b float32) float32 { return a * b }, nil
	case Div:
		return func(a, b float32) float32 { return a / b }, nil
	case Maximum:
		return func(a, b float32) float32 { return max(a, b) }, nil
	case Minimum:
		return func(a, b float32) float32 { return min(a, b) }, nil
	case SquaredDifference:
		return func(a, b float32) float32 { return (a - b) * (a - b) }, nil
	}
	return nil, fmt.Errorf("%w: binary op %d", ErrArgument, op)
}

// BroadcastShape returns the shape two operands broadcast to.
func BroadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("%w: cannot broadcast %v and %v", ErrShape, a, b)
		}
	}
	return out, nil
}

// Binary applies op elementwise, broadcasting a and b against each other.
func Binary(op BinaryOp, a, b *Tensor) (*Tensor, error) {
	f, err := op.fn()
	if err != nil {
		return nil, err
	}
	shape, err := BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := New(shape...)
	n := len(out.Data)
	switch {
	case len(a.Data) == n && len(b.Data) == n:
		binVV(op, out.Data, a.Data, b.Data)
	case len(b.Data) == 1 && len(a.Data) == n:
		binVS(op, out.Data, a.Data, b.Data[0])
	case len(a.Data) == 1 && len(b.Data) == n:
		binSV(op, out.Data, a.Data[0], b.Data)
	case len(b.Data) == n && trailing(a.Shape, shape) && len(a.Data) > 0:
		// a repeats along the leading axes (e.g. one value per channel).
		k := len(a.Data)
		for i := 0; i < n; i += k {
			binVV(op, out.Data[i:i+k], a.Data, b.Data[i:i+k])
		}
	case len(a.Data) == n && trailing(b.Shape, shape) && len(b.Data) > 0:
		k := len(b.Data)
		for i := 0; i < n; i += k {
			binVV(op, out.Data[i:i+k], a.Data[i:i+k], b.Data)
		}
	default:
		broadcastGeneral(f, a, b, out)
	}
	return out, nil
}

// binVV, binVS and binSV are the loops of the common broadcasting cases,
// one specialised loop per op so the compiler can keep them tight.
func binVV(op BinaryOp, dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	case Sub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case Mul:
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
	case Div:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	case Maximum:
		for i := range dst {
			dst[i] = max(a[i], b[i])
		}
	case Minimum:
		for i := range dst {
			dst[i] = min(a[i], b[i])
		}
	case SquaredDifference:
		for i := range dst {
			d := a[i] - b[i]
			dst[i] = d * d
		}
	}
}

func binVS(op BinaryOp, dst, a []float32, s float32) {
	a = a[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = a[i] + s
		}
	case Sub:
		for i := range dst {
			dst[i] = a[i] - s
		}
	case Mul:
		for i := range dst {
			dst[i] = a[i] * s
		}
	case Div:
		for i := range dst {
			dst[i] = a[i] / s
		}
	case Maximum:
		for i := range dst {
			dst[i] = max(a[i], s)
		}
	case Minimum:
		for i := range dst {
			dst[i] = min(a[i], s)
		}
	case SquaredDifference:
		for i := range dst {
			d := a[i] - s
			dst[i] = d * d
		}
	}
}

func binSV(op BinaryOp, dst []float32, s float32, b []float32) {
	b = b[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = s + b[i]
		}
	case Sub:
		for i := range dst {
			dst[i] = s - b[i]
		}
	case Mul:
		for i := range dst {
			dst[i] = s * b[i]
		}
	case Div:
		for i := range dst {
			dst[i] = s / b[i]
		}
	case Maximum:
		for i := range dst {
			dst[i] = max(s, b[i])
		}
	case Minimum:
		for i := range dst {
			dst[i] = min(s, b[i])
		}
	case SquaredDifference:
		for i := range dst {
			d := s - b[i]
			dst[i] = d * d
		}
	}
}

// trailing reports whether small, right-aligned against full, equals
// full's trailing dimensions after dropping its own leading ones.
func trailing(small, full []int) bool {
	s := small
	for len(s) > 0 && s[0] == 1 {
		s = s[1:]
	}
	if len(s) > len(full) {
		return false
	}
	off := len(full) - len(s)
	for i, d := range s {
		if full[off+i] != d {
			return false
		}
	}
	return true
}

// broadcastGeneral walks the output with per-operand strides (zero along
// broadcast axes).
func broadcastGeneral(f func(a, b float32) float32, a, b, out *Tensor) {
	r := len(out.Shape)
	sa, sb := bstrides(a.Shape, r), bstrides(b.Shape, r)
	idx := make([]int, r)
	ia, ib := 0, 0
	for i := range out.Data {
		out.Data[i] = f(a.Data[ia], b.Data[ib])
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out.Shape[d] {
				break
			}
			ia -= sa[d] * idx[d]
			ib -= sb[d] * idx[d]
			idx[d] = 0
		}
	}
}

// bstrides returns the element strides of shape right-aligned to rank r,
// with zero strides on broadcast (size-1 or missing) axes.
func bstrides(shape []int, r int) []int {
	s := make([]int, r)
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := r - len(shape) + i
		if shape[i] != 1 {
			s[j] = acc
		}
		acc *= shape[i]
	}
	return s
}

// UnaryOp is an elementwise function of one tensor.
type UnaryOp uint8

// Unary operations.
const (
	Abs UnaryOp = iota
	Neg
	Square
	Sqrt
	Rsqrt
	Exp
	Log
	Tanh
	Relu
	Relu6
	SigmoidOp
)

// Unary applies op to every element of x.
func Unary(op UnaryOp, x *Tensor) (*Tensor, error) {
	var f func(float32) float32
	switch op {
	case Abs:
		f = func(v float32) float32 { return float32(math.Abs(float64(v))) }
	case Neg:
		f = func(v float32) float32 { return -v }
	case Square:
		f = func(v float32) float32 { return v * v }
	case Sqrt:
		f = func(v float32) float32 { return float32(math.Sqrt(float64(v))) }
	case Rsqrt:
		f = func(v float32) float32 { return float32(1 / math.Sqrt(float64(v))) }
	case Exp:
		f = func(v float32) float32 { return float32(math.Exp(float64(v))) }
	case Log:
		f = func(v float32) float32 { return float32(math.Log(float64(v))) }
	case Tanh:
		f = func(v float32) float32 { return float32(math.Tanh(float64(v))) }
	case Relu:
		f = func(v float32) float32 { return max(v, 0) }
	case Relu6:
		f = func(v float32) float32 { return min(max(v, 0), 6) }
	case SigmoidOp:
		f = sigmoid
	default:
		return nil, fmt.Errorf("%w: unary op %d", ErrArgument, op)
	}
	out := &Tensor{Shape: append([]int(nil), x.Shape...), Data: make([]float32, len(x.Data))}
	// The activations that follow most residual adds get loops without a
	// call per element; they compute exactly what f computes.
	switch op {
	case Relu:
		for i, v := range x.Data {
			out.Data[i] = max(v, 0)
		}
	case Relu6:
		for i, v := range x.Data {
			out.Data[i] = min(max(v, 0), 6)
		}
	default:
		for i, v := range x.Data {
			out.Data[i] = f(v)
		}
	}
	return out, nil
}

// PReLUBroadcast returns x where x ≥ 0 and alpha·x elsewhere, alpha
// broadcasting against x (TensorFlow's Prelu op).
func PReLUBroadcast(x, alpha *Tensor) (*Tensor, error) {
	if k := len(alpha.Data); k > 0 && len(x.Data)%k == 0 && len(alpha.Shape) <= len(x.Shape) && trailing(alpha.Shape, x.Shape) {
		// One slope per trailing position (per channel): one pass, the
		// same products as the general path below.
		out := &Tensor{Shape: append([]int(nil), x.Shape...), Data: make([]float32, len(x.Data))}
		for i := 0; i < len(x.Data); i += k {
			src, dst := x.Data[i:i+k], out.Data[i:i+k]
			for j, v := range src {
				if v >= 0 {
					dst[j] = v
				} else {
					dst[j] = v * alpha.Data[j]
				}
			}
		}
		return out, nil
	}
	prod, err := Binary(Mul, x, alpha)
	if err != nil {
		return nil, err
	}
	if !sameShape(prod.Shape, x.Shape) {
		return nil, fmt.Errorf("%w: prelu alpha %v widens input %v", ErrShape, alpha.Shape, x.Shape)
	}
	for i, v := range x.Data {
		if v >= 0 {
			prod.Data[i] = v
		}
	}
	return prod, nil
}

// BatchNorm applies inference-time batch normalisation over the last axis:
// (x − mean)·scale/√(variance+eps) + offset. Nil scale means 1; nil mean
// or variance mean 0 and 1.
func BatchNorm(x *Tensor, scale, offset, mean, variance []float32, eps float32) (*Tensor, error) {
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("%w: batch norm of a scalar", ErrShape)
	}
	c := x.Shape[len(x.Shape)-1]
	for _, p := range [][]float32{scale, offset, mean, variance} {
		if p != nil && len(p) != c {
			return nil, fmt.Errorf("%w: batch norm parameter of %d for %d channels", ErrShape, len(p), c)
		}
	}
	mul := make([]float32, c)
	add := make([]float32, c)
	for i := range c {
		s, o, m, v := float32(1), float32(0), float32(0), float32(1)
		if scale != nil {
			s = scale[i]
		}
		if offset != nil {
			o = offset[i]
		}
		if mean != nil {
			m = mean[i]
		}
		if variance != nil {
			v = variance[i]
		}
		mul[i] = s / float32(math.Sqrt(float64(v+eps)))
		add[i] = o - m*mul[i]
	}
	out := x.Clone()
	if c == 0 {
		return out, nil
	}
	for i := 0; i < len(out.Data); i += c {
		row := out.Data[i : i+c]
		for j := range row {
			row[j] = row[j]*mul[j] + add[j]
		}
	}
	return out, nil
}
