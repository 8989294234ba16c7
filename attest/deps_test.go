package attest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSimulatorImport fails if package attest (the verifier every client
// links) depends on the simulator in any way: of the project's packages it
// may use only the CBOR framing helper it shares with the NSM and EIF code.
func TestNoSimulatorImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/fxamacker/cbor/v2") {
		t.Fatalf("implausible dependency list: %v", deps)
	}
	for _, d := range deps {
		allowed := d == "github.com/facesign/facesign/attest" || d == "github.com/facesign/facesign/internal/cborenc"
		if strings.HasPrefix(d, "github.com/facesign/facesign/") && !allowed {
			t.Errorf("attest depends on %s", d)
		}
	}
}
