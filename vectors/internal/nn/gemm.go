package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm sets c (m×n) to a (m×k) · b (k×n), all row-major and dense. Large
// products run on the packed micro-kernel (AVX2+FMA on amd64, NEON on arm64)
// where the selected level has it
// ([gemmPacked]); the rest on gonum's blas32 SGEMM, which blocks the product
// and spreads the blocks over GOMAXPROCS goroutines.
func gemm(m, n, k int, a, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	if hasPackedGEMM && m*n*k >= minPackedWork {
		gemmPacked(m, n, k, a, b, c)
		return
	}
	gemmGonum(m, n, k, a, b, c)
}

// gemmFilter is gemm with b a constant filter tensor whose packed form is
// cached in the tensor. When it reports true the packed kernel ran: bias
// (n values, or nil) has been added and epi (may be nil) applied to every
// band of finished rows [r0, r1) of c in the product's workers. When it
// reports false c holds the bare product and the caller does both.
func gemmFilter(m, n, k int, a []float32, w *Tensor, c, bias []float32, epi func(r0, r1 int)) bool {
	if packsFilter(m, n, k) {
		gemmPackedB(m, n, k, a, packedFilter(w, k, n), c, bias, epi)
		return true
	}
	gemm(m, n, k, a, w.Data, c)
	return false
}

// packsFilter reports whether gemmFilter runs the packed kernel, which
// writes every element of c (stores the first depth block, then adds).
func packsFilter(m, n, k int) bool { return hasPackedGEMM && m*n*k >= minPackedWork && k > 0 }

// gemmGonum is the portable path: gonum's blas32 SGEMM.
func gemmGonum(m, n, k int, a, b, c []float32) {
	blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}
