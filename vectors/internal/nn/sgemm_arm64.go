//go:build arm64 && !purego

package nn

import "github.com/facesign/facesign/vectors/internal/isa"

// hasPackedGEMM selects the NEON kernels (packed GEMM, depthwise pixel,
// mulAdd8, actRow): at [isa.Selected] level NEON, which every arm64 CPU
// has; FACESIGN_CPU=generic turns them off.
var hasPackedGEMM = isa.Selected() == isa.NEON

// setLevel points the dispatch at level l (which must be supported) and
// returns the level it replaces. Tests only: no kernel may run meanwhile.
func setLevel(l isa.Level) isa.Level {
	old := isa.Generic
	if hasPackedGEMM {
		old = isa.NEON
	}
	hasPackedGEMM = l == isa.NEON
	return old
}

// hasAVX512 is amd64's; the AVX-512 kernels never run here.
const hasAVX512 = false

// inPlaceA is amd64's: NEON packs A (sgemmKernel6x16C).
const inPlaceA = false

// sgemmKernel6x16C is implemented in sgemm_arm64.s (NEON).
//
//go:noescape
func sgemmKernel6x16C(k int, a, b, c *float32, ldc int, accumulate bool, bias *float32)

func sgemmKernel6x16A(k int, a *float32, lda, step int, b, c *float32, ldc int, accumulate bool, bias *float32) {
	panic("nn: no in-place-A kernel on arm64")
}

func sgemmKernel12x16Z(k int, a *float32, lda int, b, c *float32, ldc, rows, mask int, accumulate bool, bias *float32) {
	panic("nn: no AVX-512 kernel on arm64")
}

func depthwisePixelZ(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int) {
	panic("nn: no AVX-512 kernel on arm64")
}

func actRowZ(row, bias, slopes *float32, n int) { panic("nn: no AVX-512 kernel on arm64") }
