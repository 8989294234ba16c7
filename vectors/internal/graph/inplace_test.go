package graph

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// TestAddActivationInPlace: the fused add-and-activate steps write into a
// dying input only when nothing else holds its memory, and every output is
// bit for bit the one of the plain run (each result allocated); the
// caller's input is never written.
func TestAddActivationInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	act := func(name string) string {
		return map[string]string{"relu": "Relu", "relu6": "Relu6", "prelu": "Prelu"}[name]
	}
	for _, a := range []string{"relu", "relu6", "prelu"} {
		t.Run(a, func(t *testing.T) {
			actNode := func(name, x string) Node {
				if a == "prelu" {
					return op(name, "Prelu", nil, x, "alpha")
				}
				return op(name, act(a), nil, x)
			}
			g := &Graph{Nodes: []Node{
				{Name: "x", Op: "Placeholder", Shape: []int{1, 32, 32, 8}},
				constF("w", randT(r, 1, 1, 8, 8)), constF("alpha", randT(r, 8)), constI("flat", []int{2}, 1, 8192),
				op("conv1", "Conv2D", map[string]Attr{"padding": String("SAME"), "strides": Ints(1, 1, 1, 1)}, "x", "w"),
				// conv1 dies here and x is the caller's: written into conv1.
				op("add1", "AddV2", nil, "conv1", "x"),
				actNode("act1", "add1"),
				op("conv2", "Conv2D", map[string]Attr{"padding": String("SAME"), "strides": Ints(1, 1, 1, 1)}, "act1", "w"),
				// conv2 dies here but its view lives on: written into act1.
				op("view", "Reshape", nil, "conv2", "flat"),
				op("add2", "AddV2", nil, "conv2", "act1"),
				actNode("act2", "add2"),
				op("neg", "Neg", nil, "view"),
				// x again: its last reader, but the caller's: not written.
				op("add3", "AddV2", nil, "x", "act2"),
				actNode("act3", "add3"),
			}, Outputs: []string{"act3", "neg", "act2"}}
			m, err := Compile(g)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range m.Steps() {
				if s.Name == "add1" || s.Name == "add2" {
					t.Fatalf("%s was not fused (steps %v)", s.Name, m.Steps())
				}
			}
			plain, err := Compile(g)
			if err != nil {
				t.Fatal(err)
			}
			plain.noReuse = true
			// Several runs, so later ones get recycled memory.
			const runs = 4
			for range runs {
				x := randT(r, 1, 32, 32, 8)
				x0 := slices.Clone(x.Data)
				got, err := m.Run(map[string]*nn.Tensor{"x": x})
				if err != nil {
					t.Fatal(err)
				}
				want, err := plain.Run(map[string]*nn.Tensor{"x": x})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(x.Data, x0) {
					t.Fatal("the caller's input was written")
				}
				for name, w := range want {
					if !slices.Equal(got[name].Shape, w.Shape) || !slices.Equal(got[name].Data, w.Data) {
						t.Fatalf("output %s differs from the plain run", name)
					}
				}
			}
			// act1 (into conv1) and act2 (into act1, not conv2 whose view
			// lives); act3 allocates: x is the caller's and act2 an output.
			// Released per run: conv2's memory only, through its view once
			// neg has read it (conv1 and act1 live on as act1 and act2).
			if n, p := m.reuses.Load(), plain.reuses.Load(); n != 2*runs || p != 0 {
				t.Fatalf("%d results written in place (plain twin %d), want %d", n, p, 2*runs)
			}
			if n, p := m.releases.Load(), plain.releases.Load(); n != runs || p != 0 {
				t.Fatalf("%d results released (plain twin %d), want %d", n, p, runs)
			}
		})
	}
}

// TestOverlap checks the memory-overlap test the in-place rule relies on.
func TestOverlap(t *testing.T) {
	buf := make([]float32, 10)
	tests := []struct {
		a, b []float32
		want bool
	}{
		{buf[:5], buf[5:], false},
		{buf[:6], buf[5:], true},
		{buf, buf, true},
		{buf[2:3], buf, true},
		{buf[:0], buf, false},
		{buf, make([]float32, 10), false},
	}
	for i, tt := range tests {
		if got := overlap(tt.a, tt.b); got != tt.want || overlap(tt.b, tt.a) != tt.want {
			t.Errorf("case %d: overlap %v, want %v", i, got, tt.want)
		}
	}
}
