package nn

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// ErrShape reports operands whose shapes do not fit the operation.
var ErrShape = errors.New("nn: shape mismatch")

// ErrArgument reports an invalid parameter (stride, padding, axis, ...).
var ErrArgument = errors.New("nn: invalid argument")

// maxElements bounds the size of any tensor this package allocates, so a
// hostile model file cannot ask for an absurd allocation through a shape.
const maxElements = 1 << 26

// Tensor is a dense, row-major float32 tensor. Four-dimensional image
// tensors are laid out NHWC (batch, height, width, channels).
//
// Kernels never modify their inputs and always return a freshly allocated
// result, so a Tensor may be shared read-only between goroutines. A tensor
// passed to [Conv2D] as a filter must not be modified afterwards: the kernel
// keeps a packed copy of it for later calls (model weights are loaded once
// and never change). Use tensors through pointers; do not copy the struct.
type Tensor struct {
	Shape []int
	Data  []float32

	// packed caches the GEMM panel layout of a tensor used as a
	// convolution filter (see packedFilter).
	packed atomic.Pointer[[]float32]
}

// New returns a zero tensor of the given shape. It panics on a negative
// dimension or an element count above the package limit; use [FromData]
// or [CheckShape] to validate untrusted shapes first.
func New(shape ...int) *Tensor {
	n, err := CheckShape(shape)
	if err != nil {
		panic(err)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: zeroed(n)}
}

// FromData wraps data (without copying) as a tensor of the given shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	n, err := CheckShape(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("%w: %d values for shape %v", ErrShape, len(data), shape)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Scalar returns a rank-0 tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int{}, Data: []float32{v}} }

// CheckShape validates a shape and returns its element count.
func CheckShape(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("%w: shape %v exceeds %d elements", ErrShape, shape, maxElements)
		}
		n *= d
	}
	return n, nil
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// String describes the tensor's shape (not its values).
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }

// Reshape returns a tensor sharing t's data with a new shape of the same
// element count. One dimension may be -1 and is then inferred.
func Reshape(t *Tensor, shape ...int) (*Tensor, error) {
	s := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrShape, t.Shape, shape)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.Data)%known != 0 {
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrShape, t.Shape, shape)
		}
		s[infer] = len(t.Data) / known
	}
	return FromData(t.Data, s...)
}

// Squeeze removes the listed size-1 axes (all size-1 axes when none are
// listed). Negative axes count from the end.
func Squeeze(t *Tensor, axes ...int) (*Tensor, error) {
	drop := make([]bool, len(t.Shape))
	if len(axes) == 0 {
		for i, d := range t.Shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		a, err := normAxis(a, len(t.Shape))
		if err != nil {
			return nil, err
		}
		if t.Shape[a] != 1 {
			return nil, fmt.Errorf("%w: squeeze axis %d of %v", ErrShape, a, t.Shape)
		}
		drop[a] = true
	}
	var s []int
	for i, d := range t.Shape {
		if !drop[i] {
			s = append(s, d)
		}
	}
	return FromData(t.Data, s...)
}

func normAxis(a, rank int) (int, error) {
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("%w: axis %d for rank %d", ErrArgument, a, rank)
	}
	return a, nil
}

// dims4 checks t is rank 4 and returns its NHWC dimensions.
func dims4(t *Tensor, what string) (n, h, w, c int, err error) {
	if len(t.Shape) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%w: %s must be rank 4 (NHWC), got %v", ErrShape, what, t.Shape)
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3], nil
}

// AllFinite reports whether every element is finite.
func AllFinite(t *Tensor) bool {
	for _, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
