package tflite

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// TestDecodeErrors checks that every malformed or unsupported model is
// rejected at load with its class of error, and returns no graph.
func TestDecodeErrors(t *testing.T) {
	var uo *UnsupportedOpError
	tests := []struct {
		name   string
		mutate func(m *tmodel)
		raw    func([]byte) []byte
		err    error // nil: an *UnsupportedOpError
	}{
		{"unknown op", func(m *tmodel) { m.ops[0].code = 49 /* SPLIT */ }, nil, nil},
		{"custom op", func(m *tmodel) { m.ops[0].code = 32 }, nil, nil},
		{"options of another op", func(m *tmodel) { m.ops[0].optType = optPool2D }, nil, ErrFormat},
		{"unknown option field", func(m *tmodel) { m.ops[0].opts[9] = int32(1) }, nil, ErrUnsupported},
		{"sign-bit activation", func(m *tmodel) { m.ops[0].opts[3] = uint8(5) }, nil, ErrUnsupported},
		{"padding 2", func(m *tmodel) { m.ops[0].opts[0] = uint8(2) }, nil, ErrFormat},
		{"stride 0", func(m *tmodel) { m.ops[0].opts[1] = int32(0) }, nil, ErrFormat},
		{"dilation 0", func(m *tmodel) { m.ops[0].opts[4] = int32(0) }, nil, ErrFormat},
		{"conv output shape", func(m *tmodel) { m.tensors[m.ops[0].outputs[0]].shape = []int32{2, 5, 4, 4} }, nil, ErrFormat},
		{"filter not constant", func(m *tmodel) { m.tensors[1].data = nil }, nil, ErrUnsupported},
		{"short filter data", func(m *tmodel) { m.tensors[1].data = m.tensors[1].data[:8] }, nil, ErrFormat},
		{"bias length", func(m *tmodel) { m.tensors[2].shape = []int32{2}; m.tensors[2].data = m.tensors[2].data[:8] }, nil, ErrFormat},
		{"read before written", func(m *tmodel) { m.ops[0], m.ops[1] = m.ops[1], m.ops[0] }, nil, ErrFormat},
		{"written twice", func(m *tmodel) { m.ops[1].outputs = m.ops[0].outputs }, nil, ErrFormat},
		{"quantised activation", func(m *tmodel) { m.tensors[m.ops[0].outputs[0]].typ = typeUint8 }, nil, ErrUnsupported},
		{"integer input", func(m *tmodel) { m.tensors[0].typ = typeInt32 }, nil, ErrUnsupported},
		{"tensor index out of range", func(m *tmodel) { m.ops[0].inputs[0] = 999 }, nil, ErrFormat},
		{"required input absent", func(m *tmodel) { m.ops[0].inputs[0] = -1 }, nil, ErrFormat},
		{"output never computed", func(m *tmodel) { m.outputs = []int32{m.inputs[0]} }, nil, ErrFormat},
		{"no outputs", func(m *tmodel) { m.outputs = nil }, nil, ErrFormat},
		{"reshape to another size", func(m *tmodel) { last := &m.ops[len(m.ops)-1]; m.tensors[last.outputs[0]].shape = []int32{2, 6, 1} }, nil, ErrFormat},
		{"broadcast mismatch", func(m *tmodel) { m.tensors[m.ops[4].inputs[0]].shape = []int32{3} }, nil, ErrFormat},
		{"dequantize of a computed tensor", func(m *tmodel) {
			m.op(opDequantize, 0, nil, []int32{m.ops[0].outputs[0]}, m.act("dq", 2, 4, 4, 4))
		}, nil, ErrUnsupported},
		{"schema version 2", func(m *tmodel) { m.edit = func(model fbt) { model[0] = uint32(2) } }, nil, ErrUnsupported},
		{"two subgraphs", func(m *tmodel) {
			m.edit = func(model fbt) { sg := model[2].([]*fbt); model[2] = append(sg, sg[0]) }
		}, nil, ErrUnsupported},
		{"buffer outside the flatbuffer", func(m *tmodel) {
			m.edit = func(model fbt) { b := model[4].([]*fbt); (*b[1])[1] = uint64(1 << 20); (*b[1])[2] = uint64(8) }
		}, nil, ErrUnsupported},
		{"sparse tensor", func(m *tmodel) {
			m.edit = func(model fbt) {
				ts := (*model[2].([]*fbt)[0])[0].([]*fbt)
				(*ts[1])[6] = &fbt{0: []int32{0}}
			}
		}, nil, ErrUnsupported},
		{"opcode index out of range", func(m *tmodel) {
			m.edit = func(model fbt) {
				ops := (*model[2].([]*fbt)[0])[3].([]*fbt)
				(*ops[0])[0] = uint32(99)
			}
		}, nil, ErrFormat},
		{"wrong identifier", nil, func(b []byte) []byte { b[4] = 'X'; return b }, ErrFormat},
		{"truncated", nil, func(b []byte) []byte { return b[:len(b)/2] }, ErrFormat},
		{"empty", nil, func([]byte) []byte { return nil }, ErrFormat},
		{"root outside", nil, func(b []byte) []byte { b[3] = 0x7f; return b }, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := buildSmallNet(rand.New(rand.NewPCG(3, 4)))
			if tc.mutate != nil {
				tc.mutate(m)
			}
			raw := m.bytes()
			if tc.raw != nil {
				raw = tc.raw(raw)
			}
			g, err := Decode(raw)
			if g != nil {
				t.Fatal("graph returned with an error")
			}
			model, err2 := Read(raw)
			if model != nil || (err == nil) != (err2 == nil) {
				t.Fatalf("Read: %v %v", model, err2)
			}
			if tc.err == nil {
				if !errors.As(err, &uo) {
					t.Fatalf("err %v, want UnsupportedOpError", err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
}

func TestRunInputErrors(t *testing.T) {
	m, _ := buildSmallNet(rand.New(rand.NewPCG(5, 6)))
	model, err := Read(m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]map[string]*nn.Tensor{
		"missing":     {},
		"batch of 2":  {"x": nn.New(2, 7, 7, 3)},
		"wrong shape": {"x": nn.New(1, 7, 8, 3)},
	} {
		if out, err := model.Run(in); out != nil || !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v %v, want ErrInput", name, out, err)
		}
	}
}

// FuzzDecode: any input decodes to a graph or fails with a classified
// error, never panics; a graph that decodes compiles or fails cleanly,
// and a compiled model runs or fails cleanly on zero inputs.
func FuzzDecode(f *testing.F) {
	m, _ := buildSmallNet(rand.New(rand.NewPCG(7, 8)))
	f.Add(m.bytes())
	small := &tmodel{}
	x := small.act("x", 1, 4)
	y := small.act("y", 1, 4)
	small.op(opRelu, 0, nil, []int32{x}, y)
	small.inputs, small.outputs = []int32{x}, []int32{y}
	f.Add(small.bytes())
	f.Add([]byte("\x08\x00\x00\x00TFL3"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := Decode(raw)
		if (g == nil) == (err == nil) {
			t.Fatalf("graph %v with error %v", g, err)
		}
		if err != nil {
			var uo *UnsupportedOpError
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) && !errors.As(err, &uo) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		model, err := Read(raw)
		if (model == nil) == (err == nil) {
			t.Fatalf("model %v with error %v", model, err)
		}
		if model == nil {
			return
		}
		in := map[string]*nn.Tensor{}
		for _, io := range model.Inputs() {
			shape := make([]int, len(io.Shape))
			n := 1
			for i, d := range io.Shape {
				shape[i] = min(max(d, 1), 64)
				n *= shape[i]
			}
			if n > 1<<16 {
				return
			}
			in[io.Name] = nn.New(shape...)
		}
		out, err := model.Run(in)
		if (out == nil) == (err == nil) {
			t.Fatalf("outputs %v with error %v", out, err)
		}
	})
}
