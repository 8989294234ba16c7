package layout

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/facesign/facesign"

// rules: the packages (go list patterns, relative to the module root) and
// the folders none of them may depend on.
var rules = []struct {
	name      string
	patterns  []string
	forbidden []string
}{
	{"untrusted parties link no enclave code", []string{"./parent/...", "./client/...", "./credential/..."}, []string{"enclave"}},
	{"the protocol is everyone's", []string{"./wire/..."}, []string{"enclave", "parent", "vectors", "simulator"}},
	{"engines know no HTTP, storage or keys", []string{"./vectors/..."}, []string{"enclave", "parent", "wire", "client", "credential", "simulator"}},
	{"the verifier trusts no simulator", []string{"./attest/..."}, []string{"enclave", "parent", "simulator"}},
}

// deps lists the non-test dependencies of each package matched by patterns,
// as "pkg dep" lines, run from the module root.
func deps(t *testing.T, patterns []string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-deps=false", "-test=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m[f[0]] = f[1:]
	}
	return m
}

// violations returns the dependencies of pkgs that lie in a forbidden
// top-level folder of the module.
func violations(pkgs map[string][]string, forbidden []string) []string {
	var bad []string
	for pkg, ds := range pkgs {
		for _, d := range ds {
			for _, f := range forbidden {
				root := path.Join(module, f)
				if d == root || strings.HasPrefix(d, root+"/") {
					bad = append(bad, pkg+" imports "+d)
				}
			}
		}
	}
	return bad
}

func TestDependencyRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			pkgs := deps(t, r.patterns)
			if len(pkgs) < len(r.patterns) {
				t.Fatalf("go list matched %d packages for %v", len(pkgs), r.patterns)
			}
			for _, v := range violations(pkgs, r.forbidden) {
				t.Error(v)
			}
		})
	}
}

// TestViolations checks the checker: a forbidden import is found, including
// one deeper in the folder, and a look-alike prefix is not.
func TestViolations(t *testing.T) {
	pkgs := map[string][]string{
		module + "/parent":      {"net/http", module + "/wire", module + "/enclave/state"},
		module + "/client":      {module + "/enclave"},
		module + "/credential":  {module + "/enclavex"},
		module + "/client/js":   {module + "/attest"},
		module + "/client/demo": nil,
	}
	got := violations(pkgs, []string{"enclave"})
	want := map[string]bool{
		module + "/parent imports " + module + "/enclave/state": true,
		module + "/client imports " + module + "/enclave":       true,
	}
	if len(got) != len(want) {
		t.Fatalf("violations = %v, want %d", got, len(want))
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected violation %q", g)
		}
	}
}
