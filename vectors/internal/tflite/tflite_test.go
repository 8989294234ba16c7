package tflite

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

func TestReadMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, net := buildSmallNet(r)
	model, err := Read(m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	// The batch of 2 is rewritten to 1.
	if in := model.Inputs(); len(in) != 1 || in[0].Name != "x" || !slices.Equal(in[0].Shape, []int{1, 7, 7, 3}) {
		t.Fatalf("inputs %+v", in)
	}
	if out := model.Outputs(); len(out) != 1 || out[0].Name != "y" {
		t.Fatalf("outputs %+v", out)
	}
	// The spelled-out PReLU runs inside the depthwise convolution.
	for _, s := range model.Steps() {
		if s.Op == "Abs" || s.Op == "Sub" || s.Op == "Relu" {
			t.Fatalf("step %+v: the PReLU pattern was not fused", s)
		}
	}
	for trial := range 5 {
		x := nn.New(1, 7, 7, 3)
		copy(x.Data, randF(r, len(x.Data)))
		out, err := model.Run(map[string]*nn.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		y := out["y"]
		if !slices.Equal(y.Shape, []int{1, 5, 1}) {
			t.Fatalf("output shape %v", y.Shape)
		}
		want := net.forward(x.Data)
		for i, w := range want {
			if d := math.Abs(float64(y.Data[i]) - w); d > 1e-5 {
				t.Fatalf("trial %d element %d: %v, want %v", trial, i, y.Data[i], w)
			}
		}
	}
}

func TestBatchKeptWhenTheGraphUsesIt(t *testing.T) {
	m := &tmodel{}
	x := m.act("x", 2, 3)
	axes := m.constI("axes", []int32{0}, 1)
	y := m.act("y", 1, 3)
	m.op(opSum, optReducer, fbt{0: true}, []int32{x, axes}, y)
	m.inputs, m.outputs = []int32{x}, []int32{y}
	model, err := Read(m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if in := model.Inputs(); !slices.Equal(in[0].Shape, []int{2, 3}) {
		t.Fatalf("input shape %v, want the declared [2 3]", in[0].Shape)
	}
	x0, _ := nn.FromData([]float32{1, 2, 3, 10, 20, 30}, 2, 3)
	out, err := model.Run(map[string]*nn.Tensor{"x": x0})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["y"].Data; !slices.Equal(got, []float32{11, 22, 33}) {
		t.Fatalf("sum over the batch = %v", got)
	}
}

func TestDequantisation(t *testing.T) {
	tests := []struct {
		name string
		t    fileTensor
		data []byte
		want []float32
	}{
		{"int8 per tensor", fileTensor{shape: []int{3}, typ: typeInt8, scale: []float32{0.5}, zero: []int64{-1}},
			[]byte{0x80, 0xff, 0x7f}, []float32{-63.5, 0, 64}},
		{"uint8 per tensor", fileTensor{shape: []int{2}, typ: typeUint8, scale: []float32{0.25}, zero: []int64{128}},
			[]byte{0, 255}, []float32{-32, 31.75}},
		{"int8 per channel", fileTensor{shape: []int{2, 2}, typ: typeInt8, scale: []float32{1, 0.5}, zero: []int64{0, 2}, qdim: 1},
			[]byte{1, 4, 2, 6}, []float32{1, 1, 2, 2}},
		{"int16", fileTensor{shape: []int{2}, typ: typeInt16, scale: []float32{0.5}}, []byte{0xff, 0x7f, 0x00, 0x80}, []float32{16383.5, -16384}},
		{"float16", fileTensor{shape: []int{3}, typ: typeFloat16}, []byte{0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00}, []float32{1, 65504, 1.0 / (1 << 24)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeConst(tc.t, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Float.Data, tc.want) {
				t.Fatalf("got %v, want %v", v.Float.Data, tc.want)
			}
		})
	}
	bad := []struct {
		name string
		t    fileTensor
		data []byte
		err  error
	}{
		{"short", fileTensor{shape: []int{3}, typ: typeFloat32}, make([]byte, 8), ErrFormat},
		{"int8 without scale", fileTensor{shape: []int{1}, typ: typeInt8}, []byte{1}, ErrUnsupported},
		{"scales along the wrong axis", fileTensor{shape: []int{2, 3}, typ: typeInt8, scale: []float32{1, 1}, qdim: 1}, make([]byte, 6), ErrFormat},
		{"zero scale", fileTensor{shape: []int{1}, typ: typeInt8, scale: []float32{0}}, []byte{1}, ErrFormat},
		{"int64 overflow", fileTensor{shape: []int{1}, typ: typeInt64}, []byte{0, 0, 0, 0, 1, 0, 0, 0}, ErrUnsupported},
		{"string", fileTensor{shape: []int{1}, typ: 5}, []byte{1}, ErrUnsupported},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if v, err := decodeConst(tc.t, tc.data); !errors.Is(err, tc.err) || v.Float != nil || v.Int != nil {
				t.Fatalf("got %v %v, want %v", v, err, tc.err)
			}
		})
	}
}

// TestShapeSignature: a dimension the signature leaves open runs at its
// declared size; a signature that contradicts the shape is an error.
func TestShapeSignature(t *testing.T) {
	build := func(sig ...int32) []byte {
		m := &tmodel{}
		x := m.add(ttensor{name: "x", shape: []int32{1, 4}, sig: sig})
		y := m.act("y", 1, 4)
		m.op(opRelu, 0, nil, []int32{x}, y)
		m.inputs, m.outputs = []int32{x}, []int32{y}
		return m.bytes()
	}
	model, err := Read(build(-1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if in := model.Inputs(); !slices.Equal(in[0].Shape, []int{1, 4}) {
		t.Fatalf("input shape %v, want [1 4]", in[0].Shape)
	}
	if g, err := Decode(build(2, 4)); g != nil || !errors.Is(err, ErrFormat) {
		t.Fatalf("contradicting signature: %v %v", g, err)
	}
}
