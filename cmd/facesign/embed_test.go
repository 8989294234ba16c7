package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestEngineScript runs testdata/engine-script/*.txtar: the embed, compare
// and eval commands on real webcam frames and photos. $FRAMES is the folder
// of frames (with provenance) that the faceengine package tests use; $FACES
// the labelled LFW slice beside the repository (../shared/testdata/faces,
// which CI provides); $RECORDINGS the enclave's liveness recordings.
func TestEngineScript(t *testing.T) {
	frames, err := filepath.Abs("../../vectors/faceengine/testdata")
	if err != nil {
		t.Fatal(err)
	}
	faces, err := filepath.Abs("../../../shared/testdata/faces")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(faces); err != nil {
		t.Fatalf("the labelled faces the eval script needs: %v", err)
	}
	recordings, err := filepath.Abs("../../enclave/testdata/liveness")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/engine-script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FRAMES", frames)
			env.Setenv("FACES", faces)
			env.Setenv("RECORDINGS", recordings)
			return nil
		},
	})
}
