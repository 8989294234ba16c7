package client_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

var (
	engineOnce sync.Once
	engine     vectors.Engine
	engineErr  error
	policyEng  string
)

// analyzerFor opens, in this process, the engine the attested policy names
// and checks it has the same weights: frames are picked with the enclave's
// own measurements.
func analyzerFor(a *client.Attestation) (capture.Analyzer, error) {
	engineOnce.Do(func() {
		policyEng = a.Binding.Policy.Engine
		engine, engineErr = vectors.Open(policyEng)
		if engineErr == nil {
			sum := engine.ModelSHA256()
			if string(sum[:]) != string(a.Binding.Policy.ModelSHA256) {
				engineErr = fmt.Errorf("engine %s here has other weights than the enclave's", policyEng)
			}
		}
	})
	if engineErr != nil {
		return nil, engineErr
	}
	return capture.EngineAnalyzer(engine), nil
}

func localEngine(t *testing.T) vectors.Engine {
	t.Helper()
	if engine == nil {
		t.Fatalf("no local engine: %v", engineErr)
	}
	return engine
}

// frameVector is what the enclave computes for one frame.
func frameVector(e vectors.Engine, data []byte) ([]float32, bool) {
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return nil, false
	}
	faces, err := e.Detect(img)
	if err != nil || len(faces) != 1 {
		return nil, false
	}
	v, err := e.Embed(img, faces[0])
	if err != nil {
		return nil, false
	}
	return v.Values, true
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
