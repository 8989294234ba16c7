package graph_test

import (
	"fmt"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

func ExampleCompile() {
	// y = relu(x · w) with w = [[1, -1], [2, 0]].
	w, _ := nn.FromData([]float32{1, -1, 2, 0}, 2, 2)
	g := &graph.Graph{Nodes: []graph.Node{
		{Name: "x", Op: "Placeholder", Shape: []int{-1, 2}},
		{Name: "w", Op: "Const", Value: graph.Value{Float: w}},
		{Name: "mm", Op: "MatMul", Inputs: []string{"x", "w"}, Attrs: map[string]graph.Attr{"transpose_b": graph.Bool(false)}},
		{Name: "y", Op: "Relu", Inputs: []string{"mm"}},
	}}
	m, err := graph.Compile(g)
	if err != nil {
		panic(err)
	}
	fmt.Println("inputs:", m.Inputs(), "outputs:", m.Outputs())
	x, _ := nn.FromData([]float32{3, 1}, 1, 2)
	out, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		panic(err)
	}
	fmt.Println(out["y"].Shape, out["y"].Data)
	// Output:
	// inputs: [{x [-1 2]}] outputs: [{y []}]
	// [1 2] [5 0]
}
