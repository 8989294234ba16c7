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
