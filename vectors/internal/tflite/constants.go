package tflite

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// maxDecodedBytes bounds the float32/int32 data decoded from one model's
// constants (a float16 or int8 file decodes to 2× or 4× its size).
const maxDecodedBytes = 1 << 30

// decodeConst decodes a constant tensor's buffer: FLOAT32 and INT32 as
// stored (little-endian); INT64 into int32 when every value fits;
// FLOAT16 by exact binary16 conversion; INT8, UINT8 and INT16 with
// quantisation parameters as scale·(q − zero_point), per tensor or per
// channel along quantized_dimension (computed in float64, rounded once
// to float32).
func decodeConst(ft fileTensor, data []byte) (graph.Value, error) {
	n, err := nn.CheckShape(ft.shape)
	if err != nil {
		return graph.Value{}, fmt.Errorf("%w: shape %v: %w", ErrFormat, ft.shape, err)
	}
	size := map[uint8]int{typeFloat32: 4, typeInt32: 4, typeInt64: 8, typeFloat16: 2, typeInt8: 1, typeUint8: 1, typeInt16: 2}[ft.typ]
	if size == 0 {
		return graph.Value{}, fmt.Errorf("%w: constant of type %s", ErrUnsupported, typeName(ft.typ))
	}
	if len(data) != n*size {
		return graph.Value{}, fmt.Errorf("%w: %d bytes of data for %s %v", ErrFormat, len(data), typeName(ft.typ), ft.shape)
	}
	shape := append([]int{}, ft.shape...)
	switch ft.typ {
	case typeInt32, typeInt64:
		if len(ft.scale) > 0 {
			return graph.Value{}, fmt.Errorf("%w: quantised %s constant", ErrUnsupported, typeName(ft.typ))
		}
		out := &graph.IntTensor{Shape: shape, Data: make([]int32, n)}
		for i := range out.Data {
			if ft.typ == typeInt32 {
				out.Data[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
				continue
			}
			v := int64(binary.LittleEndian.Uint64(data[8*i:]))
			if v < math.MinInt32 || v > math.MaxInt32 {
				return graph.Value{}, fmt.Errorf("%w: int64 constant %d out of int32 range", ErrUnsupported, v)
			}
			out.Data[i] = int32(v)
		}
		return graph.Value{Int: out}, nil
	case typeFloat32:
		out := nn.New(shape...)
		for i := range out.Data {
			out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return graph.Value{Float: out}, nil
	case typeFloat16:
		out := nn.New(shape...)
		for i := range out.Data {
			out.Data[i] = halfToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		}
		return graph.Value{Float: out}, nil
	}
	// Quantised integers.
	q := func(i int) float64 {
		switch ft.typ {
		case typeInt8:
			return float64(int8(data[i]))
		case typeUint8:
			return float64(data[i])
		}
		return float64(int16(binary.LittleEndian.Uint16(data[2*i:])))
	}
	if len(ft.scale) == 0 {
		return graph.Value{}, fmt.Errorf("%w: %s constant without quantisation scale", ErrUnsupported, typeName(ft.typ))
	}
	if len(ft.zero) != 0 && len(ft.zero) != len(ft.scale) {
		return graph.Value{}, fmt.Errorf("%w: %d scales and %d zero points", ErrFormat, len(ft.scale), len(ft.zero))
	}
	// inner is the number of consecutive elements sharing one channel of
	// quantized_dimension.
	inner, channels := n, 1
	if len(ft.scale) > 1 {
		d := ft.qdim
		if d < 0 || d >= len(shape) || shape[d] != len(ft.scale) {
			return graph.Value{}, fmt.Errorf("%w: %d scales along dimension %d of %v", ErrFormat, len(ft.scale), d, shape)
		}
		channels = shape[d]
		inner = 1
		for _, s := range shape[d+1:] {
			inner *= s
		}
	}
	for _, s := range ft.scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return graph.Value{}, fmt.Errorf("%w: quantisation scale %v", ErrFormat, s)
		}
	}
	out := nn.New(shape...)
	for i := range out.Data {
		c := 0
		if channels > 1 {
			c = (i / inner) % channels
		}
		var zp float64
		if len(ft.zero) > 0 {
			zp = float64(ft.zero[c])
		}
		out.Data[i] = float32(float64(ft.scale[c]) * (q(i) - zp))
	}
	return graph.Value{Float: out}, nil
}

func typeName(t uint8) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant · 2⁻²⁴
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
