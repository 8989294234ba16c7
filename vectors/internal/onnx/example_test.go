package onnx

import (
	"fmt"

	"github.com/facesign/facesign/vectors/internal/nn"
)

func ExampleParse() {
	// A model with an open batch dimension: y = Relu(x − 0.5) for x of
	// shape [N, 2, 2, 2]. (The tests build ONNX files with protowire; a
	// real caller reads one with Load.)
	file := bModel{opset: 13,
		nodes: []bNode{
			node("Sub", []string{"x", "half"}, "d"),
			node("Relu", []string{"d"}, "y"),
		},
		inits:   []bTensor{ftensor("half", []float32{0.5})},
		inputs:  []bValue{input("x", "N", 2, 2, 2)},
		outputs: []bValue{output("y", "N", 2, 2, 2)},
	}.encode()

	m, err := Parse(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Inputs(), m.Outputs())
	x := nn.New(m.Inputs()[0].Shape...)
	for i := range x.Data {
		x.Data[i] = float32(i) / 8
	}
	out, err := m.Run(map[string]*nn.Tensor{"x": x})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"].Shape, out["y"].Data)
	// Output:
	// [{x [1 2 2 2]}] [{y [1 2 2 2]}]
	// [1 2 2 2] [0 0 0 0 0 0.125 0.25 0.375]
}
