package client_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI runs the facesign enroll / login commands against the simulator:
// output shape, secrets only on request, exit code 2 with the reason on a
// refusal, and no silent trust.
func TestCLI(t *testing.T) {
	st := requireStack(t)
	c := newClient(t, st, nil)
	recordings(t, c) // analyses the engine once; also finds the recordings
	dir, err := findRecordingsDir()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(binPath, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	type result struct {
		Status     string          `json:"status"`
		UniqueID   string          `json:"unique_id"`
		EntropyHex *string         `json:"entropy_hex"`
		Reason     string          `json:"reason"`
		Receipt    json.RawMessage `json:"receipt"`
	}
	parse := func(t *testing.T, out string) result {
		t.Helper()
		var r result
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		return r
	}

	t.Run("enrol prints the answer, secrets only on request", func(t *testing.T) {
		code, out, errOut := run("enroll", "--server", st.URL, "--trust-simulator", filepath.Join(dir, "head-turn-a"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		r := parse(t, out)
		if (r.Status != "new" && r.Status != "existing") || r.UniqueID == "" || r.EntropyHex != nil || len(r.Receipt) == 0 {
			t.Fatalf("got %s", out)
		}
		if !strings.Contains(errOut, "WARNING: --trust-simulator") {
			t.Fatalf("no warning about trusting the simulator: %s", errOut)
		}
		code, out, errOut = run("login", "--server", st.URL, "--trust-simulator", "--show-secrets", filepath.Join(dir, "head-turn-a"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		r2 := parse(t, out)
		if r2.Status != "existing" || r2.UniqueID != r.UniqueID || r2.EntropyHex == nil || len(*r2.EntropyHex) != 64 {
			t.Fatalf("got %s", out)
		}
	})
	t.Run("a refusal exits 2 with its reason", func(t *testing.T) {
		code, out, errOut := run("enroll", "--server", st.URL, "--trust-simulator", filepath.Join(dir, "three-people"))
		r := parse(t, out)
		if code != 2 || r.Status != "rejected" || r.Reason == "" || r.UniqueID != "" {
			t.Fatalf("exit %d, %s %s", code, out, errOut)
		}
	})
	t.Run("no trust without pins or opt-in", func(t *testing.T) {
		code, out, errOut := run("enroll", "--server", st.URL, filepath.Join(dir, "head-turn-a"))
		if code != 1 || out != "" || !strings.Contains(errOut, "--pcr") {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
		// The simulator root is not the AWS root: pins alone do not help.
		code, out, errOut = run("enroll", "--server", st.URL, "--pcr", "0="+strings.Repeat("ab", 48), filepath.Join(dir, "head-turn-a"))
		if code != 1 || out != "" || !strings.Contains(errOut, "attestation") {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
		// A malformed pin is refused before any request, naming the flag.
		code, out, errOut = run("enroll", "--server", st.URL, "--trust-simulator", "--pcr", "0=abab", filepath.Join(dir, "head-turn-a"))
		if code != 1 || out != "" || !strings.Contains(errOut, `error: --pcr "0=abab": PCR0 is 2 bytes, want 48`) {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
		// Trusting the simulator with a wrong PCR pin fails too.
		code, out, errOut = run("enroll", "--server", st.URL, "--trust-simulator", "--pcr", "0="+strings.Repeat("ab", 48), filepath.Join(dir, "head-turn-a"))
		if code != 1 || out != "" || !strings.Contains(errOut, "PCR") {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
	})
	t.Run("a pinned root file and PCRs need no trust shortcut", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "sim-root.pem")
		if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: st.Root.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := c.Attest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pins := []string{"--root", root}
		for _, i := range []int{0, 1, 2} {
			pins = append(pins, "--pcr", fmt.Sprintf("%d=%x", i, a.Document.PCRs[i]))
		}
		// A wrong pin with the right root: the PCR check fails, not the chain.
		code, out, errOut := run(append([]string{"login", "--server", st.URL, "--root", root, "--pcr", "0=" + strings.Repeat("ab", 48)}, filepath.Join(dir, "head-turn-a"))...)
		if code != 1 || out != "" || !strings.Contains(errOut, "PCR mismatch") || strings.Contains(errOut, "untrusted root") {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
		code, out, errOut = run(append(append([]string{"login", "--server", st.URL}, pins...), filepath.Join(dir, "head-turn-a"))...)
		if code != 0 || strings.Contains(errOut, "WARNING") {
			t.Fatalf("exit %d: %q %q", code, out, errOut)
		}
		if r := parse(t, out); r.Status != "existing" && r.Status != "not_found" {
			t.Fatalf("got %s", out)
		}
	})
}

func findRecordingsDir() (string, error) {
	return demoFind(filepath.Join(modRoot, "client/testdata/liveness"), filepath.Join(modRoot, "enclave/testdata/liveness"))
}
