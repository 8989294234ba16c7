package onnx

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// opCase is a small model of one or a few supported ops with its inputs,
// run by both the loader and onnxruntime in the conformance test (and used
// as fuzzing seeds).
type opCase struct {
	name  string
	model bModel
	feeds map[string]feed
	// ortBatch > 1: the model declares this fixed batch, which the loader
	// rewrites to 1; onnxruntime gets the feeds padded with random
	// samples to that batch, and the first sample's outputs are compared.
	ortBatch int
}

type feed struct {
	dims []int
	data []float32
}

func randFeed(r *rand.Rand, dims ...int) feed {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return feed{dims: dims, data: randn(r, n, 1)}
}

// convModel is x[1,c,h,w] → Conv(weights [m, c/group, k, k], bias) → y,
// with the given attributes, then the extra nodes reading "conv".
func convModel(r *rand.Rand, opset int64, c, h, w, m, group, k int, attrs []bAttr, outDims []any, extra ...bNode) bModel {
	wt := ftensor("w", randn(r, m*(c/group)*k*k, 0.3), int64(m), int64(c/group), int64(k), int64(k))
	bias := ftensor("b", randn(r, m, 0.1), int64(m))
	out := "conv"
	if len(extra) == 0 {
		out = "y"
	}
	nodes := append([]bNode{node("Conv", []string{"x", "w", "b"}, out, append(attrs, iattr("group", int64(group)))...)}, extra...)
	return bModel{opset: opset, nodes: nodes, inits: []bTensor{wt, bias},
		inputs: []bValue{input("x", 1, c, h, w)}, outputs: []bValue{output("y", outDims...)}}
}

// quantised returns INT8 values of data per output channel (axis 0) and
// their scales.
func quantised(data []float32, channels int) (raw []byte, scales []float32) {
	per := len(data) / channels
	raw = make([]byte, len(data))
	for o := range channels {
		var mx float64
		for _, v := range data[o*per : (o+1)*per] {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		s := float32(mx / 127)
		scales = append(scales, s)
		for k, v := range data[o*per : (o+1)*per] {
			raw[o*per+k] = byte(int8(math.Round(float64(v / s))))
		}
	}
	return raw, scales
}

func float16Bits(f float32) uint16 {
	// Round to nearest even binary16 for normal values (the tests use
	// values in the normal range only).
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 {
		return sign
	}
	h := uint32(exp)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
		h++
	}
	return sign | uint16(h)
}

func opCases() []opCase {
	r := rand.New(rand.NewPCG(12, 1))
	x := func(dims ...int) map[string]feed { return map[string]feed{"x": randFeed(r, dims...)} }
	var cases []opCase
	add := func(name string, m bModel, feeds map[string]feed) {
		cases = append(cases, opCase{name: name, model: m, feeds: feeds})
	}

	add("conv3x3 pads 1", convModel(r, 13, 3, 9, 8, 5, 1, 3, []bAttr{isattr("pads", 1, 1, 1, 1)}, []any{1, 5, 9, 8}), x(1, 3, 9, 8))
	add("conv stride 2 asymmetric pads dilation 2", convModel(r, 13, 4, 11, 10, 6, 1, 3,
		[]bAttr{isattr("pads", 0, 1, 2, 0), isattr("strides", 2, 2), isattr("dilations", 2, 2), isattr("kernel_shape", 3, 3)}, []any{1, 6, 5, 4}), x(1, 4, 11, 10))
	add("conv SAME_UPPER stride 2", convModel(r, 13, 3, 10, 9, 4, 1, 3,
		[]bAttr{sattr("auto_pad", "SAME_UPPER"), isattr("strides", 2, 2)}, []any{1, 4, 5, 5}), x(1, 3, 10, 9))
	add("conv SAME_LOWER 4x4", convModel(r, 13, 2, 7, 7, 3, 1, 4,
		[]bAttr{sattr("auto_pad", "SAME_LOWER")}, []any{1, 3, 7, 7}), x(1, 2, 7, 7))
	add("conv VALID 1x1", convModel(r, 9, 8, 5, 5, 16, 1, 1,
		[]bAttr{sattr("auto_pad", "VALID")}, []any{1, 16, 5, 5}), x(1, 8, 5, 5))

	// Depthwise (multiplier 2) and a PRelu with [C,1,1] slopes.
	dw := convModel(r, 9, 4, 8, 8, 8, 4, 3, []bAttr{isattr("pads", 1, 1, 1, 1)}, []any{1, 8, 8, 8},
		node("PRelu", []string{"conv", "slope"}, "y"))
	dw.inits = append(dw.inits, ftensor("slope", randn(r, 8, 0.3), 8, 1, 1))
	add("depthwise x2 + prelu", dw, x(1, 4, 8, 8))

	// Conv → BatchNormalization (folded) → Relu (fused).
	bn := convModel(r, 13, 3, 6, 6, 4, 1, 3, []bAttr{isattr("pads", 1, 1, 1, 1)}, []any{1, 4, 6, 6},
		node("BatchNormalization", []string{"conv", "g", "beta", "mean", "var"}, "bn", fattr("epsilon", 1e-3)),
		node("Relu", []string{"bn"}, "y"))
	bn.inits = append(bn.inits, ftensor("g", randn(r, 4, 1), 4), ftensor("beta", randn(r, 4, 1), 4),
		ftensor("mean", randn(r, 4, 1), 4), ftensor("var", []float32{0.5, 1, 2, 0.1}, 4))
	add("conv + batchnorm folded + relu fused", bn, x(1, 3, 6, 6))

	// BatchNormalization on a graph input (not folded), rank 4 and rank 2.
	bn4 := bModel{opset: 15, nodes: []bNode{node("BatchNormalization", []string{"x", "g", "beta", "mean", "var"}, "y")},
		inits: []bTensor{ftensor("g", randn(r, 3, 1), 3), ftensor("beta", randn(r, 3, 1), 3),
			ftensor("mean", randn(r, 3, 1), 3), ftensor("var", []float32{0.3, 1, 4}, 3)},
		inputs: []bValue{input("x", "N", 3, 4, 5)}, outputs: []bValue{output("y", "N", 3, 4, 5)}}
	add("batchnorm rank 4 symbolic batch", bn4, x(1, 3, 4, 5))
	bn2 := bn4
	bn2.inputs, bn2.outputs = []bValue{input("x", 1, 3)}, []bValue{output("y", 1, 3)}
	add("batchnorm rank 2", bn2, x(1, 3))

	// Broadcasting arithmetic after the layout change.
	arith := convModel(r, 13, 3, 5, 6, 4, 1, 1, nil, []any{1, 4, 5, 6},
		node("Add", []string{"conv", "cbias"}, "a"),
		node("Mul", []string{"a", "rowscale"}, "m"),
		node("Sub", []string{"m", "half"}, "s"),
		node("Conv", []string{"x", "w2"}, "other"),
		node("Div", []string{"s", "denom"}, "d"),
		node("Mul", []string{"d", "other"}, "y"))
	arith.inits = append(arith.inits, ftensor("cbias", randn(r, 4, 1), 4, 1, 1), ftensor("rowscale", randn(r, 6, 1), 6),
		ftensor("half", []float32{0.5}), ftensor("denom", []float32{1.5, 2, -3, 4}, 1, 4, 1, 1), ftensor("w2", randn(r, 4*3, 0.5), 4, 3, 1, 1))
	add("add/mul/sub/div broadcasting", arith, x(1, 3, 5, 6))

	// A lower-rank computed operand broadcast against an NHWC value.
	add("rank-3 computed operand", bModel{opset: 13,
		nodes: []bNode{
			node("Conv", []string{"x", "w", "b"}, "conv"),
			node("Flatten", []string{"conv"}, "flat", iattr("axis", 3)), // [9, 3]
			node("Reshape", []string{"flat", "shp"}, "r3"),              // [3, 3, 3]
			node("Add", []string{"conv", "r3"}, "y"),
		},
		inits: []bTensor{ftensor("w", randn(r, 3*2, 0.5), 3, 2, 1, 1), ftensor("b", randn(r, 3, 0.1), 3),
			itensor("shp", []int64{3, 3, 3}, 3)},
		inputs: []bValue{input("x", 1, 2, 3, 3)}, outputs: []bValue{output("y", 1, 3, 3, 3)}}, x(1, 2, 3, 3))

	// Flatten of an NHWC tensor with H·W > 1 (needs the transpose), Gemm.
	gemm := convModel(r, 13, 3, 4, 4, 5, 1, 3, []bAttr{isattr("pads", 1, 1, 1, 1), isattr("strides", 2, 2)}, []any{1, 7},
		node("Flatten", []string{"conv"}, "flat"),
		node("Gemm", []string{"flat", "gw", "gc"}, "y", fattr("alpha", 0.5), fattr("beta", 2), iattr("transB", 1)))
	gemm.inits = append(gemm.inits, ftensor("gw", randn(r, 7*20, 0.2), 7, 20), ftensor("gc", randn(r, 7, 1), 7))
	add("flatten NHWC + gemm transB alpha beta", gemm, x(1, 3, 4, 4))

	// Gemm folded with BatchNormalization, MatMul, Reshape with 0 and -1.
	gemmBN := bModel{opset: 13, nodes: []bNode{
		node("Reshape", []string{"x", "shp"}, "r"),
		node("Gemm", []string{"r", "gw", "gc"}, "g"),
		node("BatchNormalization", []string{"g", "s", "bb", "mu", "va"}, "bn"),
		node("MatMul", []string{"bn", "mw"}, "y"),
	}, inits: []bTensor{itensor("shp", []int64{0, -1}, 2), ftensor("gw", randn(r, 24*6, 0.2), 24, 6), ftensor("gc", randn(r, 6, 1), 1, 6),
		ftensor("s", randn(r, 6, 1), 6), ftensor("bb", randn(r, 6, 1), 6), ftensor("mu", randn(r, 6, 1), 6), ftensor("va", []float32{1, 2, 3, 0.5, 0.25, 1}, 6),
		ftensor("mw", randn(r, 6*3, 0.5), 6, 3)},
		inputs: []bValue{input("x", 1, 2, 3, 4)}, outputs: []bValue{output("y", 1, 3)}}
	add("reshape 0/-1 + gemm + batchnorm folded + matmul", gemmBN, x(1, 2, 3, 4))

	// Pooling.
	add("global average + max pool", bModel{opset: 13, nodes: []bNode{
		node("GlobalAveragePool", []string{"x"}, "a"), node("GlobalMaxPool", []string{"x"}, "m"),
		node("Add", []string{"a", "m"}, "y")},
		inputs: []bValue{input("x", 1, 5, 6, 7)}, outputs: []bValue{output("y", 1, 5, 1, 1)}}, x(1, 5, 6, 7))
	add("maxpool k3 s2 pads 1", bModel{opset: 12, nodes: []bNode{node("MaxPool", []string{"x"}, "y",
		isattr("kernel_shape", 3, 3), isattr("strides", 2, 2), isattr("pads", 1, 1, 1, 1))},
		inputs: []bValue{input("x", 1, 3, 9, 8)}, outputs: []bValue{output("y", 1, 3, 5, 4)}}, x(1, 3, 9, 8))
	add("maxpool SAME_UPPER", bModel{opset: 12, nodes: []bNode{node("MaxPool", []string{"x"}, "y",
		isattr("kernel_shape", 2, 2), isattr("strides", 2, 2), sattr("auto_pad", "SAME_UPPER"))},
		inputs: []bValue{input("x", 1, 2, 7, 7)}, outputs: []bValue{output("y", 1, 2, 4, 4)}}, x(1, 2, 7, 7))
	add("averagepool k2 s2", bModel{opset: 11, nodes: []bNode{node("AveragePool", []string{"x"}, "y",
		isattr("kernel_shape", 2, 2), isattr("strides", 2, 2))},
		inputs: []bValue{input("x", 1, 3, 8, 6)}, outputs: []bValue{output("y", 1, 3, 4, 3)}}, x(1, 3, 8, 6))
	add("averagepool pads count_include_pad", bModel{opset: 11, nodes: []bNode{node("AveragePool", []string{"x"}, "y",
		isattr("kernel_shape", 3, 3), isattr("pads", 1, 0, 1, 2), iattr("count_include_pad", 1))},
		inputs: []bValue{input("x", 1, 2, 5, 5)}, outputs: []bValue{output("y", 1, 2, 5, 5)}}, x(1, 2, 5, 5))
	add("averagepool SAME_UPPER excluding pads", bModel{opset: 11, nodes: []bNode{node("AveragePool", []string{"x"}, "y",
		isattr("kernel_shape", 3, 3), isattr("strides", 2, 2), sattr("auto_pad", "SAME_UPPER"))},
		inputs: []bValue{input("x", 1, 2, 6, 5)}, outputs: []bValue{output("y", 1, 2, 3, 3)}}, x(1, 2, 6, 5))

	// Concat along channels and along the last axis.
	cat := convModel(r, 13, 3, 4, 5, 2, 1, 1, nil, []any{1, 5, 4, 10},
		node("Relu", []string{"x"}, "rx"),
		node("Concat", []string{"conv", "rx"}, "c1", iattr("axis", 1)),
		node("Concat", []string{"c1", "c1"}, "y", iattr("axis", -1)))
	add("concat channels and width", cat, x(1, 3, 4, 5))

	// Activations, Clip, Identity, Dropout at opset 13 and opset 9.
	acts := convModel(r, 13, 2, 4, 4, 3, 1, 1, nil, []any{1, 3, 4, 4},
		node("Sigmoid", []string{"conv"}, "sg"),
		node("Tanh", []string{"x"}, "th"),
		node("LeakyRelu", []string{"conv"}, "lr", fattr("alpha", 0.1)),
		node("Clip", []string{"lr", "lo", "hi"}, "cl"),
		node("Clip", []string{"conv", "zero", "six"}, "r6"),
		node("Identity", []string{"cl"}, "id"),
		node("Dropout", []string{"id"}, "dr"),
		node("Add", []string{"dr", "sg"}, "s1"),
		node("Add", []string{"s1", "r6"}, "s2"),
		node("Conv", []string{"th", "w3"}, "c3"),
		node("Mul", []string{"s2", "c3"}, "y"))
	acts.inits = append(acts.inits, ftensor("lo", []float32{-0.2}), ftensor("hi", []float32{0.7}),
		ftensor("zero", []float32{0}), ftensor("six", []float32{6}), ftensor("w3", randn(r, 3*2, 0.5), 3, 2, 1, 1))
	add("sigmoid tanh leakyrelu clip relu6 identity dropout", acts, x(1, 2, 4, 4))
	add("clip opset 9 attributes", bModel{opset: 9, nodes: []bNode{
		node("Clip", []string{"x"}, "c", fattr("min", -0.5), fattr("max", 0.25)),
		node("Dropout", []string{"c"}, "y", fattr("ratio", 0.3))},
		inputs: []bValue{input("x", 1, 3, 2, 2)}, outputs: []bValue{output("y", 1, 3, 2, 2)}}, x(1, 3, 2, 2))

	// Transpose of an NHWC tensor to NHWC order, then a Reshape.
	tr := convModel(r, 13, 3, 3, 4, 2, 1, 1, nil, []any{1, 24},
		node("Transpose", []string{"conv"}, "t", isattr("perm", 0, 2, 3, 1)),
		node("Reshape", []string{"t", "shp"}, "y"))
	tr.inits = append(tr.inits, itensor("shp", []int64{1, -1}, 2))
	add("transpose to NHWC + reshape", tr, x(1, 3, 3, 4))
	add("transpose general", bModel{opset: 13, nodes: []bNode{node("Transpose", []string{"x"}, "y", isattr("perm", 2, 0, 1))},
		inputs: []bValue{input("x", 2, 3, 4)}, outputs: []bValue{output("y", 4, 2, 3)}}, x(2, 3, 4))

	// Quantised weights: DequantizeLinear per output channel, and float16
	// weights through Cast, and int64 data in the typed field.
	wq := randn(r, 4*3*3*3, 0.3)
	raw, scales := quantised(wq, 4)
	zp := make([]byte, 4)
	dq := bModel{opset: 13, nodes: []bNode{
		node("DequantizeLinear", []string{"wq", "scale", "zp"}, "w", iattr("axis", 0)),
		node("Conv", []string{"x", "w"}, "y", isattr("pads", 1, 1, 1, 1))},
		inits: []bTensor{{name: "wq", dims: []int64{4, 3, 3, 3}, dtype: typeInt8, raw: raw}, ftensor("scale", scales, 4),
			{name: "zp", dims: []int64{4}, dtype: typeInt8, raw: zp}},
		inputs: []bValue{input("x", 1, 3, 5, 5)}, outputs: []bValue{output("y", 1, 4, 5, 5)}}
	add("dequantizelinear int8 per channel", dq, x(1, 3, 5, 5))
	wh := randn(r, 2*3*1*1, 0.5)
	hraw := make([]byte, 2*len(wh))
	for k, v := range wh {
		binary.LittleEndian.PutUint16(hraw[2*k:], float16Bits(v))
	}
	f16 := bModel{opset: 13, nodes: []bNode{
		node("Cast", []string{"wh"}, "w", iattr("to", typeFloat)),
		node("Conv", []string{"x", "w"}, "c"),
		node("Reshape", []string{"c", "shp"}, "y")},
		inits: []bTensor{{name: "wh", dims: []int64{2, 3, 1, 1}, dtype: typeFloat16, raw: hraw},
			{name: "shp", dims: []int64{2}, dtype: typeInt64, i64: []int64{1, -1}, useField: true}},
		inputs: []bValue{input("x", 1, 3, 2, 2)}, outputs: []bValue{output("y", 1, 8)}}
	add("float16 weights via cast, int64_data", f16, x(1, 3, 2, 2))

	// A fixed batch of 2 rewritten to 1, float_data weights.
	b2 := convModel(r, 11, 3, 4, 4, 2, 1, 3, []bAttr{isattr("pads", 1, 1, 1, 1)}, []any{2, 32},
		node("Reshape", []string{"conv", "shp"}, "y"))
	b2.inputs[0] = input("x", 2, 3, 4, 4)
	b2.inits[0].useField = true
	b2.inits = append(b2.inits, itensor("shp", []int64{2, 32}, 2))
	cases = append(cases, opCase{name: "fixed batch 2 rewritten to 1", model: b2, feeds: x(1, 3, 4, 4), ortBatch: 2})
	return cases
}
