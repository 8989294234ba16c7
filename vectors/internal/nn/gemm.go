package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm sets c (m×n) to a (m×k) · b (k×n), all row-major and dense. It runs
// on gonum's blas32 implementation, which blocks the product and spreads the
// blocks over GOMAXPROCS goroutines.
func gemm(m, n, k int, a, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}
