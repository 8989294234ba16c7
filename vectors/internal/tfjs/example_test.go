package tfjs_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing/fstest"

	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/tfjs"
)

func ExampleLoad() {
	// A two-node graph model: y = relu(x · w) with w = [[1, -1], [2, 0]].
	model := `{"format": "graph-model",
	  "modelTopology": {"node": [
	    {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "-1"}, {"size": "2"}]}}}},
	    {"name": "w", "op": "Const"},
	    {"name": "mm", "op": "MatMul", "input": ["x", "w"]},
	    {"name": "y", "op": "Relu", "input": ["mm"]}]},
	  "weightsManifest": [{"paths": ["w.bin"], "weights": [{"name": "w", "shape": [2, 2], "dtype": "float32"}]}]}`
	var bin []byte
	for _, v := range []float32{1, -1, 2, 0} {
		bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(v))
	}
	fsys := fstest.MapFS{"m/model.json": {Data: []byte(model)}, "m/w.bin": {Data: bin}}

	m, err := tfjs.Load(fsys, "m/model.json")
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
