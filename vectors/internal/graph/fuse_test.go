package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// TestAbsPReLUFused checks that relu(x) + c·(x − |x|) after a convolution
// runs as one convolution with a fused PReLU of slopes 2c, bit for bit
// equal to the six kernels run one by one, and that the pattern is left
// alone when c has another reader.
func TestAbsPReLUFused(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	w, b, c, dw := randT(r, 3, 3, 3, 8), randT(r, 8), randT(r, 8), randT(r, 3, 3, 8, 1)
	c.Data[0] = 0 // a zero slope
	spelled := func(prefix, x, c string) []Node {
		return []Node{
			op(prefix+"relu", "Relu", nil, x),
			op(prefix+"abs", "Abs", nil, x),
			op(prefix+"sub", "Sub", nil, x, prefix+"abs"),
			op(prefix+"mul", "Mul", nil, c, prefix+"sub"),
			op(prefix+"add", "AddV2", nil, prefix+"relu", prefix+"mul"),
		}
	}
	g := &Graph{Nodes: []Node{
		{Name: "x", Op: "Placeholder", Shape: []int{1, 9, 9, 3}},
		constF("w", w), constF("b", b), constF("c", c), constF("c2", c), constF("dw", dw),
		op("conv", "_FusedConv2D", map[string]Attr{"padding": String("SAME"), "strides": Ints(1, 1, 1, 1),
			"fused_ops": Strings("BiasAdd"), "num_args": Int(1)}, "x", "w", "b"),
	}}
	g.Nodes = append(g.Nodes, spelled("a/", "conv", "c")...)
	// Second pattern: the depthwise output, whose slope constant c2 is
	// also read by "other": not fused.
	g.Nodes = append(g.Nodes, op("dconv", "DepthwiseConv2dNative", map[string]Attr{"padding": String("SAME")}, "a/add", "dw"))
	g.Nodes = append(g.Nodes, spelled("b/", "dconv", "c2")...)
	g.Nodes = append(g.Nodes, op("other", "Neg", nil, "c2"))
	g.Outputs = []string{"b/add", "other"}
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]string{}
	for _, s := range m.Steps() {
		ran[s.Name] = s.Op
	}
	want := map[string]string{"a/add": "_FusedConv2D", "conv": "", "a/relu": "", "a/abs": "", "a/sub": "", "a/mul": "",
		"dconv": "DepthwiseConv2dNative", "b/add": "AddV2", "b/abs": "Abs"}
	for node, op := range want {
		if ran[node] != op {
			t.Fatalf("node %s runs as %q, want %q (steps %v)", node, ran[node], op, ran)
		}
	}
	x := randT(r, 1, 9, 9, 3)
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	must := func(v *nn.Tensor, err error) *nn.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	spelledRef := func(x, c *nn.Tensor) *nn.Tensor {
		relu := must(nn.Unary(nn.Relu, x))
		abs := must(nn.Unary(nn.Abs, x))
		sub := must(nn.Binary(nn.Sub, x, abs))
		mul := must(nn.Binary(nn.Mul, c, sub))
		return must(nn.Binary(nn.Add, relu, mul))
	}
	conv := must(nn.Conv2D(x, w, b.Data, nn.Window{Pad: nn.Padding{Mode: nn.PadSame}}, nn.Activation{}))
	a := spelledRef(conv, c)
	dconv := must(nn.DepthwiseConv2D(a, dw, nil, nn.Window{Pad: nn.Padding{Mode: nn.PadSame}}, nn.Activation{}))
	ref := spelledRef(dconv, c)
	out := got["b/add"]
	if out == nil || len(out.Data) != len(ref.Data) {
		t.Fatalf("b/add = %v", out)
	}
	for i := range ref.Data {
		if out.Data[i] != ref.Data[i] && !(out.Data[i] == 0 && ref.Data[i] == 0) {
			t.Fatalf("element %d: %v, want %v", i, out.Data[i], ref.Data[i])
		}
	}
	if c.Data[1] != g.Nodes[3].Value.Float.Data[1] {
		t.Fatal("the fusion changed the caller's constant")
	}
}

func TestExtraOps(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	x := randT(r, 2, 3, 5)
	for i := range x.Data {
		x.Data[i] *= 4
	}
	x.Data[0], x.Data[1], x.Data[2] = -3, 3, 0
	g := &Graph{Nodes: []Node{
		{Name: "x", Op: "Placeholder"},
		constF("lo", nn.Scalar(-1)), constF("hi", nn.Scalar(1.5)),
		op("l2", "L2Normalize", map[string]Attr{"epsilon": Float(1e-12)}, "x"),
		op("hs", "HardSwish", nil, "x"),
		op("clip", "ClipByValue", nil, "x", "lo", "hi"),
	}}
	m, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	// Plain float64 definitions.
	for row := 0; row < 6; row++ {
		v := x.Data[5*row : 5*row+5]
		var s float64
		for _, e := range v {
			s += float64(e) * float64(e)
		}
		for j, e := range v {
			want := float64(e) / math.Sqrt(max(s, 1e-12))
			if d := math.Abs(float64(got["l2"].Data[5*row+j]) - want); d > 1e-6 {
				t.Fatalf("l2 row %d element %d: %v, want %v", row, j, got["l2"].Data[5*row+j], want)
			}
		}
	}
	for i, e := range x.Data {
		want := float64(e) * math.Min(math.Max(float64(e)+3, 0), 6) / 6
		if d := math.Abs(float64(got["hs"].Data[i]) - want); d > 1e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("hardswish(%v) = %v, want %v", e, got["hs"].Data[i], want)
		}
		if want := math.Min(math.Max(float64(e), -1), 1.5); float64(got["clip"].Data[i]) != want {
			t.Fatalf("clip(%v) = %v, want %v", e, got["clip"].Data[i], want)
		}
	}
	if got["hs"].Data[0] != 0 || got["hs"].Data[1] != 3 || got["hs"].Data[2] != 0 {
		t.Fatalf("hardswish(-3, 3, 0) = %v", got["hs"].Data[:3])
	}
	// Bounds the wrong way round fail at run time, with no output.
	g.Nodes[1].Value.Float = nn.Scalar(2)
	m, err = Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := m.Run(map[string]*nn.Tensor{"x": x}); out != nil || err == nil {
		t.Fatalf("clip with lo > hi: %v %v", out, err)
	}
}
