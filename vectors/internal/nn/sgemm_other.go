//go:build (!amd64 && !arm64) || purego

package nn

import "github.com/facesign/facesign/vectors/internal/isa"

// setLevel is a no-op: only the Go kernels exist here ([isa.Generic]).
func setLevel(isa.Level) isa.Level { return isa.Generic }

// Without the assembly micro-kernel every product goes to gonum.
const (
	hasPackedGEMM = false
	hasAVX512     = false
)

const inPlaceA = false

func sgemmKernel6x16(k int, a, b, c *float32) { panic("nn: no packed GEMM kernel on this platform") }

func sgemmKernel6x16A(k int, a *float32, lda, step int, b, c *float32, ldc int, accumulate bool, bias *float32) {
	panic("nn: no packed GEMM kernel on this platform")
}

func sgemmKernel12x16Z(k int, a *float32, lda int, b, c *float32, ldc, rows, mask int, accumulate bool, bias *float32) {
	panic("nn: no packed GEMM kernel on this platform")
}

func mulAdd8(dst, a, b *float32, n int) { panic("nn: no vector kernel on this platform") }

func sgemmKernel6x16C(k int, a, b, c *float32, ldc int, accumulate bool, bias *float32) {
	panic("nn: no packed GEMM kernel on this platform")
}

func depthwisePixel(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int) {
	panic("nn: no vector kernel on this platform")
}

func depthwisePixelZ(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int) {
	panic("nn: no vector kernel on this platform")
}

func actRow(row, bias, slopes *float32, n int) { panic("nn: no vector kernel on this platform") }

func actRowZ(row, bias, slopes *float32, n int) { panic("nn: no vector kernel on this platform") }
