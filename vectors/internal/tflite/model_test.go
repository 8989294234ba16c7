package tflite

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// tmodel builds small TFLite models in memory for the tests.
type tmodel struct {
	tensors []ttensor
	ops     []top
	inputs  []int32
	outputs []int32
	// edit, when set, changes the Model table before it is written.
	edit func(model fbt)
}

type ttensor struct {
	name  string
	shape []int32
	typ   uint8
	data  []byte // constant data; nil for a computed tensor
	scale []float32
	zero  []int64
	qdim  int32
	sig   []int32 // shape_signature
}

type top struct {
	code    int32
	inputs  []int32
	outputs []int32
	optType uint8
	opts    fbt // nil: no options table
}

func (m *tmodel) add(t ttensor) int32 {
	m.tensors = append(m.tensors, t)
	return int32(len(m.tensors) - 1)
}

// act adds a computed float32 tensor.
func (m *tmodel) act(name string, shape ...int32) int32 {
	return m.add(ttensor{name: name, shape: shape})
}

// constF adds a float32 constant.
func (m *tmodel) constF(name string, v []float32, shape ...int32) int32 {
	return m.add(ttensor{name: name, shape: shape, data: f32bytes(v)})
}

// constI adds an int32 constant.
func (m *tmodel) constI(name string, v []int32, shape ...int32) int32 {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return m.add(ttensor{name: name, shape: shape, typ: typeInt32, data: b})
}

func (m *tmodel) op(code int32, optType uint8, opts fbt, inputs []int32, outputs ...int32) {
	m.ops = append(m.ops, top{code: code, inputs: inputs, outputs: outputs, optType: optType, opts: opts})
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func (m *tmodel) bytes() []byte {
	var codes []int32
	index := map[int32]uint32{}
	var ops []*fbt
	for _, o := range m.ops {
		if _, ok := index[o.code]; !ok {
			index[o.code] = uint32(len(codes))
			codes = append(codes, o.code)
		}
		t := fbt{0: index[o.code], 1: o.inputs, 2: o.outputs}
		if o.opts != nil {
			t[3] = o.optType
			opts := o.opts
			t[4] = &opts
		}
		ops = append(ops, &t)
	}
	var opcodes []*fbt
	for _, c := range codes {
		t := fbt{3: c}
		if c < opPlaceholderCodes {
			t[0] = uint8(c)
		}
		opcodes = append(opcodes, &t)
	}
	buffers := []*fbt{{}}
	var tensors []*fbt
	for _, t := range m.tensors {
		buf := uint32(0)
		if t.data != nil {
			buffers = append(buffers, &fbt{0: t.data})
			buf = uint32(len(buffers) - 1)
		}
		tt := fbt{0: t.shape, 1: t.typ, 2: buf, 3: t.name}
		if t.sig != nil {
			tt[7] = t.sig
		}
		if t.scale != nil {
			q := fbt{2: t.scale, 3: t.zero, 6: t.qdim}
			tt[4] = &q
		}
		tensors = append(tensors, &tt)
	}
	sg := fbt{0: tensors, 1: m.inputs, 2: m.outputs, 3: ops}
	model := fbt{0: uint32(3), 1: opcodes, 2: []*fbt{&sg}, 3: "test", 4: buffers}
	if m.edit != nil {
		m.edit(model)
	}
	return finish(model, "TFL3")
}

func randF(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// smallNet is a model exercising the translations MobileFaceNet and
// similar embedders need, with the batch fixed at 2 as converters leave
// it: conv (OHWI filter, stride 2, SAME, fused RELU6), depthwise conv
// (multiplier 2, VALID), PReLU spelled relu(x) + c·(x − |x|), mean over
// H and W, a fully connected layer with int8 per-channel weights and a
// float16 bias (both through DEQUANTIZE), L2 normalisation and a
// reshape.
type smallNet struct {
	w1, b1, dw, db, c, fc []float32 // fc: the dequantised int8 weights
	fb                    []float32 // the float16 bias as float32
}

func buildSmallNet(r *rand.Rand) (*tmodel, *smallNet) {
	n := &smallNet{w1: randF(r, 4*3*3*3), b1: randF(r, 4), dw: randF(r, 3*3*8), db: randF(r, 8), c: randF(r, 8)}
	m := &tmodel{}
	x := m.act("x", 2, 7, 7, 3)
	w1 := m.constF("w1", n.w1, 4, 3, 3, 3)
	b1 := m.constF("b1", n.b1, 4)
	c1 := m.act("c1", 2, 4, 4, 4)
	m.op(opConv2D, optConv2D, fbt{0: uint8(paddingSame), 1: int32(2), 2: int32(2), 3: uint8(actRelu6)}, []int32{x, w1, b1}, c1)
	dw := m.constF("dw", n.dw, 1, 3, 3, 8)
	db := m.constF("db", n.db, 8)
	d1 := m.act("d1", 2, 2, 2, 8)
	m.op(opDepthwiseConv2D, optDepthwiseConv, fbt{0: uint8(paddingValid), 1: int32(1), 2: int32(1), 3: int32(2)}, []int32{c1, dw, db}, d1)
	relu, abs, sub, mul, p := m.act("relu", 2, 2, 2, 8), m.act("abs", 2, 2, 2, 8), m.act("sub", 2, 2, 2, 8), m.act("mul", 2, 2, 2, 8), m.act("p", 2, 2, 2, 8)
	c := m.constF("c", n.c, 8)
	m.op(opRelu, 0, nil, []int32{d1}, relu)
	m.op(opAbs, 0, nil, []int32{d1}, abs)
	m.op(opSub, optSub, fbt{}, []int32{d1, abs}, sub)
	m.op(opMul, optMul, fbt{}, []int32{c, sub}, mul)
	m.op(opAdd, optAdd, fbt{}, []int32{relu, mul}, p)
	axes := m.constI("axes", []int32{1, 2}, 2)
	mean := m.act("mean", 2, 8)
	m.op(opMean, optReducer, fbt{0: false}, []int32{p, axes}, mean)
	// int8 weights [5, 8], one scale and zero point per output unit.
	q := make([]byte, 40)
	scale := []float32{0.01, 0.02, 0.03, 0.015, 0.05}
	zero := []int64{0, 3, -2, 0, 1}
	n.fc = make([]float32, 40)
	for i := range q {
		v := int8(r.IntN(255) - 127)
		q[i] = byte(v)
		n.fc[i] = float32(float64(scale[i/8]) * (float64(v) - float64(zero[i/8])))
	}
	wq := m.add(ttensor{name: "wq", shape: []int32{5, 8}, typ: typeInt8, data: q, scale: scale, zero: zero, qdim: 0})
	wdq := m.act("wdq", 5, 8)
	m.op(opDequantize, optDequantize, fbt{}, []int32{wq}, wdq)
	// float16 bias: 1, -2, 0.5, 0.25, -0.125 exactly.
	n.fb = []float32{1, -2, 0.5, 0.25, -0.125}
	h := []uint16{0x3c00, 0xc000, 0x3800, 0x3400, 0xb000}
	hb := make([]byte, 10)
	for i, v := range h {
		binary.LittleEndian.PutUint16(hb[2*i:], v)
	}
	b16 := m.add(ttensor{name: "b16", shape: []int32{5}, typ: typeFloat16, data: hb})
	bdq := m.act("bdq", 5)
	m.op(opDequantize, 0, nil, []int32{b16}, bdq)
	fc := m.act("fc", 2, 5)
	m.op(opFullyConnected, optFullyConnected, fbt{0: uint8(actRelu)}, []int32{mean, wdq, bdq}, fc)
	l2 := m.act("l2", 2, 5)
	m.op(opL2Normalization, optL2Norm, fbt{}, []int32{fc}, l2)
	shape := m.constI("shape", []int32{2, 5, 1}, 3)
	y := m.act("y", 2, 5, 1)
	m.op(opReshape, optReshape, fbt{0: []int32{2, 5, 1}}, []int32{l2, shape}, y)
	m.inputs, m.outputs = []int32{x}, []int32{y}
	return m, n
}

// forward computes smallNet on one 7×7×3 image with plain float64 loops
// straight from the TFLite layouts (OHWI filters, [1, KH, KW, C·M]
// depthwise filters, [units, depth] weights): the obviously correct twin
// the translated graph is compared with.
func (n *smallNet) forward(x []float32) []float64 {
	at := func(h, w, c int) float64 {
		if h < 0 || h >= 7 || w < 0 || w >= 7 {
			return 0
		}
		return float64(x[(h*7+w)*3+c])
	}
	// conv: SAME, stride 2 on 7 → 4; total padding max((4−1)·2+3−7, 0) = 2,
	// 1 before and 1 after.
	var c1 [4][4][4]float64
	for oh := range 4 {
		for ow := range 4 {
			for o := range 4 {
				s := float64(n.b1[o])
				for kh := range 3 {
					for kw := range 3 {
						for i := range 3 {
							s += float64(n.w1[((o*3+kh)*3+kw)*3+i]) * at(oh*2+kh-1, ow*2+kw-1, i)
						}
					}
				}
				c1[oh][ow][o] = math.Min(math.Max(s, 0), 6)
			}
		}
	}
	// depthwise VALID 4 → 2, output channel c·2+m reads input channel c.
	var mean [8]float64
	for oh := range 2 {
		for ow := range 2 {
			for oc := range 8 {
				s := float64(n.db[oc])
				for kh := range 3 {
					for kw := range 3 {
						s += float64(n.dw[(kh*3+kw)*8+oc]) * c1[oh+kh][ow+kw][oc/2]
					}
				}
				if s < 0 {
					s *= 2 * float64(n.c[oc])
				}
				mean[oc] += s / 4
			}
		}
	}
	out := make([]float64, 5)
	var ss float64
	for u := range 5 {
		s := float64(n.fb[u])
		for i := range 8 {
			s += float64(n.fc[u*8+i]) * mean[i]
		}
		out[u] = math.Max(s, 0)
		ss += out[u] * out[u]
	}
	for u := range out {
		out[u] /= math.Sqrt(math.Max(ss, 1e-12))
	}
	return out
}
