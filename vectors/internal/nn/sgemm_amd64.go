//go:build amd64 && !purego

package nn

import "github.com/facesign/facesign/vectors/internal/isa"

// hasPackedGEMM selects the AVX2+FMA kernels (packed GEMM, depthwise pixel,
// mulAdd8, actRow): at [isa.Selected] level AVX2 or above (FACESIGN_CPU caps it).
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
