package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// tgraph builds small tfjs graph models in memory for the tests.
type tgraph struct {
	nodes   []map[string]any
	weights []map[string]any
	data    []byte
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func ilist(v ...int) map[string]any {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = json.Number(itoa(x)).String()
	}
	return map[string]any{"list": map[string]any{"i": s}}
}

func itoa(x int) string { b, _ := json.Marshal(x); return string(b) }

func (g *tgraph) placeholder(name string, shape ...int) {
	dims := make([]map[string]string, len(shape))
	for i, d := range shape {
		dims[i] = map[string]string{"size": itoa(d)}
	}
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": "Placeholder",
		"attr": map[string]any{"dtype": map[string]string{"type": "DT_FLOAT"}, "shape": map[string]any{"shape": map[string]any{"dim": dims}}}})
}

// constF adds a float32 weight stored unquantised.
func (g *tgraph) constF(name string, t *nn.Tensor) {
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": "Const"})
	g.weights = append(g.weights, map[string]any{"name": name, "shape": t.Shape, "dtype": "float32"})
	for _, v := range t.Data {
		g.data = binary.LittleEndian.AppendUint32(g.data, math.Float32bits(v))
	}
}

func (g *tgraph) constI(name string, shape []int, v ...int32) {
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": "Const"})
	g.weights = append(g.weights, map[string]any{"name": name, "shape": shape, "dtype": "int32"})
	for _, x := range v {
		g.data = binary.LittleEndian.AppendUint32(g.data, uint32(x))
	}
}

func (g *tgraph) op(name, op string, attr map[string]any, inputs ...string) {
	if attr == nil {
		attr = map[string]any{}
	}
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": op, "input": inputs, "attr": attr})
}

func (g *tgraph) files() fstest.MapFS {
	mj := map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": g.nodes},
		"weightsManifest": []any{map[string]any{"paths": []string{"w.bin"}, "weights": g.weights}},
	}
	raw, err := json.Marshal(mj)
	if err != nil {
		panic(err)
	}
	return fstest.MapFS{"m/model.json": {Data: raw}, "m/w.bin": {Data: g.data}}
}

func randT(r *rand.Rand, shape ...int) *nn.Tensor {
	t := nn.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// smallCNN is a graph exercising the common ops of the face models.
func smallCNN(r *rand.Rand) (*tgraph, map[string]*nn.Tensor) {
	g := &tgraph{}
	w := map[string]*nn.Tensor{
		"w1": randT(r, 3, 3, 3, 8), "b1": randT(r, 8), "a1": randT(r, 8),
		"dw": randT(r, 3, 3, 8, 1), "db": randT(r, 8),
		"w2": randT(r, 1, 1, 8, 4), "b2": randT(r, 4),
	}
	g.placeholder("x", -1, 9, 9, 3)
	for _, k := range []string{"w1", "b1", "a1", "dw", "db", "w2", "b2"} {
		g.constF(k, w[k])
	}
	g.constI("shape", []int{2}, -1, 36)
	g.constI("pads", []int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)
	g.constI("axis", []int{}, 1)
	same, valid := map[string]any{"s": b64("SAME")}, map[string]any{"s": b64("VALID")}
	g.op("c1", "_FusedConv2D", map[string]any{"strides": ilist(1, 2, 2, 1), "padding": same,
		"fused_ops": map[string]any{"list": map[string]any{"s": []string{b64("BiasAdd"), b64("Prelu")}}},
		"num_args":  map[string]any{"i": "2"}}, "x", "w1", "b1", "a1")
	g.op("d1", "FusedDepthwiseConv2dNative", map[string]any{"strides": ilist(1, 1, 1, 1), "padding": same,
		"fused_ops": map[string]any{"list": map[string]any{"s": []string{b64("BiasAdd"), b64("Relu6")}}},
		"num_args":  map[string]any{"i": "1"}}, "c1", "dw", "db")
	g.op("sum", "AddV2", nil, "d1", "c1")
	g.op("p", "Pad", nil, "sum", "pads")
	g.op("mp", "MaxPool", map[string]any{"ksize": ilist(1, 2, 2, 1), "strides": ilist(1, 2, 2, 1), "padding": valid}, "p")
	g.op("c2", "Conv2D", map[string]any{"strides": ilist(1, 1, 1, 1), "padding": valid}, "mp", "w2")
	g.op("ba", "BiasAdd", nil, "c2", "b2")
	g.op("sig", "Sigmoid", nil, "ba")
	g.op("r", "Reshape", nil, "sig", "shape")
	g.op("sq", "Square", nil, "r")
	g.op("s", "Sum", map[string]any{"keep_dims": map[string]any{"b": true}}, "sq", "axis")
	g.op("rs", "Rsqrt", nil, "s")
	g.op("out", "Mul", nil, "r", "rs")
	return g, w
}

// smallCNNDirect computes smallCNN with the nn kernels called directly.
func smallCNNDirect(t *testing.T, x *nn.Tensor, w map[string]*nn.Tensor) *nn.Tensor {
	t.Helper()
	must := func(v *nn.Tensor, err error) *nn.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	same := nn.Window{Pad: nn.Padding{Mode: nn.PadSame}}
	c1 := must(nn.Conv2D(x, w["w1"], w["b1"].Data, nn.Window{StrideH: 2, StrideW: 2, Pad: nn.Padding{Mode: nn.PadSame}},
		nn.Activation{Kind: nn.PReLU, Slopes: w["a1"].Data}))
	d1 := must(nn.DepthwiseConv2D(c1, w["dw"], w["db"].Data, same, nn.Activation{Kind: nn.ReLU6}))
	s := must(nn.Binary(nn.Add, d1, c1))
	p := must(nn.Pad(s, [][2]int{{0, 0}, {1, 1}, {1, 1}, {0, 0}}, 0))
	mp := must(nn.MaxPool(p, 2, 2, nn.Window{StrideH: 2, StrideW: 2}))
	c2 := must(nn.Conv2D(mp, w["w2"], w["b2"].Data, nn.Window{}, nn.Activation{Kind: nn.Sigmoid}))
	r := must(nn.Reshape(c2, -1, 36))
	return must(nn.L2Normalize(r, 0))
}

func TestRunMatchesKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g, w := smallCNN(r)
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Inputs(); len(in) != 1 || in[0].Name != "x" || len(in[0].Shape) != 4 || in[0].Shape[0] != -1 {
		t.Fatalf("inputs %+v", in)
	}
	if out := m.Outputs(); len(out) != 1 || out[0].Name != "out" {
		t.Fatalf("outputs %+v", out)
	}
	x := randT(r, 2, 9, 9, 3)
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	want := smallCNNDirect(t, x, w)
	o := got["out"]
	if len(o.Data) != len(want.Data) {
		t.Fatalf("shape %v, want %v", o.Shape, want.Shape)
	}
	for i := range o.Data {
		if math.Abs(float64(o.Data[i]-want.Data[i])) > 1e-5 {
			t.Fatalf("element %d: %v, want %v", i, o.Data[i], want.Data[i])
		}
	}
}

func TestConcurrentRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g, _ := smallCNN(r)
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	xs := []*nn.Tensor{randT(r, 1, 9, 9, 3), randT(r, 1, 9, 9, 3), randT(r, 1, 9, 9, 3), randT(r, 1, 9, 9, 3)}
	want := make([]*nn.Tensor, len(xs))
	for i, x := range xs {
		out, err := m.Run(map[string]*nn.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out["out"]
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for k := 0; k < 16; k++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := m.Run(map[string]*nn.Tensor{"x": xs[i]})
			if err != nil {
				errs <- err
				return
			}
			for j, v := range out["out"].Data {
				if v != want[i].Data[j] {
					errs <- errors.New("concurrent run differs")
					return
				}
			}
		}(k % len(xs))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestDequantisation(t *testing.T) {
	scale, lo := 0.5, -1.0
	tests := []struct {
		name  string
		spec  weightSpec
		bytes []byte
		want  []float32
	}{
		{"uint8", weightSpec{Name: "w", Shape: []int{3}, Dtype: "float32", Quantization: &quantization{Dtype: "uint8", Scale: &scale, Min: &lo}},
			[]byte{0, 1, 255}, []float32{-1, -0.5, 126.5}},
		{"uint16", weightSpec{Name: "w", Shape: []int{2}, Dtype: "float32", Quantization: &quantization{Dtype: "uint16", Scale: &scale, Min: &lo}},
			[]byte{0, 1, 0xff, 0xff}, []float32{127, 32766.5}},
		// binary16: 1.0, -2.0, 65504 (max), 2⁻²⁴ (smallest subnormal), +Inf
		{"float16", weightSpec{Name: "w", Shape: []int{5}, Dtype: "float32", Quantization: &quantization{Dtype: "float16"}},
			[]byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c}, []float32{1, -2, 65504, 1.0 / (1 << 24), float32(math.Inf(1))}},
		{"float32", weightSpec{Name: "w", Shape: []int{1}, Dtype: "float32"}, []byte{0, 0, 0x80, 0x3f}, []float32{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := decodeWeight(tc.spec, tc.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.bytes) {
				t.Fatalf("used %d bytes, want %d", n, len(tc.bytes))
			}
			for i, w := range tc.want {
				if v.Float.Data[i] != w {
					t.Fatalf("value %d = %v, want %v", i, v.Float.Data[i], w)
				}
			}
		})
	}
	// Quantised int32 weights round like Math.round.
	v, _, err := decodeWeight(weightSpec{Name: "i", Shape: []int{2}, Dtype: "int32", Quantization: &quantization{Dtype: "uint8", Scale: &scale, Min: &lo}}, []byte{3, 4})
	if err != nil || v.Int.Data[0] != 1 || v.Int.Data[1] != 1 {
		t.Fatalf("int32 dequantisation: %v %v", v.Int, err)
	}
	// Every binary16 value converts exactly (compare with float64 arithmetic).
	for h := 0; h < 1<<16; h++ {
		e, m := (h>>10)&0x1f, h&0x3ff
		if e == 0x1f {
			continue
		}
		var want float64
		if e == 0 {
			want = math.Ldexp(float64(m), -24)
		} else {
			want = math.Ldexp(float64(m|0x400), e-25)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got := halfToFloat32(uint16(h)); float64(got) != want {
			t.Fatalf("half %#04x = %v, want %v", h, got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	base := func() *tgraph { g, _ := smallCNN(r); return g }
	tests := []struct {
		name   string
		mutate func(fs fstest.MapFS, g *tgraph) fstest.MapFS
		err    error
	}{
		{"unknown op", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("nms", "NonMaxSuppressionV5", nil, "out")
			return g.files()
		}, nil},
		{"dangling input", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("bad", "Relu", nil, "nowhere")
			return g.files()
		}, ErrFormat},
		{"cycle", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("a", "Relu", nil, "b")
			g.op("b", "Relu", nil, "a")
			return g.files()
		}, ErrFormat},
		{"duplicate node", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("out", "Relu", nil, "x")
			return g.files()
		}, ErrFormat},
		{"bad padding attr", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("mp2", "MaxPool", map[string]any{"ksize": ilist(1, 2, 2, 1), "padding": map[string]any{"s": b64("WEIRD")}}, "x")
			return g.files()
		}, ErrFormat},
		{"NCHW", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			g.op("c9", "Conv2D", map[string]any{"padding": map[string]any{"s": b64("SAME")}, "data_format": map[string]any{"s": b64("NCHW")}}, "x", "w1")
			return g.files()
		}, ErrFormat},
		{"short weights", func(f fstest.MapFS, _ *tgraph) fstest.MapFS {
			f["m/w.bin"].Data = f["m/w.bin"].Data[:10]
			return f
		}, ErrWeights},
		{"long weights", func(f fstest.MapFS, _ *tgraph) fstest.MapFS {
			f["m/w.bin"].Data = append(f["m/w.bin"].Data, 0, 0, 0, 0)
			return f
		}, ErrWeights},
		{"missing shard", func(f fstest.MapFS, _ *tgraph) fstest.MapFS {
			delete(f, "m/w.bin")
			return f
		}, ErrWeights},
		{"not json", func(f fstest.MapFS, _ *tgraph) fstest.MapFS {
			f["m/model.json"].Data = []byte("{")
			return f
		}, ErrFormat},
		{"layers model", func(f fstest.MapFS, _ *tgraph) fstest.MapFS {
			f["m/model.json"].Data = []byte(`{"format":"layers-model","modelTopology":{"node":[{"name":"x","op":"Placeholder"}]}}`)
			return f
		}, ErrFormat},
		{"escaping shard path", func(_ fstest.MapFS, g *tgraph) fstest.MapFS {
			f := g.files()
			var mj map[string]any
			_ = json.Unmarshal(f["m/model.json"].Data, &mj)
			mj["weightsManifest"].([]any)[0].(map[string]any)["paths"] = []string{"../../etc/passwd"}
			f["m/model.json"].Data, _ = json.Marshal(mj)
			return f
		}, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := base()
			m, err := Load(tc.mutate(g.files(), g), "m/model.json")
			if m != nil {
				t.Fatal("model returned with an error")
			}
			if tc.err == nil {
				var uo *UnsupportedOpError
				if !errors.As(err, &uo) || uo.Op != "NonMaxSuppressionV5" || uo.Node != "nms" {
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
	r := rand.New(rand.NewPCG(7, 8))
	g, _ := smallCNN(r)
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]map[string]*nn.Tensor{
		"missing":     {},
		"unknown":     {"x": randT(r, 1, 9, 9, 3), "y": randT(r, 1)},
		"wrong shape": {"x": randT(r, 1, 8, 9, 3)},
		"wrong rank":  {"x": randT(r, 9, 9, 3)},
		"lying shape": {"x": {Shape: []int{1, 9, 9, 3}, Data: make([]float32, 5)}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := m.Run(in)
			if out != nil || !errors.Is(err, ErrInput) {
				t.Fatalf("out %v err %v, want ErrInput", out, err)
			}
		})
	}
}

func TestShapeArithmetic(t *testing.T) {
	// Shape → StridedSlice → Pack → Reshape, as converted detectors do.
	g := &tgraph{}
	g.placeholder("x", 1, 4, 6, 2)
	g.constI("b", []int{1}, 0)
	g.constI("e", []int{1}, 1)
	g.constI("s", []int{1}, 1)
	g.constI("m1", []int{}, -1)
	g.constI("c2", []int{}, 2)
	g.op("shape", "Shape", nil, "x")
	g.op("n", "StridedSlice", map[string]any{"shrink_axis_mask": map[string]any{"i": "1"}}, "shape", "b", "e", "s")
	g.op("packed", "Pack", map[string]any{"N": map[string]any{"i": "3"}}, "n", "m1", "c2")
	g.op("out", "Reshape", nil, "x", "packed")
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(map[string]*nn.Tensor{"x": nn.New(1, 4, 6, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if s := out["out"].Shape; len(s) != 3 || s[0] != 1 || s[1] != 24 || s[2] != 2 {
		t.Fatalf("shape %v, want [1 24 2]", s)
	}
}

func TestSupportedOpsListed(t *testing.T) {
	ops := SupportedOps()
	for _, want := range []string{"Const", "Placeholder", "_FusedConv2D", "FusedDepthwiseConv2dNative", "Prelu", "MaxPool", "ResizeBilinear"} {
		found := false
		for _, o := range ops {
			found = found || o == want
		}
		if !found {
			t.Errorf("%s missing from SupportedOps", want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	g, _ := smallCNN(r)
	files := g.files()
	f.Add(files["m/model.json"].Data)
	f.Add([]byte(`{"format":"graph-model","modelTopology":{"node":[{"name":"x","op":"Placeholder"},{"name":"y","op":"Relu","input":["x:0","^x"]}]},"weightsManifest":[]}`))
	f.Add([]byte(`{"modelTopology":{"node":[{"name":"c","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"2"}]},"intVal":[3]}}}}]}}`))
	f.Add([]byte(`{"weightsManifest":[{"paths":["w.bin"],"weights":[{"name":"a","shape":[1000000000,1000000000],"dtype":"float32"}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fs := fstest.MapFS{"m/model.json": {Data: raw}, "m/w.bin": files["m/w.bin"]}
		m, err := Load(fs, "m/model.json")
		if (m == nil) == (err == nil) {
			t.Fatalf("model %v with error %v", m, err)
		}
		if m == nil {
			return
		}
		// A model that loads must run or fail cleanly on a plausible input.
		in := map[string]*nn.Tensor{}
		for _, io := range m.Inputs() {
			shape := make([]int, len(io.Shape))
			for i, d := range io.Shape {
				shape[i] = min(max(d, 1), 16)
			}
			if _, err := nn.CheckShape(shape); err != nil {
				return
			}
			in[io.Name] = nn.New(shape...)
		}
		out, err := m.Run(in)
		if (out == nil) == (err == nil) {
			t.Fatalf("outputs %v with error %v", out, err)
		}
	})
}

func TestLoadWeights(t *testing.T) {
	scale, lo := 0.25, -1.0
	manifest, _ := json.Marshal([]map[string]any{{
		"paths": []string{"a.bin", "b.bin"},
		"weights": []map[string]any{
			{"name": "q", "shape": []int{2, 2}, "dtype": "float32", "quantization": map[string]any{"dtype": "uint8", "scale": scale, "min": lo}},
			{"name": "f", "shape": []int{1}, "dtype": "float32"},
		},
	}})
	fs := fstest.MapFS{
		"w/m.json": {Data: manifest},
		"w/a.bin":  {Data: []byte{0, 4, 8}},
		"w/b.bin":  {Data: []byte{12, 0, 0, 0x80, 0x3f}}, // shards concatenate
	}
	w, err := LoadWeights(fs, "w/m.json")
	if err != nil {
		t.Fatal(err)
	}
	if q := w["q"]; len(q.Shape) != 2 || q.Data[0] != -1 || q.Data[1] != 0 || q.Data[2] != 1 || q.Data[3] != 2 {
		t.Fatalf("q = %v %v", q.Shape, q.Data)
	}
	if f := w["f"]; f.Data[0] != 1 {
		t.Fatalf("f = %v", f.Data)
	}
	fs["w/b.bin"].Data = fs["w/b.bin"].Data[:3]
	if w, err := LoadWeights(fs, "w/m.json"); w != nil || !errors.Is(err, ErrWeights) {
		t.Fatalf("short shard: %v %v", w, err)
	}
	fs["w/m.json"].Data = []byte(`{"paths":[]}`)
	if w, err := LoadWeights(fs, "w/m.json"); w != nil || !errors.Is(err, ErrFormat) {
		t.Fatalf("not an array: %v %v", w, err)
	}
}

func TestPadFoldedIntoConvolution(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	g := &tgraph{}
	g.placeholder("x", 1, 7, 6, 3)
	w1, w2 := randT(r, 3, 3, 3, 4), randT(r, 3, 3, 4, 1)
	g.constF("w1", w1)
	g.constF("w2", w2)
	g.constI("p1", []int{4, 2}, 0, 0, 1, 2, 2, 1, 0, 0)
	g.constI("p2", []int{4, 2}, 0, 0, 1, 0, 0, 1, 0, 0)
	g.op("pad1", "Pad", nil, "x", "p1")
	g.op("c1", "Conv2D", map[string]any{"strides": ilist(1, 2, 1, 1), "padding": map[string]any{"s": b64("VALID")}}, "pad1", "w1")
	g.op("pad2", "Pad", nil, "c1", "p2")
	g.op("d2", "DepthwiseConv2dNative", map[string]any{"padding": map[string]any{"s": b64("EXPLICIT")},
		"explicit_paddings": ilist(0, 0, 1, 1, 0, 0, 0, 0)}, "pad2", "w2")
	g.op("also", "Relu", nil, "pad2") // pad2 has two readers: it must stay
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, s := range m.Steps() {
		ops[s.Name] = true
	}
	if ops["pad1"] || !ops["pad2"] {
		t.Fatalf("steps %v: pad1 should be folded, pad2 kept", ops)
	}
	x := randT(r, 1, 7, 6, 3)
	out, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := nn.Pad(x, [][2]int{{0, 0}, {1, 2}, {2, 1}, {0, 0}}, 0)
	c1, _ := nn.Conv2D(p1, w1, nil, nn.Window{StrideH: 2}, nn.Activation{})
	p2, _ := nn.Pad(c1, [][2]int{{0, 0}, {1, 0}, {0, 1}, {0, 0}}, 0)
	d2, _ := nn.DepthwiseConv2D(p2, w2, nil, nn.Window{Pad: nn.Padding{Mode: nn.PadExplicit, Top: 1, Bottom: 1}}, nn.Activation{})
	got := out["d2"]
	if got == nil || len(got.Data) != len(d2.Data) {
		t.Fatalf("d2 = %v, want shape %v", got, d2.Shape)
	}
	for i := range d2.Data {
		if math.Abs(float64(got.Data[i]-d2.Data[i])) > 1e-5 {
			t.Fatalf("element %d: %v, want %v", i, got.Data[i], d2.Data[i])
		}
	}
}

func FuzzLoadWeights(f *testing.F) {
	f.Add([]byte(`[{"paths":["a.bin"],"weights":[{"name":"q","shape":[2,2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}}]}]`))
	f.Add([]byte(`[{"paths":["a.bin"],"weights":[{"name":"h","shape":[2],"dtype":"float32","quantization":{"dtype":"float16"}}]}]`))
	f.Add([]byte(`[{"paths":["a.bin"],"weights":[{"name":"i","shape":[1],"dtype":"int32"}]}]`))
	f.Add([]byte(`[{"paths":["../a.bin"],"weights":[]}]`))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		fs := fstest.MapFS{"w/m.json": {Data: manifest}, "w/a.bin": {Data: []byte{1, 2, 3, 4}}}
		w, err := LoadWeights(fs, "w/m.json")
		if (w == nil) == (err == nil) {
			t.Fatalf("weights %v with error %v", w, err)
		}
	})
}

func TestPReLUPatternFused(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	g := &tgraph{}
	g.placeholder("x", 1, 3, 3, 4)
	gamma := randT(r, 4)
	g.constF("gamma", gamma)
	g.constF("zero", nn.New())
	g.constF("zero2", nn.New())
	half := nn.New()
	half.Data[0] = 0.5
	g.constF("half", half)
	// Fused: max(0, x) + γ·min(x, 0), operands in both orders.
	g.op("mx", "Maximum", nil, "zero", "x")
	g.op("mn", "Minimum", nil, "x", "zero2")
	g.op("mul", "Mul", nil, "mn", "gamma")
	g.op("p1", "AddV2", nil, "mul", "mx")
	// Not fused: the minimum is against 0.5.
	g.op("mx2", "Maximum", nil, "zero", "p1")
	g.op("mn2", "Minimum", nil, "half", "p1")
	g.op("mul2", "Mul", nil, "gamma", "mn2")
	g.op("out", "Add", nil, "mx2", "mul2")
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]string{}
	for _, s := range m.Steps() {
		ran[s.Name] = s.Op
	}
	if ran["p1"] != "Prelu" || ran["mx"] != "" || ran["mn"] != "" || ran["mul"] != "" {
		t.Fatalf("first PReLU not fused: %v", ran)
	}
	if ran["out"] != "Add" || ran["mn2"] != "Minimum" {
		t.Fatalf("second pattern wrongly fused: %v", ran)
	}
	x := randT(r, 1, 3, 3, 4)
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := nn.PReLUBroadcast(x, gamma)
	mx2, _ := nn.Binary(nn.Maximum, nn.Scalar(0), p1)
	mn2, _ := nn.Binary(nn.Minimum, nn.Scalar(0.5), p1)
	mul2, _ := nn.Binary(nn.Mul, gamma, mn2)
	want, _ := nn.Binary(nn.Add, mx2, mul2)
	for i := range want.Data {
		if got["out"].Data[i] != want.Data[i] {
			t.Fatalf("element %d: %v, want %v", i, got["out"].Data[i], want.Data[i])
		}
	}
}
