package client_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/internal/simtest"
	"github.com/facesign/facesign/vectors"

	_ "github.com/facesign/facesign/vectors/faceengine" // the enclave's default engine, to pick frames as it measures them
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestAnalysisCacheMatchesEngine measures a few recorded frames with the
// engine in this process and compares them with the committed cache the
// other end-to-end tests pick frames from.
func TestAnalysisCacheMatchesEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the face engine")
	}
	root, err := simtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "client/testdata/liveness")
	a, err := capture.LoadAnalysis(filepath.Join(dir, "analysis.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := vectors.Open(a.Engine)
	if err != nil {
		t.Fatal(err)
	}
	sum := e.ModelSHA256()
	if err := a.For(e.ID(), sum[:]); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"talking-b-take1/frame_0028.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := capture.Measure(e, data)
		if err != nil {
			t.Fatal(err)
		}
		want := a.Frames[capture.Key(data)]
		if got.Faces != want.Faces || math.Abs(float64(got.Yaw-want.Yaw)) > 1e-3 || math.Abs(float64(got.MouthOpen-want.MouthOpen)) > 1e-4 {
			t.Fatalf("%s: measured %+v, cache %+v", name, got, want)
		}
		gv, _ := got.VectorOf()
		wv, _ := want.VectorOf()
		var dot float64
		for i := range gv {
			dot += float64(gv[i]) * float64(wv[i])
		}
		if len(gv) == 0 || len(gv) != len(wv) || dot < 0.99999 {
			t.Fatalf("%s: vector differs from the cache (cosine %v)", name, dot)
		}
	}
}

// readDirFrames reads one recording folder next to the demo's recordings.
func readDirFrames(t *testing.T, name string) []capture.Frame {
	t.Helper()
	for _, base := range []string{filepath.Join(modRoot, "client/testdata/liveness"), filepath.Join(modRoot, "enclave/testdata/liveness")} {
		if fs, err := capture.ReadDir(filepath.Join(base, name)); err == nil {
			return fs
		}
	}
	t.Fatalf("recording %s is not in the repository", name)
	return nil
}

func demoFind(c ...string) (string, error) { return demo.FindRecordings(c...) }
