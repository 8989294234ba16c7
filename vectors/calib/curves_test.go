package calib_test

import (
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	_ "github.com/facesign/facesign/vectors/faceengine"
)

// TestShippedCurves: every shipped curve parses, names a registered engine
// and was measured with the weights that engine runs.
func TestShippedCurves(t *testing.T) {
	ids := calib.Shipped()
	if len(ids) == 0 {
		t.Fatal("no curves shipped")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c, ok := calib.ForEngine(id)
			if !ok || c.Engine() != id {
				t.Fatalf("ForEngine(%q) = %q, %v", id, c.Engine(), ok)
			}
			e, err := vectors.Open(id)
			if err != nil {
				t.Fatalf("curve for an engine that does not open: %v", err)
			}
			if c.ModelSHA256() != e.ModelSHA256() {
				t.Fatalf("curve measured with weights %x, engine runs %x", c.ModelSHA256(), e.ModelSHA256())
			}
			if cal, ok := e.(vectors.Calibrated); ok && cal.Thresholds().Margin != c.Margin() {
				t.Fatalf("curve margin %v, engine's %v", c.Margin(), cal.Thresholds().Margin)
			}
			src := c.Source()
			if src.Dataset == "" || src.Split == "" || src.Command == "" {
				t.Fatalf("source %+v", src)
			}
		})
	}
	if _, ok := calib.ForEngine("no-such-engine"); ok {
		t.Fatal("curve for an unknown engine")
	}
}
