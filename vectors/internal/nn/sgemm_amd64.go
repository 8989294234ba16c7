//go:build amd64 && !purego

package nn

import "github.com/facesign/facesign/vectors/internal/isa"

// hasPackedGEMM selects the AVX2+FMA kernels (packed GEMM, depthwise pixel,
// mulAdd8): at [isa.Selected] level AVX2 or above (FACESIGN_CPU caps it).
// There is no AVX-512 path yet; level AVX512 runs the AVX2 kernels.
var hasPackedGEMM = isa.Selected() >= isa.AVX2

// setLevel points the dispatch at level l (which must be supported) and
// returns the level it replaces. Tests only: no kernel may run meanwhile.
func setLevel(l isa.Level) isa.Level {
	old := isa.Generic
	if hasPackedGEMM {
		old = isa.AVX2
	}
	hasPackedGEMM = l >= isa.AVX2
	return old
}

// sgemmKernel6x16 is implemented in sgemm_amd64.s.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32)

// mulAdd8 is implemented in sgemm_amd64.s.
//
//go:noescape
func mulAdd8(dst, a, b *float32, n int)

// sgemmKernel6x16C is implemented in sgemm_amd64.s.
//
//go:noescape
func sgemmKernel6x16C(k int, a, b, c *float32, ldc int, accumulate bool, bias *float32)

// depthwisePixel is implemented in sgemm_amd64.s.
//
//go:noescape
func depthwisePixel(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int)

// actRow is implemented in act_amd64.s: row[i] = a(row[i] + bias[i]) with
// a PReLU of per-channel slopes, or ReLU when slopes is nil; bias may be nil.
//
//go:noescape
func actRow(row, bias, slopes *float32, n int)
