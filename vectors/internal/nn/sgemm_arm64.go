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
