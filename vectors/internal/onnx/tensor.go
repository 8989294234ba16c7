package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Element types (TensorProto.DataType).
const (
	typeFloat    = 1
	typeUint8    = 2
	typeInt8     = 3
	typeUint16   = 4
	typeInt16    = 5
	typeInt32    = 6
	typeInt64    = 7
	typeString   = 8
	typeBool     = 9
	typeFloat16  = 10
	typeDouble   = 11
	typeUint32   = 12
	typeUint64   = 13
	typeBfloat16 = 16
)

// typeNames names the element types of the published DataType enum, for
// error messages; only some of them are supported (see [elemSize]).
var typeNames = map[int32]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16",
	6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
	12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
	17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ",
	21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
}

func typeName(t int32) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("unknown type %d", t)
}

// elemSize is the raw_data width of a supported element type, 0 for an
// unsupported one.
func elemSize(t int32) int {
	switch t {
	case typeUint8, typeInt8, typeBool:
		return 1
	case typeUint16, typeInt16, typeFloat16, typeBfloat16:
		return 2
	case typeFloat, typeInt32, typeUint32:
		return 4
	case typeInt64, typeDouble:
		return 8
	}
	return 0
}

// isFloatType reports whether values of type t are held as floats.
func isFloatType(t int32) bool {
	return t == typeFloat || t == typeFloat16 || t == typeDouble || t == typeBfloat16
}

// constant is a tensor known at load time, in ONNX layout: floats (FLOAT,
// FLOAT16, BFLOAT16 and DOUBLE, converted to float32) or integers (every
// integer type and BOOL, as int64).
type constant struct {
	dtype int32
	shape []int
	f     []float32
	i     []int64
}

func (c *constant) isFloat() bool { return isFloatType(c.dtype) }

// decodeConstant turns a TensorProto into a constant, checking that its
// data matches its dimensions exactly, and that it is stored in the file.
func decodeConstant(t *tensorProto) (*constant, error) {
	if t.external {
		return nil, fmt.Errorf("%w: tensor %q", ErrExternalData, t.name)
	}
	if t.segment {
		return nil, fmt.Errorf("%w: tensor %q is segmented", ErrFormat, t.name)
	}
	size := elemSize(t.dataType)
	if size == 0 {
		return nil, fmt.Errorf("%w: tensor %q has type %s", ErrDataType, t.name, typeName(t.dataType))
	}
	n, err := elements(t.dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	c := &constant{dtype: t.dataType, shape: make([]int, len(t.dims))}
	for i, d := range t.dims {
		c.shape[i] = int(d)
	}
	// Exactly one storage field may hold the data.
	sources := 0
	for _, present := range []bool{t.hasRaw, len(t.floatData) > 0, len(t.int32Data) > 0, len(t.int64Data) > 0, len(t.doubleData) > 0, len(t.uint64Data) > 0, t.strings > 0} {
		if present {
			sources++
		}
	}
	if sources > 1 {
		return nil, fmt.Errorf("%w: tensor %q stores its data in %d fields", ErrFormat, t.name, sources)
	}
	count := func(got int) error {
		if got != n {
			return fmt.Errorf("%w: tensor %q has %d values for dimensions %v", ErrFormat, t.name, got, t.dims)
		}
		return nil
	}
	float := isFloatType(t.dataType)
	if float {
		c.f = make([]float32, n)
	} else {
		c.i = make([]int64, n)
	}
	switch {
	case t.hasRaw:
		if len(t.rawData) != n*size {
			return nil, fmt.Errorf("%w: tensor %q has %d raw bytes for %d %s values", ErrFormat, t.name, len(t.rawData), n, typeName(t.dataType))
		}
		rawValues(t.dataType, t.rawData, c)
	case len(t.floatData) > 0:
		if t.dataType != typeFloat {
			return nil, fmt.Errorf("%w: tensor %q of type %s uses float_data", ErrFormat, t.name, typeName(t.dataType))
		}
		if err := count(len(t.floatData)); err != nil {
			return nil, err
		}
		copy(c.f, t.floatData)
	case len(t.int32Data) > 0:
		if err := count(len(t.int32Data)); err != nil {
			return nil, err
		}
		for k, v := range t.int32Data {
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("%w: tensor %q: int32_data value %d", ErrFormat, t.name, v)
			}
			switch t.dataType {
			case typeFloat16:
				c.f[k] = halfToFloat(uint16(v))
			case typeBfloat16:
				c.f[k] = math.Float32frombits(uint32(uint16(v)) << 16)
			case typeInt32, typeInt16, typeInt8, typeUint16, typeUint8, typeBool:
				if !inRange(t.dataType, v) {
					return nil, fmt.Errorf("%w: tensor %q: %d out of range for %s", ErrFormat, t.name, v, typeName(t.dataType))
				}
				c.i[k] = v
			default:
				return nil, fmt.Errorf("%w: tensor %q of type %s uses int32_data", ErrFormat, t.name, typeName(t.dataType))
			}
		}
	case len(t.int64Data) > 0:
		if t.dataType != typeInt64 {
			return nil, fmt.Errorf("%w: tensor %q of type %s uses int64_data", ErrFormat, t.name, typeName(t.dataType))
		}
		if err := count(len(t.int64Data)); err != nil {
			return nil, err
		}
		copy(c.i, t.int64Data)
	case len(t.doubleData) > 0:
		if t.dataType != typeDouble {
			return nil, fmt.Errorf("%w: tensor %q of type %s uses double_data", ErrFormat, t.name, typeName(t.dataType))
		}
		if err := count(len(t.doubleData)); err != nil {
			return nil, err
		}
		for k, v := range t.doubleData {
			c.f[k] = float32(v)
		}
	case len(t.uint64Data) > 0:
		if t.dataType != typeUint32 {
			return nil, fmt.Errorf("%w: tensor %q of type %s uses uint64_data", ErrFormat, t.name, typeName(t.dataType))
		}
		if err := count(len(t.uint64Data)); err != nil {
			return nil, err
		}
		for k, v := range t.uint64Data {
			if uint64(v) > math.MaxUint32 {
				return nil, fmt.Errorf("%w: tensor %q: %d out of range for UINT32", ErrFormat, t.name, uint64(v))
			}
			c.i[k] = v
		}
	case t.strings > 0:
		return nil, fmt.Errorf("%w: tensor %q of type %s uses string_data", ErrFormat, t.name, typeName(t.dataType))
	default:
		if err := count(0); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func inRange(t int32, v int64) bool {
	switch t {
	case typeBool:
		return v == 0 || v == 1
	case typeUint8:
		return v >= 0 && v <= math.MaxUint8
	case typeInt8:
		return v >= math.MinInt8 && v <= math.MaxInt8
	case typeUint16:
		return v >= 0 && v <= math.MaxUint16
	case typeInt16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	}
	return v >= math.MinInt32 && v <= math.MaxInt32
}

// rawValues decodes little-endian fixed-width raw_data into c (whose
// slice has the right length).
func rawValues(t int32, raw []byte, c *constant) {
	le := binary.LittleEndian
	switch t {
	case typeFloat:
		for k := range c.f {
			c.f[k] = math.Float32frombits(le.Uint32(raw[4*k:]))
		}
	case typeFloat16:
		for k := range c.f {
			c.f[k] = halfToFloat(le.Uint16(raw[2*k:]))
		}
	case typeBfloat16:
		for k := range c.f {
			c.f[k] = math.Float32frombits(uint32(le.Uint16(raw[2*k:])) << 16)
		}
	case typeDouble:
		for k := range c.f {
			c.f[k] = float32(math.Float64frombits(le.Uint64(raw[8*k:])))
		}
	case typeUint8:
		for k := range c.i {
			c.i[k] = int64(raw[k])
		}
	case typeBool:
		for k := range c.i {
			if raw[k] != 0 {
				c.i[k] = 1
			}
		}
	case typeInt8:
		for k := range c.i {
			c.i[k] = int64(int8(raw[k]))
		}
	case typeUint16:
		for k := range c.i {
			c.i[k] = int64(le.Uint16(raw[2*k:]))
		}
	case typeInt16:
		for k := range c.i {
			c.i[k] = int64(int16(le.Uint16(raw[2*k:])))
		}
	case typeInt32:
		for k := range c.i {
			c.i[k] = int64(int32(le.Uint32(raw[4*k:])))
		}
	case typeUint32:
		for k := range c.i {
			c.i[k] = int64(le.Uint32(raw[4*k:]))
		}
	case typeInt64:
		for k := range c.i {
			c.i[k] = int64(le.Uint64(raw[8*k:]))
		}
	}
}

// halfToFloat converts IEEE 754 binary16 bits to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: mant · 2⁻²⁴.
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// float32s returns c's values as float32 (integers converted).
func (c *constant) float32s() []float32 {
	if c.f != nil {
		return c.f
	}
	out := make([]float32, len(c.i))
	for k, v := range c.i {
		out[k] = float32(v)
	}
	return out
}

// ints returns c's integer values; a float constant is an [ErrAttribute].
func (c *constant) ints(what string) ([]int64, error) {
	if c.isFloat() {
		return nil, fmt.Errorf("%w: %s must be an integer tensor, is %s", ErrAttribute, what, typeName(c.dtype))
	}
	return c.i, nil
}

// scalar returns the single float value of a one-element constant.
func (c *constant) scalar(what string) (float32, error) {
	if n := len(c.f) + len(c.i); n != 1 {
		return 0, fmt.Errorf("%w: %s must have one value, has %d", ErrAttribute, what, n)
	}
	return c.float32s()[0], nil
}

// permute returns data (row-major, shape) transposed by perm: out axis k
// is input axis perm[k].
func permute[T any](data []T, shape, perm []int) ([]T, []int) {
	rank := len(shape)
	out := make([]T, len(data))
	oshape := make([]int, rank)
	for k, p := range perm {
		oshape[k] = shape[p]
	}
	istride := make([]int, rank)
	s := 1
	for k := rank - 1; k >= 0; k-- {
		istride[k] = s
		s *= shape[k]
	}
	idx := make([]int, rank)
	for o := range out {
		off := 0
		for k := range rank {
			off += idx[k] * istride[perm[k]]
		}
		out[o] = data[off]
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < oshape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out, oshape
}

// broadcastTo returns data (of shape) broadcast to target (numpy rules;
// shape must be broadcastable to target), row-major.
func broadcastTo(data []float32, shape, target []int) []float32 {
	if slices.Equal(shape, target) {
		return data
	}
	rank := len(target)
	full := make([]int, rank)
	for k := range full {
		full[k] = 1
	}
	copy(full[rank-len(shape):], shape)
	stride := make([]int, rank)
	s := 1
	for k := rank - 1; k >= 0; k-- {
		if full[k] != 1 {
			stride[k] = s
		}
		s *= full[k]
	}
	n := 1
	for _, d := range target {
		n *= d
	}
	out := make([]float32, n)
	idx := make([]int, rank)
	for o := range out {
		off := 0
		for k := range rank {
			off += idx[k] * stride[k]
		}
		out[o] = data[off]
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < target[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}
