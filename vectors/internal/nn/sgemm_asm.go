//go:build (amd64 || arm64) && !purego

package nn

// The assembly kernels, one set per architecture (AVX2+FMA on amd64, NEON
// on arm64) with the same contracts; hasPackedGEMM (sgemm_amd64.go,
// sgemm_arm64.go) says whether the selected level runs them.

// sgemmKernel6x16 is implemented in sgemm_amd64.s and sgemm_arm64.s.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32)

// mulAdd8 is implemented in sgemm_amd64.s and sgemm_arm64.s.
//
//go:noescape
func mulAdd8(dst, a, b *float32, n int)

// depthwisePixel is implemented in sgemm_amd64.s and sgemm_arm64.s.
//
//go:noescape
func depthwisePixel(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int)

// actRow is implemented in act_amd64.s and act_arm64.s: row[i] =
// a(row[i] + bias[i]) with a PReLU of per-channel slopes, or ReLU when
// slopes is nil; bias may be nil.
//
//go:noescape
func actRow(row, bias, slopes *float32, n int)
