package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestWideChannelsMatchReference drives the vector fast paths — the
// register-blocked depthwise pixel kernel (32 and 8 channels at a time plus
// a scalar tail), the packed GEMM writing straight into the output with the
// bias and activation fused into its epilogue — with channel counts that
// reach them, including counts that are not multiples of 8, against the
// plain reference loops.
func TestWideChannelsMatchReference(t *testing.T) { atEachLevel(t, testWideChannelsMatchReference) }

func testWideChannelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	chans := []int{8, 13, 24, 31, 32, 40, 47, 64, 96, 100}
	for i := 0; i < 60; i++ {
		n, h, w := 1+r.IntN(2), 3+r.IntN(14), 3+r.IntN(14)
		c := chans[r.IntN(len(chans))]
		kh, kw := 1+r.IntN(5), 1+r.IntN(5)
		p := randWindow(r, h, w, kh, kw, true)
		if i%3 == 0 { // the BlazeFace shapes: 3×3 or 5×5, SAME, stride 1 or 2
			kh = 3 + 2*r.IntN(2)
			kw = kh
			s := 1 + r.IntN(2)
			p = Window{StrideH: s, StrideW: s, Pad: Padding{Mode: PadSame}}
		}
		x := randTensor(r, n, h, w, c)
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, c)
		}
		act := randAct(r, c)
		dw := randTensor(r, kh, kw, c, 1)
		t.Run(fmt.Sprintf("depthwise/%d/%v*%v/%+v", i, x.Shape, dw.Shape, p), func(t *testing.T) {
			got, err := DepthwiseConv2D(x, dw, bias, p, act)
			if errors.Is(err, ErrShape) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refConv2D(x, dw, bias, p, act, true), 1e-4)
		})
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

// TestTapRange compares the clipped tap range of the depthwise fast path
// with a scan of every tap.
func TestTapRange(t *testing.T) {
	for start := -12; start <= 12; start++ {
		for k := 1; k <= 6; k++ {
			for d := 1; d <= 3; d++ {
				for size := 1; size <= 8; size++ {
					lo, hi := tapRange(start, k, d, size)
					for tap := range k {
						p := start + tap*d
						inside := p >= 0 && p < size
						if inside != (tap >= lo && tap < hi) {
							t.Fatalf("start %d k %d d %d size %d: range [%d,%d) but tap %d inside=%v", start, k, d, size, lo, hi, tap, inside)
						}
					}
				}
			}
		}
	}
}
