package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPReLUBroadcastFastPath compares the per-channel loop of
// [PReLUBroadcast] with the general multiply-and-select form.
func TestPReLUBroadcastFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	shapes := [][2][]int{
		{{2, 5, 7, 13}, {13}},
		{{1, 4, 4, 8}, {1, 1, 8}},
		{{3, 9}, {9}},
		{{2, 3, 4}, {3, 4}},
		{{5, 6}, {}},
		{{1, 2, 2, 3}, {1, 1, 1, 3}},
	}
	for _, s := range shapes {
		t.Run(fmt.Sprintf("%v*%v", s[0], s[1]), func(t *testing.T) {
			x, alpha := randTensor(r, s[0]...), randTensor(r, s[1]...)
			got, err := PReLUBroadcast(x, alpha)
			if err != nil {
				t.Fatal(err)
			}
			want := refBinary(Mul, x, alpha)
			for i, v := range x.Data {
				if v >= 0 {
					want.Data[i] = v
				}
			}
			assertClose(t, got, want, 1e-6)
		})
	}
}

// TestUnaryActivationLoops compares the specialised Relu and Relu6 loops
// of [Unary] with the scalar definitions.
func TestUnaryActivationLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	x := randTensor(r, 3, 5, 7)
	for i := range x.Data {
		x.Data[i] *= 5
	}
	for _, tc := range []struct {
		op UnaryOp
		f  func(float32) float32
	}{
		{Relu, func(v float32) float32 { return max(v, 0) }},
		{Relu6, func(v float32) float32 { return min(max(v, 0), 6) }},
	} {
		got, err := Unary(tc.op, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Data {
			if got.Data[i] != tc.f(v) {
				t.Fatalf("op %d element %d: %v, want %v", tc.op, i, got.Data[i], tc.f(v))
			}
		}
	}
}
