//go:build linux

package crashtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/internal/simtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	simtest.Cleanup()
	os.Exit(code)
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// TestCrash runs the crash harness on the real simulator binary:
// FACESIGN_CRASH_CYCLES kill-and-restart cycles (default 5; the issue's
// figure is 200), seeded by FACESIGN_CRASH_SEED (default 1), with extra
// "facesign sim" arguments from FACESIGN_CRASH_SIM_ARGS (space-separated);
// FACESIGN_CRASH_BIN runs a prebuilt facesign binary instead of building one.
func TestCrash(t *testing.T) {
	cycles := envInt(t, "FACESIGN_CRASH_CYCLES", 5)
	seed := envInt(t, "FACESIGN_CRASH_SEED", 1)
	root, err := simtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("FACESIGN_CRASH_BIN") // a prebuilt facesign binary
	if bin == "" {
		bin = simtest.Build(t)
	}
	// A short path: the simulator puts unix sockets in its data directory.
	data, err := os.MkdirTemp("", "fs-crash-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if !t.Failed() {
			os.RemoveAll(data)
		}
	}()
	args := defaultSimArgs
	if v := os.Getenv("FACESIGN_CRASH_SIM_ARGS"); v != "" {
		args = strings.Fields(v)
	}
	start := time.Now()
	r, err := Run(context.Background(), Options{
		Binary: bin, DataDir: data, Recordings: filepath.Join(root, "client/testdata/liveness"),
		Cycles: cycles, Seed: uint64(seed), SimArgs: args, Logf: t.Logf,
	})
	if r != nil {
		t.Logf("after %v:\n%s", time.Since(start).Round(time.Second), r)
	}
	if err != nil {
		if r != nil && r.SimLogOnFailure != "" {
			t.Logf("simulator log tail:\n%s", r.SimLogOnFailure)
		}
		t.Fatalf("%v (data directory kept: %s)", err, data)
	}
	if r.Cycles != cycles {
		t.Fatalf("ran %d cycles, want %d", r.Cycles, cycles)
	}
	acked := 0
	for k, n := range r.Answered {
		if !strings.Contains(k, "rejected") {
			acked += n
		}
	}
	if cycles >= 5 && acked == 0 {
		t.Fatal("no request was ever answered: the run showed nothing")
	}
}

// defaultSimArgs make snapshots frequent, so kills also land on snapshot
// uploads and boots load snapshots.
var defaultSimArgs = []string{"--snapshot-every", "2"}

// TestCrashFleet runs the crash harness across a fleet of three enclaves
// on one store (RunFleet): FACESIGN_CRASH_FLEET_CYCLES cycles (default 3,
// to keep `make test` short; the figure is 200: make crash-fleet),
// seeded by FACESIGN_CRASH_SEED.
func TestCrashFleet(t *testing.T) {
	cycles := envInt(t, "FACESIGN_CRASH_FLEET_CYCLES", 3)
	seed := envInt(t, "FACESIGN_CRASH_SEED", 1)
	root, err := simtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("FACESIGN_CRASH_BIN")
	if bin == "" {
		bin = simtest.Build(t)
	}
	data, err := os.MkdirTemp("", "fs-crashf-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if !t.Failed() {
			os.RemoveAll(data)
		}
	}()
	start := time.Now()
	r, err := RunFleet(context.Background(), Options{
		Binary: bin, DataDir: data, Recordings: filepath.Join(root, "client/testdata/liveness"),
		Cycles: cycles, Seed: uint64(seed), SimArgs: defaultSimArgs, Logf: t.Logf, Enclaves: 3,
	})
	if r != nil {
		t.Logf("after %v:\n%s", time.Since(start).Round(time.Second), r)
	}
	if err != nil {
		if r != nil && r.SimLogOnFailure != "" {
			t.Logf("fleet log tail:\n%s", r.SimLogOnFailure)
		}
		t.Fatalf("%v (data directory kept: %s)", err, data)
	}
	if r.Cycles != cycles {
		t.Fatalf("ran %d cycles, want %d", r.Cycles, cycles)
	}
}
