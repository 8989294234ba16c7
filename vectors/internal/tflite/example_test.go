package tflite

import (
	"fmt"

	"github.com/facesign/facesign/vectors/internal/nn"
)

func ExampleRead() {
	// A one-operator model, y = relu6(x), as a converter writes it with a
	// frozen batch of 2 (tmodel is the tests' FlatBuffers writer; a real
	// model comes from a .tflite file).
	m := &tmodel{}
	x := m.act("x", 2, 3)
	y := m.act("y", 2, 3)
	m.op(opRelu6, 0, nil, []int32{x}, y)
	m.inputs, m.outputs = []int32{x}, []int32{y}

	model, err := Read(m.bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println("inputs:", model.Inputs(), "outputs:", model.Outputs())
	in, _ := nn.FromData([]float32{-1, 2.5, 7}, 1, 3)
	out, err := model.Run(map[string]*nn.Tensor{"x": in})
	if err != nil {
		panic(err)
	}
	fmt.Println(out["y"].Shape, out["y"].Data)
	// Output:
	// inputs: [{x [1 3]}] outputs: [{y []}]
	// [1 3] [0 2.5 6]
}
