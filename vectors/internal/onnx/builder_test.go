package onnx

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"
)

// A test-side ONNX writer: the tests build small models with protowire,
// following the field numbers of onnx.proto, and run them through both the
// loader and onnxruntime.

type bModel struct {
	ir, opset int64
	domains   map[string]int64 // extra opset imports
	nodes     []bNode
	inits     []bTensor
	inputs    []bValue
	outputs   []bValue
	extra     func(b []byte) []byte // appends raw ModelProto fields
	graphRaw  func(b []byte) []byte // appends raw GraphProto fields
}

type bNode struct {
	op, name, domain string
	in, out          []string
	attrs            []bAttr
}

type bAttr struct {
	name   string
	typ    int64
	f      float32
	i      int64
	s      string
	t      *bTensor
	floats []float32
	ints   []int64
	noType bool  // leave the type field out (IR version 1 style)
	forceT int64 // write this type field instead of typ
}

type bTensor struct {
	name     string
	dims     []int64
	dtype    int32
	f        []float32 // FLOAT values (raw_data unless floatField)
	i64      []int64   // INT64 values (raw_data)
	raw      []byte    // other types
	useField bool      // store f in float_data / i64 in int64_data
	external bool
}

type bValue struct {
	name    string
	elem    int32
	dims    []any // int64 value or string parameter; nil dims with noShape
	noShape bool
}

func fattr(name string, f float32) bAttr   { return bAttr{name: name, typ: attrFloat, f: f} }
func iattr(name string, i int64) bAttr     { return bAttr{name: name, typ: attrInt, i: i} }
func sattr(name, s string) bAttr           { return bAttr{name: name, typ: attrString, s: s} }
func isattr(name string, v ...int64) bAttr { return bAttr{name: name, typ: attrInts, ints: v} }

func node(op string, in []string, out string, attrs ...bAttr) bNode {
	return bNode{op: op, name: op + "_" + out, in: in, out: []string{out}, attrs: attrs}
}

func input(name string, dims ...any) bValue  { return bValue{name: name, elem: typeFloat, dims: dims} }
func output(name string, dims ...any) bValue { return bValue{name: name, elem: typeFloat, dims: dims} }

// ftensor is a FLOAT initializer.
func ftensor(name string, data []float32, dims ...int64) bTensor {
	return bTensor{name: name, dims: dims, dtype: typeFloat, f: data}
}

// itensor is an INT64 initializer.
func itensor(name string, data []int64, dims ...int64) bTensor {
	return bTensor{name: name, dims: dims, dtype: typeInt64, i64: data}
}

// randn returns n normal floats scaled by s.
func randn(r *rand.Rand, n int, s float64) []float32 {
	out := make([]float32, n)
	for k := range out {
		out[k] = float32(r.NormFloat64() * s)
	}
	return out
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendVarint(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func (m bModel) encode() []byte {
	var g []byte
	for _, n := range m.nodes {
		g = appendMsg(g, 1, n.encode())
	}
	g = appendString(g, 2, "test")
	for _, t := range m.inits {
		g = appendMsg(g, 5, t.encode())
	}
	for _, v := range m.inputs {
		g = appendMsg(g, 11, v.encode())
	}
	for _, v := range m.outputs {
		g = appendMsg(g, 12, v.encode())
	}
	if m.graphRaw != nil {
		g = m.graphRaw(g)
	}
	ir, opset := m.ir, m.opset
	if ir == 0 {
		ir = 8
	}
	if opset == 0 {
		opset = 13
	}
	var b []byte
	b = appendVarint(b, 1, ir)
	b = appendString(b, 2, "facesign-test")
	b = appendMsg(b, 7, g)
	var o []byte
	o = appendString(o, 1, "")
	o = appendVarint(o, 2, opset)
	b = appendMsg(b, 8, o)
	for d, v := range m.domains {
		var o []byte
		o = appendString(o, 1, d)
		o = appendVarint(o, 2, v)
		b = appendMsg(b, 8, o)
	}
	if m.extra != nil {
		b = m.extra(b)
	}
	return b
}

func (n bNode) encode() []byte {
	var b []byte
	for _, s := range n.in {
		b = appendString(b, 1, s)
	}
	for _, s := range n.out {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		b = appendMsg(b, 5, a.encode())
	}
	if n.domain != "" {
		b = appendString(b, 7, n.domain)
	}
	return b
}

func (a bAttr) encode() []byte {
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.typ {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = appendVarint(b, 3, a.i)
	case attrString:
		b = appendString(b, 4, a.s)
	case attrTensor:
		b = appendMsg(b, 5, a.t.encode())
	case attrFloats:
		var p []byte
		for _, f := range a.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMsg(b, 7, p)
	case attrInts:
		var p []byte
		for _, v := range a.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMsg(b, 8, p)
	}
	switch {
	case a.forceT != 0:
		b = appendVarint(b, 20, a.forceT)
	case !a.noType:
		b = appendVarint(b, 20, a.typ)
	}
	return b
}

func (t bTensor) encode() []byte {
	var b []byte
	if len(t.dims) > 0 {
		var p []byte
		for _, d := range t.dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMsg(b, 1, p)
	}
	b = appendVarint(b, 2, int64(t.dtype))
	switch {
	case t.f != nil && t.useField:
		var p []byte
		for _, f := range t.f {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMsg(b, 4, p)
	case t.i64 != nil && t.useField:
		var p []byte
		for _, v := range t.i64 {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMsg(b, 7, p)
	}
	b = appendString(b, 8, t.name)
	switch {
	case t.useField:
	case t.f != nil:
		raw := make([]byte, 4*len(t.f))
		for k, f := range t.f {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(f))
		}
		b = appendMsg(b, 9, raw)
	case t.i64 != nil:
		raw := make([]byte, 8*len(t.i64))
		for k, v := range t.i64 {
			binary.LittleEndian.PutUint64(raw[8*k:], uint64(v))
		}
		b = appendMsg(b, 9, raw)
	case t.raw != nil:
		b = appendMsg(b, 9, t.raw)
	}
	if t.external {
		var e []byte
		e = appendString(e, 1, "location")
		e = appendString(e, 2, "weights.bin")
		b = appendMsg(b, 13, e)
		b = appendVarint(b, 14, 1)
	}
	return b
}

func (v bValue) encode() []byte {
	var b []byte
	b = appendString(b, 1, v.name)
	var tt []byte
	tt = appendVarint(tt, 1, int64(v.elem))
	if !v.noShape {
		var shape []byte
		for _, d := range v.dims {
			var dim []byte
			switch d := d.(type) {
			case int:
				dim = appendVarint(dim, 1, int64(d))
			case int64:
				dim = appendVarint(dim, 1, d)
			case string:
				dim = appendString(dim, 2, d)
			}
			shape = appendMsg(shape, 1, dim)
		}
		tt = appendMsg(tt, 2, shape)
	}
	var typ []byte
	typ = appendMsg(typ, 1, tt)
	b = appendMsg(b, 2, typ)
	return b
}
