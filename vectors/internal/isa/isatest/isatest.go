// Package isatest holds the test helpers every package with kernels per
// instruction-set level shares: run a test at each level the machine and
// build support, and check a package's level switch.
package isatest

import (
	"testing"

	"github.com/facesign/facesign/vectors/internal/isa"
)

// EachLevel runs f once for every kernel level this machine and build
// support (generic, avx2, avx512 on amd64; generic, neon on arm64; as far
// as the CPU has them), with the package's dispatch pointed at that level by
// set (which returns the level it replaces), so the fast paths and the Go
// twins are all checked in one run. Tests using it must not run in
// parallel.
func EachLevel(t *testing.T, set func(isa.Level) isa.Level, f func(t *testing.T)) {
	t.Helper()
	for _, l := range isa.Levels() {
		t.Run("cpu="+l.String(), func(t *testing.T) {
			old := set(l)
			defer set(old)
			f(t)
		})
	}
}

// CheckSelected fails t unless the selected level is supported here and
// set switches the package's dispatch to the generic level and back.
func CheckSelected(t *testing.T, set func(isa.Level) isa.Level) {
	t.Helper()
	if !isa.Supported(isa.Selected()) {
		t.Fatalf("selected level %v is not supported (detected %v)", isa.Selected(), isa.Detected())
	}
	old := set(isa.Generic)
	if back := set(old); back != isa.Generic {
		t.Fatalf("setLevel(generic) then read back %v", back)
	}
}
