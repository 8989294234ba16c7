package onnx

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
	"google.golang.org/protobuf/encoding/protowire"
)

// baseModel is a valid model the error cases below break one way each.
func baseModel() bModel {
	r := rand.New(rand.NewPCG(1, 2))
	return convModel(r, 13, 3, 5, 5, 2, 1, 3, []bAttr{isattr("pads", 1, 1, 1, 1)}, []any{1, 2, 5, 5})
}

func TestParseErrors(t *testing.T) {
	valid := baseModel().encode()
	if _, err := Parse(valid); err != nil {
		t.Fatalf("base model: %v", err)
	}
	var unsupported *UnsupportedOpError
	cases := []struct {
		name   string
		mutate func(m *bModel) []byte // nil result: m.encode()
		want   error                  // nil: an *UnsupportedOpError
	}{
		{"truncated", func(m *bModel) []byte { b := m.encode(); return b[:len(b)-3] }, ErrFormat},
		{"group wire type", func(m *bModel) []byte { return append(m.encode(), 0x0b) }, ErrFormat},
		{"wrong wire type for ir_version", func(m *bModel) []byte { return appendString(m.encode(), 1, "x") }, ErrFormat},
		{"empty file", func(m *bModel) []byte { return []byte{} }, ErrVersion},
		{"IR version 2", func(m *bModel) []byte { m.ir = 2; return nil }, ErrVersion},
		{"IR version 12", func(m *bModel) []byte { m.ir = 12; return nil }, ErrVersion},
		{"opset 6", func(m *bModel) []byte { m.opset = 6; return nil }, ErrVersion},
		{"opset 23", func(m *bModel) []byte { m.opset = 23; return nil }, ErrVersion},
		{"node domain not imported", func(m *bModel) []byte { m.nodes[0].domain = "com.example"; return nil }, ErrVersion},
		{"op of another domain", func(m *bModel) []byte {
			m.domains = map[string]int64{"com.microsoft": 1}
			m.nodes[0].domain = "com.microsoft"
			return nil
		}, nil},
		{"unknown op", func(m *bModel) []byte { m.nodes[0].op = "LSTM"; return nil }, nil},
		{"no graph", func(m *bModel) []byte {
			b := appendVarint(nil, 1, 8)
			return appendMsg(b, 8, appendVarint(nil, 2, 13))
		}, ErrFormat},
		{"model-local functions", func(m *bModel) []byte { return appendMsg(m.encode(), 25, nil) }, ErrFormat},
		{"sparse initializer", func(m *bModel) []byte {
			m.graphRaw = func(b []byte) []byte { return appendMsg(b, 15, nil) }
			return nil
		}, ErrFormat},
		{"external data", func(m *bModel) []byte { m.inits[0].external = true; return nil }, ErrExternalData},
		{"string tensor", func(m *bModel) []byte {
			m.inits[1] = bTensor{name: "b", dims: []int64{2}, dtype: typeString}
			return nil
		}, ErrDataType},
		{"unknown data type", func(m *bModel) []byte {
			m.inits[1] = bTensor{name: "b", dims: []int64{2}, dtype: 99, raw: []byte{1, 2}}
			return nil
		}, ErrDataType},
		{"float8 data type", func(m *bModel) []byte {
			m.inits[1] = bTensor{name: "b", dims: []int64{2}, dtype: 17, raw: []byte{1, 2}}
			return nil
		}, ErrDataType},
		{"int64 input", func(m *bModel) []byte { m.inputs[0].elem = typeInt64; return nil }, ErrDataType},
		{"float16 computed with", func(m *bModel) []byte {
			m.inits[1] = bTensor{name: "b", dims: []int64{2}, dtype: typeFloat16, raw: []byte{0, 60, 0, 60}}
			return nil
		}, ErrDataType},
		{"duplicate initializer", func(m *bModel) []byte { m.inits = append(m.inits, m.inits[1]); return nil }, ErrDuplicateName},
		{"output redefines an input", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("Relu", []string{"y"}, "x"))
			return nil
		}, ErrDuplicateName},
		{"duplicate graph input", func(m *bModel) []byte { m.inputs = append(m.inputs, m.inputs[0]); return nil }, ErrDuplicateName},
		{"dangling input", func(m *bModel) []byte { m.nodes[0].in[1] = "nowhere"; return nil }, ErrDanglingInput},
		{"dangling output", func(m *bModel) []byte { m.outputs[0].name = "nowhere"; return nil }, ErrDanglingInput},
		{"cycle", func(m *bModel) []byte {
			m.nodes[0].in = []string{"z", "w", "b"}
			m.nodes = append(m.nodes, node("Relu", []string{"y"}, "z"))
			return nil
		}, ErrCycle},
		{"unknown attribute", func(m *bModel) []byte { m.nodes[0].attrs = append(m.nodes[0].attrs, iattr("colour", 1)); return nil }, ErrAttribute},
		{"attribute of the wrong type", func(m *bModel) []byte { m.nodes[0].attrs[0] = fattr("pads", 1); return nil }, ErrAttribute},
		{"attribute given twice", func(m *bModel) []byte { m.nodes[0].attrs = append(m.nodes[0].attrs, m.nodes[0].attrs[0]); return nil }, ErrAttribute},
		{"attribute type disagrees with its field", func(m *bModel) []byte {
			a := iattr("group", 1)
			a.forceT = attrFloat
			m.nodes[0].attrs[1] = a
			return nil
		}, ErrFormat},
		{"grouped convolution", func(m *bModel) []byte {
			m.inputs[0] = input("x", 1, 4, 5, 5)
			m.inits[0] = ftensor("w", make([]float32, 2*2*9), 2, 2, 3, 3)
			m.nodes[0].attrs[1] = iattr("group", 2)
			return nil
		}, ErrAttribute},
		{"computed weights", func(m *bModel) []byte {
			m.nodes[0].in[1] = "x2"
			m.inputs = append(m.inputs, input("x2", 2, 3, 3, 3))
			return nil
		}, ErrAttribute},
		{"negative pads", func(m *bModel) []byte { m.nodes[0].attrs[0] = isattr("pads", -1, 1, 1, 1); return nil }, ErrAttribute},
		{"dims overflow", func(m *bModel) []byte { m.inits[1].dims = []int64{1 << 40, 1 << 40}; return nil }, ErrLimit},
		{"dims over the element limit", func(m *bModel) []byte { m.inits[1].dims = []int64{1 << 14, 1 << 14}; return nil }, ErrLimit},
		{"negative dim", func(m *bModel) []byte { m.inits[1].dims = []int64{-2}; return nil }, ErrFormat},
		{"rank over 8", func(m *bModel) []byte { m.inits[1].dims = []int64{1, 1, 1, 1, 1, 1, 1, 1, 2}; return nil }, ErrLimit},
		{"too few values", func(m *bModel) []byte { m.inits[1].f = m.inits[1].f[:1]; return nil }, ErrFormat},
		{"two data fields", func(m *bModel) []byte {
			m.graphRaw = nil
			m.inits[1] = bTensor{name: "b", dims: []int64{2}, dtype: typeFloat, f: []float32{1, 2}, useField: true}
			b := m.encode()
			// Re-encode with raw_data added as well.
			m.inits[1].useField = false
			_ = b
			tb := bTensor{name: "b", dims: []int64{2}, dtype: typeFloat, f: []float32{1, 2}, useField: true}.encode()
			tb = appendMsg(tb, 9, make([]byte, 8))
			m.inits = m.inits[:1]
			m.graphRaw = func(g []byte) []byte { return appendMsg(g, 5, tb) }
			return nil
		}, ErrFormat},
		{"shapes that do not broadcast", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("Add", []string{"y", "v"}, "z"))
			m.inits = append(m.inits, ftensor("v", []float32{1, 2, 3}, 3))
			m.outputs[0].name = "z"
			return nil
		}, ErrShape},
		{"declared output shape differs", func(m *bModel) []byte { m.outputs[0].dims = []any{1, 2, 4, 5}; return nil }, ErrShape},
		{"open spatial dimension", func(m *bModel) []byte { m.inputs[0].dims = []any{1, 3, "H", 5}; return nil }, ErrShape},
		{"input without a shape", func(m *bModel) []byte { m.inputs[0].noShape = true; return nil }, ErrShape},
		{"kernel larger than the input", func(m *bModel) []byte {
			m.nodes[0].attrs[0] = isattr("pads", 0, 0, 0, 0)
			m.inputs[0].dims = []any{1, 3, 2, 5}
			return nil
		}, ErrShape},
		{"kernel_shape disagrees", func(m *bModel) []byte {
			m.nodes[0].attrs = append(m.nodes[0].attrs, isattr("kernel_shape", 5, 5))
			return nil
		}, ErrShape},
		{"reshape to a computed shape", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("Reshape", []string{"y", "x"}, "z"))
			m.outputs[0] = output("z")
			return nil
		}, ErrAttribute},
		{"batch rewritten, reshape mixes it", func(m *bModel) []byte {
			m.inputs[0].dims[0] = 2
			m.nodes = append(m.nodes, node("Reshape", []string{"y", "s"}, "z"))
			m.inits = append(m.inits, itensor("s", []int64{-1}, 1))
			m.outputs[0] = output("z", 100)
			return nil
		}, ErrShape},
		{"batch rewritten, concat along it", func(m *bModel) []byte {
			m.inputs[0].dims[0] = 2
			m.nodes = append(m.nodes, node("Concat", []string{"y", "y"}, "z", iattr("axis", 0)))
			m.outputs[0] = output("z", 4, 2, 5, 5)
			return nil
		}, ErrShape},
		{"dropout mask used", func(m *bModel) []byte {
			d := node("Dropout", []string{"y"}, "z")
			d.out = append(d.out, "mask")
			m.nodes = append(m.nodes, d)
			m.outputs = []bValue{output("z", 1, 2, 5, 5), output("mask", 1, 2, 5, 5)}
			return nil
		}, ErrAttribute},
		{"ceil_mode that changes the size", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("MaxPool", []string{"y"}, "z", isattr("kernel_shape", 2, 2), isattr("strides", 2, 2), iattr("ceil_mode", 1)))
			m.outputs[0] = output("z")
			return nil
		}, ErrAttribute},
		{"average pool excluding uneven padding", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("AveragePool", []string{"y"}, "z", isattr("kernel_shape", 3, 3), isattr("pads", 2, 0, 0, 0)))
			m.outputs[0] = output("z")
			return nil
		}, ErrAttribute},
		{"output is a graph input", func(m *bModel) []byte { m.outputs = append(m.outputs, output("x", 1, 3, 5, 5)); return nil }, ErrAttribute},
		{"output is a constant", func(m *bModel) []byte { m.outputs = append(m.outputs, output("b", 2)); return nil }, ErrAttribute},
		{"clip bounds reversed", func(m *bModel) []byte {
			m.nodes = append(m.nodes, node("Clip", []string{"y", "hi", "lo"}, "z"))
			m.inits = append(m.inits, ftensor("lo", []float32{-1}), ftensor("hi", []float32{1}))
			m.outputs[0] = output("z")
			return nil
		}, ErrAttribute},
		{"batch norm in training mode", func(m *bModel) []byte {
			m.opset = 15
			m.nodes = append(m.nodes, node("BatchNormalization", []string{"y", "s", "s", "s", "s"}, "z", iattr("training_mode", 1)))
			m.inits = append(m.inits, ftensor("s", []float32{1, 1}, 2))
			m.outputs[0] = output("z")
			return nil
		}, ErrAttribute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := baseModel()
			b := c.mutate(&m)
			if b == nil {
				b = m.encode()
			}
			before := bytes.Clone(b)
			got, err := Parse(b)
			if got != nil || err == nil {
				t.Fatalf("Parse = %v, %v; want an error", got, err)
			}
			if !bytes.Equal(b, before) {
				t.Fatal("Parse modified its input")
			}
			switch {
			case c.want == nil && !errors.As(err, &unsupported):
				t.Fatalf("error %v, want an *UnsupportedOpError", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("error %v, want %v", err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestRunBadInput(t *testing.T) {
	m, err := Parse(baseModel().encode())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	x := &nn.Tensor{Shape: []int{1, 3, 5, 5}, Data: randn(r, 75, 1)}
	keep := slices.Clone(x.Data)
	want, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   map[string]*nn.Tensor
	}{
		{"missing", map[string]*nn.Tensor{}},
		{"unknown", map[string]*nn.Tensor{"x": x, "z": x}},
		{"nil", map[string]*nn.Tensor{"x": nil}},
		{"NHWC shape", map[string]*nn.Tensor{"x": {Shape: []int{1, 5, 5, 3}, Data: x.Data}}},
		{"short data", map[string]*nn.Tensor{"x": {Shape: []int{1, 3, 5, 5}, Data: x.Data[:10]}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := m.Run(c.in)
			if out != nil || !errors.Is(err, ErrInput) {
				t.Fatalf("Run = %v, %v; want ErrInput", out, err)
			}
		})
	}
	if !slices.Equal(x.Data, keep) {
		t.Fatal("Run modified its input")
	}
	again, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil || !slices.Equal(again["y"].Data, want["y"].Data) {
		t.Fatalf("after bad calls: %v (same result: %v)", err, err == nil && slices.Equal(again["y"].Data, want["y"].Data))
	}
}

func TestRunConcurrent(t *testing.T) {
	m, err := Parse(baseModel().encode())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	x := &nn.Tensor{Shape: []int{1, 3, 5, 5}, Data: randn(r, 75, 1)}
	want, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			got, err := m.Run(map[string]*nn.Tensor{"x": x})
			if err == nil && !slices.Equal(got["y"].Data, want["y"].Data) {
				err = errors.New("different result")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoOutputsOneTensor: two graph outputs naming one value each get
// their own tensor.
func TestTwoOutputsOneTensor(t *testing.T) {
	m := baseModel()
	m.nodes = append(m.nodes, node("Identity", []string{"y"}, "y2"))
	m.outputs = append(m.outputs, output("y2", 1, 2, 5, 5))
	mod, err := Parse(m.encode())
	if err != nil {
		t.Fatal(err)
	}
	out, err := mod.Run(map[string]*nn.Tensor{"x": nn.New(1, 3, 5, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if &out["y"].Data[0] == &out["y2"].Data[0] || !slices.Equal(out["y"].Data, out["y2"].Data) {
		t.Fatal("outputs y and y2 should be equal and distinct")
	}
	if got := mod.Outputs(); len(got) != 2 || got[1].Name != "y2" || !slices.Equal(got[1].Shape, []int{1, 2, 5, 5}) {
		t.Fatalf("Outputs = %v", got)
	}
}

// TestPackedAndUnpacked: a repeated field is read the same whether packed
// or not, and an attribute without its type field (IR version 1 style) is
// typed by its value.
func TestPackedAndUnpacked(t *testing.T) {
	var packed, unpacked []byte
	packed = appendMsg(packed, 8, protowire.AppendVarint(protowire.AppendVarint(nil, 3), 300))
	unpacked = appendVarint(appendVarint(unpacked, 8, 3), 8, 300)
	for _, b := range [][]byte{packed, unpacked} {
		a, err := decodeAttribute(appendString(b, 1, "k"))
		if err != nil || !slices.Equal(a.ints, []int64{3, 300}) {
			t.Fatalf("ints %v, %v", a.ints, err)
		}
		if typ, err := attrType(&a); err != nil || typ != attrInts {
			t.Fatalf("type %d, %v", typ, err)
		}
	}
}

func TestHalfToFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.9604645e-08}, {0x0400, 6.1035156e-05}, {0x3555, 0.33325195},
	} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", c.h, got, c.want)
		}
		if c.h >= 0x0400 && c.h&0x7fff < 0x7c00 {
			if back := float16Bits(c.want); back != c.h {
				t.Errorf("float16Bits(%v) = %#04x, want %#04x", c.want, back, c.h)
			}
		}
	}
}

func TestSupportedOps(t *testing.T) {
	ops := SupportedOps()
	for _, want := range []string{"Conv", "BatchNormalization", "PRelu", "Gemm", "Flatten", "Reshape", "Constant", "DequantizeLinear"} {
		if !slices.Contains(ops, want) {
			t.Errorf("SupportedOps lacks %s", want)
		}
	}
}
