package nn

import (
	"fmt"
	"math"
)

// ActKind selects the activation fused into a kernel's output.
type ActKind uint8

// Activations that conv, depthwise conv and matmul can apply in the same
// pass as the bias.
const (
	Linear    ActKind = iota // identity
	ReLU                     // max(x, 0)
	ReLU6                    // min(max(x, 0), 6)
	LeakyReLU                // x if x ≥ 0 else Alpha·x
	PReLU                    // x if x ≥ 0 else Slopes[c]·x, per channel
	Sigmoid                  // 1 / (1 + e^-x)
)

// Activation is an activation function with its parameters.
type Activation struct {
	Kind ActKind
	// Alpha is the LeakyReLU slope for negative inputs.
	Alpha float32
	// Slopes holds the PReLU slope per output channel (or a single shared
	// slope).
	Slopes []float32
}

func (a Activation) check(channels int) error {
	switch a.Kind {
	case Linear, ReLU, ReLU6, LeakyReLU, Sigmoid:
		return nil
	case PReLU:
		if len(a.Slopes) != channels && len(a.Slopes) != 1 {
			return fmt.Errorf("%w: prelu has %d slopes for %d channels", ErrShape, len(a.Slopes), channels)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown activation %d", ErrArgument, a.Kind)
}

// applyRow adds bias (if any) and applies the activation to one row of
// channels values, in place.
func (a Activation) applyRow(row, bias []float32) {
	if hasPackedGEMM && len(row) >= 8 && a.vectorRow(row, bias) {
		return
	}
	a.applyRowGo(row, bias)
}

// vectorRow runs ReLU and per-channel PReLU (with their bias) through the
// vector kernel (AVX2 or AVX-512 on amd64, NEON on arm64; bit-identical to
// the Go loop), the activations of nearly every convolution: the scalar
// loop's branch on the sign of each value mispredicts about half the time
// on real feature maps. It reports false for what it does not do.
func (a Activation) vectorRow(row, bias []float32) bool {
	var b, s *float32
	if bias != nil {
		b = &bias[:len(row)][0]
	}
	switch {
	case a.Kind == ReLU:
	case a.Kind == PReLU && len(a.Slopes) == len(row):
		s = &a.Slopes[0]
	default:
		return false
	}
	if hasAVX512 {
		actRowZ(&row[0], b, s, len(row))
	} else {
		actRow(&row[0], b, s, len(row))
	}
	return true
}

// applyRowGo is applyRow in plain Go, the twin the kernel is tested
// against and the path of every other activation and platform.
func (a Activation) applyRowGo(row, bias []float32) {
	if bias != nil {
		bias = bias[:len(row)]
		for i := range row {
			row[i] += bias[i]
		}
	}
	switch a.Kind {
	case Linear:
	case ReLU:
		for i, v := range row {
			if v < 0 {
				row[i] = 0
			}
		}
	case ReLU6:
		for i, v := range row {
			row[i] = min(max(v, 0), 6)
		}
	case LeakyReLU:
		for i, v := range row {
			if v < 0 {
				row[i] = v * a.Alpha
			}
		}
	case PReLU:
		if len(a.Slopes) == 1 {
			s := a.Slopes[0]
			for i, v := range row {
				if v < 0 {
					row[i] = v * s
				}
			}
			return
		}
		sl := a.Slopes[:len(row)]
		for i, v := range row {
			if v < 0 {
				row[i] = v * sl[i]
			}
		}
	case Sigmoid:
		for i, v := range row {
			row[i] = sigmoid(v)
		}
	}
}

// AddActivation sets dst[i] = act(x[i] + y[i]) for the activations of a
// residual block, ReLU and PReLU (one slope, or one per channel: then the
// slopes run along the last dimension, len(dst) a multiple of their
// number), through the vector activation kernel. It reports false,
// touching nothing, for any other activation and where there is no vector
// kernel (the generic level): there the caller's own one-pass loop is
// faster than a copy, an add and an activation pass. dst, x and y
// have one length; dst may be x or y (the same memory) but must not
// overlap them otherwise. The results are bit for bit those of adding in
// float32 and then [Activation]'s Go loop.
func AddActivation(dst, x, y []float32, act Activation) bool {
	n := len(dst)
	if !hasPackedGEMM || len(x) != n || len(y) != n {
		return false
	}
	row := 2048 // any length: ReLU and a single slope do not depend on position
	switch {
	case act.Kind == ReLU, act.Kind == PReLU && len(act.Slopes) == 1:
	case act.Kind == PReLU && len(act.Slopes) > 0 && n%len(act.Slopes) == 0:
		row = len(act.Slopes)
	default:
		return false
	}
	if n == 0 {
		return true
	}
	aliasX, aliasY := &dst[0] == &x[0], &dst[0] == &y[0]
	for i := 0; i < n; i += row {
		e := min(i+row, n)
		d := dst[i:e]
		switch {
		case aliasX:
			act.applyRow(d, y[i:e]) // d[j] += y[j]: x + y
		case aliasY:
			act.applyRow(d, x[i:e]) // y + x, the same sum exactly
		default:
			copy(d, x[i:e])
			act.applyRow(d, y[i:e])
		}
	}
	return true
}

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// Activate returns act applied elementwise to x, treating the last axis as
// the channel axis for PReLU.
func Activate(x *Tensor, act Activation) (*Tensor, error) {
	c := 1
	if len(x.Shape) > 0 {
		c = x.Shape[len(x.Shape)-1]
	}
	if err := act.check(c); err != nil {
		return nil, err
	}
	out := x.Clone()
	if c == 0 {
		return out, nil
	}
	for i := 0; i < len(out.Data); i += c {
		act.applyRow(out.Data[i:i+c], nil)
	}
	return out, nil
}
