package tfjs

import (
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// TestAddActivationFused checks that Add followed by Relu, Relu6 or Prelu
// runs as one node and gives bit for bit what the two kernels give, for
// equal shapes, a broadcast bias, per-channel and full-shape slopes, and
// that an Add with a second reader is left alone.
func TestAddActivationFused(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	g := &tgraph{}
	g.placeholder("x", 1, 3, 3, 4)
	g.placeholder("y", 1, 3, 3, 4)
	bias, gamma, gammaFull := randT(r, 4), randT(r, 1, 1, 1, 4), randT(r, 1, 3, 3, 4)
	g.constF("bias", bias)
	g.constF("gamma", gamma)
	g.constF("gammaFull", gammaFull)
	g.op("a1", "Add", nil, "x", "y")
	g.op("r1", "Relu", nil, "a1")
	g.op("a2", "AddV2", nil, "x", "bias")
	g.op("r2", "Relu6", nil, "a2")
	g.op("a3", "AddV2", nil, "y", "x")
	g.op("p3", "Prelu", nil, "a3", "gamma")
	g.op("a4", "Add", nil, "x", "y")
	g.op("p4", "Prelu", nil, "a4", "gammaFull")
	g.op("a5", "Add", nil, "x", "y")
	g.op("r5", "Relu", nil, "a5")
	g.op("n5", "Neg", nil, "a5") // a5 has two readers: not fused
	m, err := Load(g.files(), "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]string{}
	for _, s := range m.Steps() {
		ran[s.Name] = s.Op
	}
	for node, op := range map[string]string{"r1": "facesign.AddRelu", "r2": "facesign.AddRelu6", "p3": "facesign.AddPrelu", "p4": "facesign.AddPrelu", "a5": "Add", "r5": "Relu", "a1": "", "a2": "", "a3": "", "a4": ""} {
		if ran[node] != op {
			t.Fatalf("node %s runs as %q, want %q (steps %v)", node, ran[node], op, ran)
		}
	}
	x, y := randT(r, 1, 3, 3, 4), randT(r, 1, 3, 3, 4)
	for i := range x.Data {
		x.Data[i] *= 6
	}
	got, err := m.Run(map[string]*nn.Tensor{"x": x, "y": y})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := nn.Binary(nn.Add, x, y)
	sumB, _ := nn.Binary(nn.Add, x, bias)
	sumYX, _ := nn.Binary(nn.Add, y, x)
	want := map[string]*nn.Tensor{}
	want["r1"], _ = nn.Unary(nn.Relu, sum)
	want["r2"], _ = nn.Unary(nn.Relu6, sumB)
	want["p3"], _ = nn.PReLUBroadcast(sumYX, gamma)
	want["p4"], _ = nn.PReLUBroadcast(sum, gammaFull)
	want["r5"] = want["r1"]
	want["n5"], _ = nn.Unary(nn.Neg, sum)
	for name, w := range want {
		g := got[name]
		if g == nil || len(g.Data) != len(w.Data) {
			t.Fatalf("%s = %v, want shape %v", name, g, w.Shape)
		}
		for i := range w.Data {
			if g.Data[i] != w.Data[i] {
				t.Fatalf("%s element %d: %v, want %v", name, i, g.Data[i], w.Data[i])
			}
		}
	}
}
