package main

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestEngineScript runs testdata/engine-script/*.txtar: the embed, compare
// and eval commands on real webcam frames. $FRAMES is the folder of frames
// (with provenance) that the faceengine package tests use.
func TestEngineScript(t *testing.T) {
	frames, err := filepath.Abs("../../vectors/faceengine/testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/engine-script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FRAMES", frames)
			return nil
		},
	})
}
