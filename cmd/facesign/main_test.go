package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "facesign" command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"facesign": main})
}

// TestScript runs every testdata/script/*.txtar: the CLI's contract as
// scripts and people use it.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
