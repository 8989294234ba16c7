package nn_test

import (
	"fmt"

	"github.com/facesign/facesign/vectors/internal/nn"
)

func ExampleConv2D() {
	// A 1×3×3×1 image convolved with a 2×2 box filter, stride 1, VALID.
	x, _ := nn.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1)
	w, _ := nn.FromData([]float32{1, 1, 1, 1}, 2, 2, 1, 1)
	y, err := nn.Conv2D(x, w, []float32{-10}, nn.Window{}, nn.Activation{Kind: nn.ReLU})
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Shape, y.Data)
	// Output: [1 2 2 1] [2 6 14 18]
}
