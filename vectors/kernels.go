package vectors

import "github.com/facesign/facesign/vectors/internal/isa"

// KernelEnv is the environment variable that caps the instruction-set level
// of the vector kernels: "generic", "avx2" or "avx512" (amd64), "neon"
// (arm64). It is read once, at process start.
const KernelEnv = isa.EnvVar

// KernelLevel names the instruction-set level the vector kernels (the CNN's
// and the gallery scan's) run at: "generic" (portable Go), "avx2" (AVX2 +
// FMA) or "avx512" on amd64, "neon" (Advanced SIMD) on arm64 — the best
// this CPU and build support, capped by FACESIGN_CPU. Scores from the scan are bit-identical at every level;
// engine vectors agree to float32 rounding.
func KernelLevel() string { return isa.Selected().String() }

// KernelLevels lists the levels this CPU and build support, lowest first.
func KernelLevels() []string {
	var out []string
	for _, l := range isa.Levels() {
		out = append(out, l.String())
	}
	return out
}

// KernelLevelError reports a FACESIGN_CPU value this process cannot honour
// (not a level, or a level this CPU lacks); the kernels then run the
// portable Go twins. Binaries refuse to start on it.
func KernelLevelError() error { return isa.EnvError() }

// CheckKernelLevel reports whether s names a kernel level, whatever this
// CPU and architecture support (for settings checked on a machine other than the one that
// runs them).
func CheckKernelLevel(s string) error {
	_, err := isa.Parse(s)
	return err
}
