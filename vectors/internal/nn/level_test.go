package nn

import (
	"testing"

	"github.com/facesign/facesign/vectors/internal/isa/isatest"
)

// atEachLevel runs f at every kernel level this machine and build support
// (isatest.EachLevel). Tests using it must not run in parallel.
func atEachLevel(t *testing.T, f func(t *testing.T)) { isatest.EachLevel(t, setLevel, f) }

func TestSelectedLevelIsSupported(t *testing.T) { isatest.CheckSelected(t, setLevel) }
