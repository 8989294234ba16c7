package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestWideChannelsMatchReference drives the vector fast paths — the packed
// GEMM writing straight into the output with the bias and activation fused
// into its epilogue — with channel counts that reach them, including counts
// that are not multiples of 8, against the plain reference loops.
func TestWideChannelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	chans := []int{8, 13, 24, 31, 32, 40, 47, 64, 96, 100}
	for i := 0; i < 60; i++ {
		n, h, w := 1+r.IntN(2), 3+r.IntN(14), 3+r.IntN(14)
		c := chans[r.IntN(len(chans))]
		x := randTensor(r, n, h, w, c)
		co := chans[r.IntN(len(chans))]
		f := randTensor(r, 1, 1, c, co)
		var cbias []float32
		if r.IntN(2) == 0 {
			cbias = randSlice(r, co)
		}
		cact := randAct(r, co)
		t.Run(fmt.Sprintf("pointwise/%d/%v*%v", i, x.Shape, f.Shape), func(t *testing.T) {
			got, err := Conv2D(x, f, cbias, Window{}, cact)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refConv2D(x, f, cbias, Window{}, cact, false), 1e-4)
		})
	}
}
