package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSimulatorLinked fails if the production enclave binary depends on
// the simulator in any way, for any target OS the enclave builds for.
func TestNoSimulatorLinked(t *testing.T) {
	for _, goos := range []string{"linux", "darwin"} {
		cmd := exec.Command("go", "list", "-deps", "-test=false", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list (%s): %v\n%s", goos, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list (%s) listed only %d packages", goos, len(deps))
		}
		found := false
		for _, d := range deps {
			if d == "github.com/facesign/facesign/enclave" {
				found = true
			}
			if d == "github.com/facesign/facesign/simulator" || strings.HasSuffix(d, "/simulator") || strings.Contains(d, "/simulator/") {
				t.Errorf("%s: the production enclave binary links %s", goos, d)
			}
		}
		if !found {
			t.Fatalf("%s: the dependency list does not include the enclave package; the test checks nothing", goos)
		}
	}
}
