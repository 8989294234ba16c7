package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
	"github.com/facesign/facesign/vectors/internal/isa"
)

// gemmShapes are the packed GEMM's m×n×k at the engine's layers (the
// largest products of an arcface-fused enrolment: BlazeFace, FaceMesh,
// MobileFaceNet and fr_feature convolutions), plus ragged ones: m not a
// multiple of 6 or 12, n not a multiple of 16, k past one depth block (kc).
var gemmShapes = [][3]int{
	{196, 128, 256}, {196, 256, 128}, {16384, 24, 24}, {784, 64, 128},
	{784, 128, 64}, {3136, 128, 64}, {16384, 24, 75}, {4096, 24, 24},
	{256, 96, 96}, {1024, 48, 48}, {9216, 16, 27}, {49, 512, 128},
	{1, 1404, 288}, {13, 33, 300}, {7, 17, 3}, {25, 40, 520}, {11, 1, 257},
	{12, 16, 256}, {24, 32, 512}, {37, 24, 513}, {5, 15, 1}, {100, 3, 27},
}

// levelsFrom lists the supported levels from lo up.
func levelsFrom(lo isa.Level) []isa.Level {
	return slices.DeleteFunc(isa.Levels(), func(l isa.Level) bool { return l < lo })
}

// atLevel runs f with the dispatch pointed at level l.
func atLevel(l isa.Level, f func()) {
	old := setLevel(l)
	defer setLevel(old)
	f()
}

// sameBitsAtLevels runs f at levels[0] and then, in a subtest per other
// level, at that level: each must reproduce levels[0]'s output bit for bit
// (assertBits, rows of width n).
func sameBitsAtLevels(t *testing.T, levels []isa.Level, n int, f func(t *testing.T, l isa.Level) []float32) {
	t.Helper()
	var want []float32
	atLevel(levels[0], func() { want = f(t, levels[0]) })
	for _, l := range levels[1:] {
		t.Run(l.String(), func(t *testing.T) {
			var got []float32
			atLevel(l, func() { got = f(t, l) })
			assertBits(t, got, want, n, allRows)
		})
	}
}

// TestPackedGemmLevelsBitIdentical: the packed GEMM gives the same bits at
// every level with a packed kernel (AVX2's 6×16 tiles, AVX-512's 12×16
// tiles reading A in place), on the engine's layer shapes and ragged ones,
// storing into C full of NaN (it must overwrite), with and without bias;
// it writes nothing outside C, and the epilogue sees every row once.
func TestPackedGemmLevelsBitIdentical(t *testing.T) {
	levels := levelsFrom(isa.AVX2)
	if len(levels) == 0 {
		t.Skip("no packed GEMM kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(51, 52))
	shapes := slices.Clone(gemmShapes)
	for range 40 {
		shapes = append(shapes, [3]int{1 + r.IntN(90), 1 + r.IntN(90), 1 + r.IntN(700)})
	}
	nan := float32(math.NaN())
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		// Signed zeros and exact cancellations in the data, where the
		// order of additions shows in the bits.
		for range 1 + m*k/50 {
			a[r.IntN(len(a))] = float32(math.Copysign(0, -1))
		}
		bp := packB(k, n, b)
		for _, withBias := range []bool{false, true} {
			var bias []float32
			if withBias {
				bias = randSlice(r, n)
			}
			t.Run(fmt.Sprintf("%dx%dx%d/bias=%v", m, n, k, withBias), func(t *testing.T) {
				sameBitsAtLevels(t, levels, n, func(t *testing.T, l isa.Level) []float32 {
					const guard = 64
					c := make([]float32, m*n+guard)
					for i := range c {
						c[i] = nan
					}
					seen := make([]int, m)
					gemmPackedB(m, n, k, a, bp, c[:m*n], bias, func(r0, r1 int) {
						for i := r0; i < r1; i++ {
							seen[i]++
						}
					})
					for i, v := range c[m*n:] {
						if !math.IsNaN(float64(v)) {
							t.Fatalf("%v: wrote %v past C at +%d", l, v, i)
						}
					}
					for i, v := range seen {
						if v != 1 {
							t.Fatalf("%v: epilogue saw row %d %d times", l, i, v)
						}
					}
					return c[:m*n]
				})
			})
		}
	}
}

// TestConvLevelsBitIdentical runs whole convolutions (im2col and 1×1
// direct, bias, ReLU and PReLU epilogues) at every level with a packed
// kernel: the outputs must be bit-identical.
func TestConvLevelsBitIdentical(t *testing.T) {
	levels := levelsFrom(isa.AVX2)
	if len(levels) == 0 {
		t.Skip("no packed GEMM kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(53, 54))
	for i := range 40 {
		n, h, w := 1+r.IntN(2), 5+r.IntN(30), 5+r.IntN(30)
		c, co := 1+r.IntN(70), 1+r.IntN(100)
		k := 1 + 2*r.IntN(3)
		p := Window{StrideH: 1 + r.IntN(2), Pad: Padding{Mode: PadSame}}
		p.StrideW = p.StrideH
		x, f := randTensor(r, n, h, w, c), randTensor(r, k, k, c, co)
		var bias []float32
		if r.IntN(3) > 0 {
			bias = randSlice(r, co)
		}
		act := randAct(r, co)
		t.Run(fmt.Sprintf("%d/%v*%v", i, x.Shape, f.Shape), func(t *testing.T) {
			sameBitsAtLevels(t, levels, 1, func(t *testing.T, _ isa.Level) []float32 {
				got, err := Conv2D(x, f, bias, p, act)
				if err != nil {
					t.Fatal(err)
				}
				return got.Data
			})
		})
	}
}

// reportCPU reports the process's CPU time per op since c0 (all
// goroutines): on a shared machine the steadier figure than the wall time.
func reportCPU(b *testing.B, c0 time.Duration) {
	if c := embedtest.CPUTime() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkGemmLayers times the packed GEMM as a convolution calls it
// (filter packed once, bias added by the kernel) at the engine's ten
// largest layer shapes (m×n×k), at the level FACESIGN_CPU selects: run it
// with FACESIGN_CPU=avx2 and =avx512 to compare the kernels.
func BenchmarkGemmLayers(b *testing.B) {
	if !hasPackedGEMM {
		b.Skip("no packed GEMM kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range gemmShapes[:10] {
		m, n, k := s[0], s[1], s[2]
		a, bp, bias, c := randSlice(r, m*k), packB(k, n, randSlice(r, k*n)), randSlice(r, n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			c0 := embedtest.CPUTime()
			for b.Loop() {
				gemmPackedB(m, n, k, a, bp, c, bias, nil)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			reportCPU(b, c0)
		})
	}
}

// TestDepthwiseLevelsBitIdentical runs depthwise convolutions with every
// channel count from 1 to 150 (the AVX2 kernel's 32- and 8-channel blocks
// and overlapping tail, the AVX-512 kernel's 64- and 16-channel blocks and
// masked tail), 3×3 and 5×5 taps, strides 1 and 2, SAME and VALID padding
// (clipped tap rectangles at the borders), bias and activations, at every
// level with a vector kernel: the outputs must be bit-identical.
func TestDepthwiseLevelsBitIdentical(t *testing.T) {
	levels := levelsFrom(isa.AVX2)
	if len(levels) == 0 {
		t.Skip("no vector kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(55, 56))
	for c := 1; c <= 150; c++ {
		k := 3 + 2*r.IntN(2)
		s := 1 + r.IntN(2)
		p := Window{StrideH: s, StrideW: s, Pad: Padding{Mode: PadSame}}
		if r.IntN(3) == 0 {
			p.Pad = Padding{}
		}
		x, f := randTensor(r, 1, 5+r.IntN(9), 5+r.IntN(9), c), randTensor(r, k, k, c, 1)
		for i := range 1 + len(x.Data)/40 {
			x.Data[(i*7919)%len(x.Data)] = float32(math.Copysign(0, -1))
		}
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, c)
		}
		act := randAct(r, c)
		t.Run(fmt.Sprintf("c=%d/%v*%v/%+v", c, x.Shape, f.Shape, p), func(t *testing.T) {
			sameBitsAtLevels(t, levels, 1, func(t *testing.T, _ isa.Level) []float32 {
				got, err := DepthwiseConv2D(x, f, bias, p, act)
				if err != nil {
					t.Fatal(err)
				}
				return got.Data
			})
		})
	}
}

// BenchmarkDepthwiseLayers times DepthwiseConv2D (3×3, SAME, stride 1,
// bias, ReLU) at the engine's largest depthwise layers (h×w×c), at the
// level FACESIGN_CPU selects.
func BenchmarkDepthwiseLayers(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range [][3]int{{128, 128, 24}, {28, 28, 128}, {64, 64, 24}, {14, 14, 256}, {96, 96, 16}, {32, 32, 48}, {48, 48, 32}} {
		x, f, bias := randTensor(r, 1, s[0], s[1], s[2]), randTensor(r, 3, 3, s[2], 1), randSlice(r, s[2])
		p := Window{StrideH: 1, StrideW: 1, Pad: Padding{Mode: PadSame}}
		b.Run(fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), func(b *testing.B) {
			c0 := embedtest.CPUTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				if _, err := DepthwiseConv2D(x, f, bias, p, Activation{Kind: ReLU}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
