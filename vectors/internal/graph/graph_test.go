package graph

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

func randT(r *rand.Rand, shape ...int) *nn.Tensor {
	t := nn.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func constF(name string, t *nn.Tensor) Node {
	return Node{Name: name, Op: "Const", Value: Value{Float: t}}
}

func constI(name string, shape []int, v ...int32) Node {
	return Node{Name: name, Op: "Const", Value: Value{Int: &IntTensor{Shape: shape, Data: v}}}
}

func op(name, op string, attrs map[string]Attr, inputs ...string) Node {
	return Node{Name: name, Op: op, Attrs: attrs, Inputs: inputs}
}

// smallCNN is a graph exercising the common ops of the face models.
func smallCNN(r *rand.Rand) (*Graph, map[string]*nn.Tensor) {
	w := map[string]*nn.Tensor{
		"w1": randT(r, 3, 3, 3, 8), "b1": randT(r, 8), "a1": randT(r, 8),
		"dw": randT(r, 3, 3, 8, 1), "db": randT(r, 8),
		"w2": randT(r, 1, 1, 8, 4), "b2": randT(r, 4),
	}
	g := &Graph{}
	g.Nodes = append(g.Nodes, Node{Name: "x", Op: "Placeholder", Shape: []int{-1, 9, 9, 3}})
	for _, k := range []string{"w1", "b1", "a1", "dw", "db", "w2", "b2"} {
		g.Nodes = append(g.Nodes, constF(k, w[k]))
	}
	g.Nodes = append(g.Nodes,
		constI("shape", []int{2}, -1, 36),
		constI("pads", []int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0),
		constI("axis", []int{}, 1),
		op("c1", "_FusedConv2D", map[string]Attr{"strides": Ints(1, 2, 2, 1), "padding": String("SAME"),
			"fused_ops": Strings("BiasAdd", "Prelu"), "num_args": Int(2)}, "x", "w1", "b1", "a1"),
		op("d1", "FusedDepthwiseConv2dNative", map[string]Attr{"strides": Ints(1, 1, 1, 1), "padding": String("SAME"),
			"fused_ops": Strings("BiasAdd", "Relu6")}, "c1", "dw", "db"),
		op("sum", "AddV2", nil, "d1", "c1"),
		op("p", "Pad", nil, "sum", "pads"),
		op("mp", "MaxPool", map[string]Attr{"ksize": Ints(1, 2, 2, 1), "strides": Ints(1, 2, 2, 1), "padding": String("VALID")}, "p"),
		op("c2", "Conv2D", map[string]Attr{"padding": String("VALID")}, "mp", "w2"),
		op("ba", "BiasAdd", nil, "c2", "b2"),
		op("sig", "Sigmoid", nil, "ba"),
		op("r", "Reshape", nil, "sig", "shape"),
		op("sq", "Square", nil, "r"),
		op("s", "Sum", map[string]Attr{"keep_dims": Bool(true)}, "sq", "axis"),
		op("rs", "Rsqrt", nil, "s"),
		op("out", "Mul", nil, "r", "rs"),
	)
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

func closeTo(t *testing.T, name string, got, want *nn.Tensor, tol float64) {
	t.Helper()
	if got == nil || !slices.Equal(got.Shape, want.Shape) || len(got.Data) != len(want.Data) {
		t.Fatalf("%s: got %v, want shape %v", name, got, want.Shape)
	}
	for i := range want.Data {
		if d := math.Abs(float64(got.Data[i] - want.Data[i])); !(d <= tol) {
			t.Fatalf("%s element %d: %v, want %v", name, i, got.Data[i], want.Data[i])
		}
	}
}

func TestRunMatchesKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g, w := smallCNN(r)
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Inputs(); len(in) != 1 || in[0].Name != "x" || !slices.Equal(in[0].Shape, []int{-1, 9, 9, 3}) {
		t.Fatalf("inputs %+v", in)
	}
	if out := m.Outputs(); len(out) != 1 || out[0].Name != "out" {
		t.Fatalf("outputs %+v", out)
	}
	x := randT(r, 2, 9, 9, 3)
	keep := x.Clone()
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "out", got["out"], smallCNNDirect(t, x, w), 1e-5)
	if !slices.Equal(x.Data, keep.Data) {
		t.Fatal("Run modified its input")
	}
}

func TestCompileDoesNotModifyGraph(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g, _ := smallCNN(r)
	// A pad read only by a convolution is folded into it: the fusion
	// rewrites attributes, which must not reach the caller's graph.
	g.Nodes = append(g.Nodes, op("p2", "Pad", nil, "x", "pads"),
		op("c3", "Conv2D", map[string]Attr{"padding": String("VALID")}, "p2", "w1"),
		op("relu", "Relu", nil, "sum"))
	before := cloneGraph(g)
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, before) {
		t.Fatal("Compile modified the graph")
	}
	steps := map[string]string{}
	for _, s := range m.Steps() {
		steps[s.Name] = s.Op
	}
	if _, ok := steps["p2"]; ok || steps["c3"] != "Conv2D" {
		t.Fatalf("pad not folded: %v", steps)
	}
}

func cloneGraph(g *Graph) *Graph {
	c := &Graph{Outputs: slices.Clone(g.Outputs)}
	for _, n := range g.Nodes {
		n.Inputs = slices.Clone(n.Inputs)
		if n.Attrs != nil {
			a := make(map[string]Attr, len(n.Attrs))
			for k, v := range n.Attrs {
				a[k] = v
			}
			n.Attrs = a
		}
		c.Nodes = append(c.Nodes, n)
	}
	return c
}

func TestDeclaredOutputs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g, w := smallCNN(r)
	// "dead" is validated but never runs; "sig" (also read by "r") and
	// "out" are the outputs, in the declared order.
	g.Nodes = append(g.Nodes, op("dead", "Neg", nil, "c1"))
	g.Outputs = []string{"sig", "out"}
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if out := m.Outputs(); len(out) != 2 || out[0].Name != "sig" || out[1].Name != "out" {
		t.Fatalf("outputs %+v", out)
	}
	for _, s := range m.Steps() {
		if s.Name == "dead" {
			t.Fatal("a node no output needs runs")
		}
	}
	x := randT(r, 1, 9, 9, 3)
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "out", got["out"], smallCNNDirect(t, x, w), 1e-5)
	if s := got["sig"]; s == nil || !slices.Equal(s.Shape, []int{1, 3, 3, 4}) {
		t.Fatalf("sig = %v", s)
	}
	// A dead node is still validated.
	g.Nodes = append(g.Nodes, op("nms", "NonMaxSuppressionV5", nil, "out"))
	if _, err := Compile(g); !errors.As(err, new(*UnsupportedOpError)) {
		t.Fatalf("unsupported dead node: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name   string
		mutate func(g *Graph)
		err    error
	}{
		{"unknown op", func(g *Graph) { g.Nodes = append(g.Nodes, op("nms", "NonMaxSuppressionV5", nil, "out")) }, nil},
		{"no nodes", func(g *Graph) { g.Nodes = nil }, ErrFormat},
		{"unnamed node", func(g *Graph) { g.Nodes = append(g.Nodes, op("", "Relu", nil, "x")) }, ErrFormat},
		{"dangling input", func(g *Graph) { g.Nodes = append(g.Nodes, op("bad", "Relu", nil, "nowhere")) }, ErrFormat},
		{"cycle", func(g *Graph) { g.Nodes = append(g.Nodes, op("a", "Relu", nil, "b"), op("b", "Relu", nil, "a")) }, ErrFormat},
		{"duplicate node", func(g *Graph) { g.Nodes = append(g.Nodes, op("out", "Relu", nil, "x")) }, ErrFormat},
		{"bad padding", func(g *Graph) {
			g.Nodes = append(g.Nodes, op("mp2", "MaxPool", map[string]Attr{"ksize": Ints(1, 2, 2, 1), "padding": String("WEIRD")}, "x"))
		}, ErrFormat},
		{"attribute of the wrong kind", func(g *Graph) {
			g.Nodes = append(g.Nodes, op("mp2", "MaxPool", map[string]Attr{"ksize": Ints(1, 2, 2, 1), "padding": Int(1)}, "x"))
		}, ErrFormat},
		{"NCHW", func(g *Graph) {
			g.Nodes = append(g.Nodes, op("c9", "Conv2D", map[string]Attr{"padding": String("SAME"), "data_format": String("NCHW")}, "x", "w1"))
		}, ErrFormat},
		{"wrong input count", func(g *Graph) { g.Nodes = append(g.Nodes, op("n", "Relu", nil, "x", "x")) }, ErrFormat},
		{"constant without value", func(g *Graph) { g.Nodes = append(g.Nodes, Node{Name: "k", Op: "Const"}) }, ErrFormat},
		{"constant with short data", func(g *Graph) {
			g.Nodes = append(g.Nodes, Node{Name: "k", Op: "Const", Value: Value{Float: &nn.Tensor{Shape: []int{2, 2}, Data: make([]float32, 3)}}})
		}, ErrFormat},
		{"constant with both types", func(g *Graph) {
			g.Nodes = append(g.Nodes, Node{Name: "k", Op: "Const", Value: Value{Float: nn.Scalar(1), Int: &IntTensor{Shape: []int{}, Data: []int32{1}}}})
		}, ErrFormat},
		{"constant with inputs", func(g *Graph) {
			g.Nodes = append(g.Nodes, Node{Name: "k", Op: "Const", Value: Value{Float: nn.Scalar(1)}, Inputs: []string{"x"}})
		}, ErrFormat},
		{"bad placeholder shape", func(g *Graph) { g.Nodes = append(g.Nodes, Node{Name: "y", Op: "Placeholder", Shape: []int{1, -2}}) }, ErrFormat},
		{"unknown output", func(g *Graph) { g.Outputs = []string{"nowhere"} }, ErrFormat},
		{"output not computed", func(g *Graph) { g.Outputs = []string{"w1"} }, ErrFormat},
		{"output twice", func(g *Graph) { g.Outputs = []string{"out", "out"} }, ErrFormat},
		{"no inputs", func(g *Graph) { g.Nodes = g.Nodes[1:] }, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := smallCNN(r)
			tc.mutate(g)
			m, err := Compile(g)
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
	r := rand.New(rand.NewPCG(9, 10))
	g, _ := smallCNN(r)
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]map[string]*nn.Tensor{
		"missing":     {},
		"nil":         {"x": nil},
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
	// A shape that only fails at run time is an ErrExec.
	g2 := &Graph{Nodes: []Node{{Name: "x", Op: "Placeholder"}, constI("s", []int{1}, 7), op("r", "Reshape", nil, "x", "s")}}
	m2, err := Compile(g2)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := m2.Run(map[string]*nn.Tensor{"x": nn.New(2, 3)}); out != nil || !errors.Is(err, ErrExec) {
		t.Fatalf("out %v err %v, want ErrExec", out, err)
	}
}

func TestSupportedOpsListed(t *testing.T) {
	ops := SupportedOps()
	if !slices.IsSorted(ops) {
		t.Fatal("SupportedOps not sorted")
	}
	for _, want := range []string{"Const", "Placeholder", "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "MatMul", "Prelu", "Mean", "ConcatV2"} {
		if !slices.Contains(ops, want) {
			t.Errorf("%s missing from SupportedOps", want)
		}
	}
}
