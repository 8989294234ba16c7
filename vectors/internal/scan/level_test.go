package scan

import (
	"testing"

	"github.com/facesign/facesign/vectors/internal/isa"
)

// atEachLevel runs f once for every kernel level this machine and build
// support (FACESIGN_CPU=generic|avx2|avx512 and what the CPU has), with the
// dispatch pointed at that level, so the fast paths and the Go twins are
// all checked in one run. Tests using it must not run in parallel.
func atEachLevel(t *testing.T, f func(t *testing.T)) {
	for _, l := range isa.Levels() {
		t.Run("cpu="+l.String(), func(t *testing.T) {
			old := setLevel(l)
			defer setLevel(old)
			f(t)
		})
	}
}

func TestSelectedLevelIsSupported(t *testing.T) {
	if !isa.Supported(isa.Selected()) {
		t.Fatalf("selected level %v is not supported (detected %v)", isa.Selected(), isa.Detected())
	}
	old := setLevel(isa.Generic)
	if back := setLevel(old); back != isa.Generic {
		t.Fatalf("setLevel(generic) then read back %v", back)
	}
}
