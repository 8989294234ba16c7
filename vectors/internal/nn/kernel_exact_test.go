package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors/internal/scan"
)

// The vector kernels' arithmetic contract, the same on every architecture
// (AVX2+FMA on amd64, NEON on arm64): each output element is a chain of
// fused multiply-adds in a fixed order, so the kernels are compared here
// bit for bit with pure-Go twins that spell that order out with an exact
// float32 FMA (scan.FMA32: x·y + z rounded once). At the generic level the
// kernels do not run and these tests have nothing to check.

// fma32 is x·y + z rounded once to float32, as VFMADD231PS and VFMLA do.
func fma32(x, y, z float32) float32 { return scan.FMA32(x, y, z) }

// refGemmFMA is the packed GEMM's contract for c = a·b (+ bias): per
// element, one FMA chain from zero over each depth block of kc values in
// order, the blocks' sums added to C in order, then the bias added.
// Only rows for which check reports true are computed (the rest stay 0).
func refGemmFMA(m, n, k int, a, b, bias []float32, check func(i int) bool) []float32 {
	c := make([]float32, m*n)
	for i := range m {
		if !check(i) {
			continue
		}
		for j := range n {
			var sum float32
			for k0 := 0; k0 < k; k0 += kc {
				var acc float32
				for l := k0; l < min(k0+kc, k); l++ {
					acc = fma32(a[i*k+l], b[l*n+j], acc)
				}
				if k0 == 0 {
					sum = acc
				} else {
					sum += acc
				}
			}
			if bias != nil {
				sum += bias[j]
			}
			c[i*n+j] = sum
		}
	}
	return c
}

// allRows selects every row for assertBits.
func allRows(int) bool { return true }

// assertBits fails t at the first element of want whose bits got does not
// reproduce, among the rows (of width n) check selects.
func assertBits(t *testing.T, got, want []float32, n int, check func(i int) bool) {
	t.Helper()
	for e := range want {
		if !check(e / n) {
			continue
		}
		if math.Float32bits(got[e]) != math.Float32bits(want[e]) {
			t.Fatalf("element [%d,%d]: %v (%#08x), want %v (%#08x)", e/n, e%n, got[e], math.Float32bits(got[e]), want[e], math.Float32bits(want[e]))
		}
	}
}

// TestPackedGEMMBitExact runs gemmPackedB — full tiles through
// sgemmKernel6x16C, ragged edges (m, n not multiples of 6, 16) through
// sgemmKernel6x16 and the Go tile copy — on random shapes, depths across
// several kc blocks (the accumulate path), with and without bias, and on
// real layer shapes, against refGemmFMA, bit for bit.
func TestPackedGEMMBitExact(t *testing.T) { atEachLevel(t, testPackedGEMMBitExact) }

func testPackedGEMMBitExact(t *testing.T) {
	if !hasPackedGEMM {
		t.Skip("no packed GEMM kernel at this level")
	}
	r := rand.New(rand.NewPCG(51, 52))
	all := allRows
	type shape struct {
		m, n, k int
		check   func(i int) bool
	}
	shapes := []shape{
		{6, 16, 1, all}, {1, 1, 1, all}, {6, 16, kc, all}, {6, 16, kc + 1, all},
		{7, 17, 3, all}, {5, 15, 257, all}, {12, 32, 513, all}, {13, 33, 300, all},
		{11, 47, 2*kc + 5, all}, {100, 3, 27, all}, {3, 100, 520, all},
	}
	for range 12 {
		shapes = append(shapes, shape{1 + r.IntN(40), 1 + r.IntN(70), 1 + r.IntN(700), all})
	}
	// Real layer shapes (rows = output pixels, k = kh·kw·cin, n = cout):
	// BlazeFace's first convolution via im2col, a 3×3 conv of a 14×14×128
	// map, a 1×1 conv of MobileFaceNet's 7×7×512 stage. Only every 7th row
	// and the last (ragged) row panel are checked, to keep the Go twin
	// quick under emulation; the kernel computes all of them.
	some := func(m int) func(int) bool {
		return func(i int) bool { return i%7 == 0 || i >= m-mr }
	}
	for _, s := range [][3]int{{1225, 32, 288}, {196, 128, 1152}, {49, 512, 128}} {
		shapes = append(shapes, shape{s[0], s[1], s[2], some(s[0])})
	}
	for i, s := range shapes {
		a, b := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
		var bias []float32
		if i%2 == 1 {
			bias = randSlice(r, s.n)
		}
		t.Run(fmt.Sprintf("%dx%dx%d/bias=%v", s.m, s.n, s.k, bias != nil), func(t *testing.T) {
			got := make([]float32, s.m*s.n)
			for e := range got {
				got[e] = float32(math.NaN()) // C need not be cleared: the kernel must store
			}
			gemmPackedB(s.m, s.n, s.k, a, packB(s.k, s.n, b), got, bias, nil)
			assertBits(t, got, refGemmFMA(s.m, s.n, s.k, a, b, bias, s.check), s.n, s.check)
		})
	}
}

// TestMicroKernelsBitExact calls the micro-kernels directly (on amd64 the
// one reading A in place too, with a row stride wider than k): depths 0
// to past kc, C with a row stride wider than the tile, stored or added to,
// bias or none; nothing outside the 6×16 tile may change.
func TestMicroKernelsBitExact(t *testing.T) { atEachLevel(t, testMicroKernelsBitExact) }

func testMicroKernelsBitExact(t *testing.T) {
	if !hasPackedGEMM {
		t.Skip("no packed GEMM kernel at this level")
	}
	r := rand.New(rand.NewPCG(53, 54))
	for _, k := range []int{0, 1, 2, 5, 16, kc, kc + 3} {
		ap, bp := randSlice(r, mr*k+1), randSlice(r, nr*k+1) // +1: never empty
		// The tile as a chain of FMAs from zero over k.
		var tile [mr * nr]float32
		for i := range mr {
			for j := range nr {
				var acc float32
				for l := range k {
					acc = fma32(ap[l*mr+i], bp[l*nr+j], acc)
				}
				tile[i*nr+j] = acc
			}
		}
		got := make([]float32, mr*nr)
		sgemmKernel6x16(k, &ap[0], &bp[0], &got[0])
		assertBits(t, got, tile[:], nr, allRows)

		for _, ldc := range []int{nr, nr + 3, 40} {
			for _, accumulate := range []bool{false, true} {
				for _, withBias := range []bool{false, true} {
					c := randSlice(r, mr*ldc+7)
					want := append([]float32(nil), c...)
					var bias []float32
					var bptr *float32
					if withBias {
						bias = randSlice(r, nr)
						bptr = &bias[0]
					}
					for i := range mr {
						for j := range nr {
							v := tile[i*nr+j]
							if accumulate {
								v += c[i*ldc+j]
							}
							if withBias {
								v += bias[j]
							}
							want[i*ldc+j] = v
						}
					}
					c0 := append([]float32(nil), c...)
					sgemmKernel6x16C(k, &ap[0], &bp[0], &c[0], ldc, accumulate, bptr)
					t.Run(fmt.Sprintf("k=%d/ldc=%d/acc=%v/bias=%v", k, ldc, accumulate, withBias), func(t *testing.T) {
						assertBits(t, c, want, 1, allRows)
					})
					if inPlaceA {
						// The same rows of A in place, lda apart (amd64).
						lda := k + 5
						ain := randSlice(r, mr*lda)
						for i := range mr {
							for l := range k {
								ain[i*lda+l] = ap[l*mr+i]
							}
						}
						sgemmKernel6x16A(k, &ain[0], lda, 1, &bp[0], &c0[0], ldc, accumulate, bptr)
						t.Run(fmt.Sprintf("in-place/k=%d/ldc=%d/acc=%v/bias=%v", k, ldc, accumulate, withBias), func(t *testing.T) {
							assertBits(t, c0, want, 1, allRows)
						})
					}
				}
			}
		}
	}
}

// TestMulAdd8BitExact: dst[i] = FMA(a[i], b[i], dst[i]) for every i of the
// multiple of 8 the kernel is given, and nothing past it.
func TestMulAdd8BitExact(t *testing.T) { atEachLevel(t, testMulAdd8BitExact) }

func testMulAdd8BitExact(t *testing.T) {
	if !hasPackedGEMM {
		t.Skip("no vector kernel at this level")
	}
	r := rand.New(rand.NewPCG(55, 56))
	for _, n := range []int{0, 8, 16, 24, 64, 200} {
		dst, a, b := randSlice(r, n+3), randSlice(r, n+3), randSlice(r, n+3)
		want := append([]float32(nil), dst...)
		for i := range n {
			want[i] = fma32(a[i], b[i], want[i])
		}
		mulAdd8(&dst[0], &a[0], &b[0], n)
		assertBits(t, dst, want, 1, allRows)
	}
}

// TestDepthwisePixelBitExact calls the depthwise pixel kernel directly on
// random geometry — channel counts through its 32- and 8-channel blocks,
// clipped tap rectangles (fskip), strided taps, bias or none — against
// its contract: one FMA chain from zero over the taps in row-major order,
// bias added last; channels at and past n untouched.
func TestDepthwisePixelBitExact(t *testing.T) { atEachLevel(t, testDepthwisePixelBitExact) }

func testDepthwisePixelBitExact(t *testing.T) {
	if !hasPackedGEMM {
		t.Skip("no vector kernel at this level")
	}
	r := rand.New(rand.NewPCG(57, 58))
	for i := range 80 {
		n := 8 * (1 + r.IntN(12))
		c := n + 8*r.IntN(3) // the kernel may see a prefix of the channels
		kh, kw := 1+r.IntN(5), 1+r.IntN(5)
		fw := kw + r.IntN(3) // the filter's row is wider than the taps used
		fskip := (fw - kw) * c
		tapStride := c * (1 + r.IntN(2))
		rowStride := tapStride*kw + c*r.IntN(4)
		src := randSlice(r, kh*rowStride+kw*tapStride+c)
		f := randSlice(r, kh*fw*c)
		var bias []float32
		var bptr *float32
		if i%2 == 1 {
			bias = randSlice(r, c)
			bptr = &bias[0]
		}
		dst := randSlice(r, c+4)
		want := append([]float32(nil), dst...)
		for j := range n {
			var acc float32
			for ky := range kh {
				for kx := range kw {
					acc = fma32(src[ky*rowStride+kx*tapStride+j], f[ky*(kw*c+fskip)+kx*c+j], acc)
				}
			}
			if bias != nil {
				acc += bias[j]
			}
			want[j] = acc
		}
		depthwisePixel(&dst[0], &src[0], &f[0], bptr, n, c, kh, kw, rowStride, tapStride, fskip)
		t.Run(fmt.Sprintf("%d/n=%d/c=%d/%dx%d", i, n, c, kh, kw), func(t *testing.T) {
			assertBits(t, dst, want, 1, allRows)
		})
	}
}
