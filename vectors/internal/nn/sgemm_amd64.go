//go:build amd64 && !purego

package nn

import "github.com/facesign/facesign/vectors/internal/isa"

// The amd64 kernels per [isa.Selected] level (FACESIGN_CPU caps it):
//
//   - AVX2 (AVX2 + FMA): the packed GEMM on 6×16 tiles (sgemmKernel6x16A
//     reads A in place for full-height panels; sgemmKernel6x16 takes a
//     packed A for the last, partial panel), depthwisePixel,
//     mulAdd8 and actRow, all in ymm registers (sgemm_amd64.s,
//     act_amd64.s).
//   - AVX512 (F, BW, DQ, VL): the packed GEMM runs on 12×16 tiles in zmm
//     registers (sgemmKernel12x16Z, sgemm_avx512_amd64.s): A is read in
//     place instead of being packed, and the ragged edges of C are
//     written by the kernel under K masks. depthwisePixelZ does 64, 16, then
//     8 channels at a time and the channel tail in the kernel; actRowZ
//     16 lanes at a time, the tail under a mask. mulAdd8 (the depthwise
//     convolutions with fewer than 8 channels or a channel multiplier)
//     stays the AVX2 one. Results are bit-identical to level AVX2 (same FMA chain per
//     output element); docs/engine-perf.md has the figures.
//
// hasPackedGEMM is true at AVX2 and above, hasAVX512 at AVX512. The
// kernels both levels share are declared in sgemm_asm.go.
var (
	hasPackedGEMM = isa.Selected() >= isa.AVX2
	hasAVX512     = isa.Selected() >= isa.AVX512
)

// setLevel points the dispatch at level l (which must be supported) and
// returns the level it replaces. Tests only: no kernel may run meanwhile.
func setLevel(l isa.Level) isa.Level {
	old := isa.Generic
	switch {
	case hasAVX512:
		old = isa.AVX512
	case hasPackedGEMM:
		old = isa.AVX2
	}
	hasPackedGEMM = l >= isa.AVX2
	hasAVX512 = l >= isa.AVX512
	return old
}

// inPlaceA: at level AVX2 the full-height row panels of the packed GEMM
// read A in place (sgemmKernel6x16A) instead of packing it first.
const inPlaceA = true

// sgemmKernel6x16A is implemented in sgemm_amd64.s (AVX2): the 6×16 tile
// of C from A's element (r, l) at a[r·lda + l·step] (in place: lda = the
// row stride, step 1; packed: lda 1, step 6).
//
//go:noescape
func sgemmKernel6x16A(k int, a *float32, lda, step int, b, c *float32, ldc int, accumulate bool, bias *float32)

// sgemmKernel6x16C is sgemmKernel6x16A on a packed A panel (the contract
// arm64's NEON kernel of that name implements).
func sgemmKernel6x16C(k int, a, b, c *float32, ldc int, accumulate bool, bias *float32) {
	sgemmKernel6x16A(k, a, 1, mr, b, c, ldc, accumulate, bias)
}

// sgemmKernel12x16Z is implemented in sgemm_avx512_amd64.s (AVX-512).
//
//go:noescape
func sgemmKernel12x16Z(k int, a *float32, lda int, b, c *float32, ldc, rows, mask int, accumulate bool, bias *float32)

// depthwisePixelZ is implemented in sgemm_avx512_amd64.s (AVX-512):
// depthwisePixel for any n ≥ 1, the channel tail under a mask.
//
//go:noescape
func depthwisePixelZ(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int)

// actRowZ is implemented in sgemm_avx512_amd64.s: actRow with zmm
// registers, the tail under a mask (AVX-512).
//
//go:noescape
func actRowZ(row, bias, slopes *float32, n int)
