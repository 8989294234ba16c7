package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSimulatorLinked fails if the production enclave binary depends on
// the simulator in any way, for any target OS the enclave builds for, and
// checks it boots its state through stateboot with the compiled-in AWS root
// bundle (never the simulator's service CA, which lives in package
// simulator).
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
		found := map[string]bool{}
		for _, d := range deps {
			switch d {
			case "github.com/facesign/facesign/enclave", "github.com/facesign/facesign/enclave/stateboot",
				"golang.org/x/crypto/x509roots/fallback/bundle":
				found[d] = true
			case "golang.org/x/crypto/x509roots/fallback":
				// Its init installs process-wide fallback roots; the
				// enclave passes an explicit pool instead.
				t.Errorf("%s: the production enclave binary links %s", goos, d)
			}
			if d == "github.com/facesign/facesign/simulator" || strings.HasSuffix(d, "/simulator") || strings.Contains(d, "/simulator/") {
				t.Errorf("%s: the production enclave binary links %s", goos, d)
			}
		}
		if len(found) != 3 {
			t.Fatalf("%s: the dependency list lacks the enclave, stateboot or root bundle packages (%v); the test checks nothing", goos, found)
		}
	}
}
