//go:build linux

package simstack

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procState is the state letter of pid in /proc, or 0 once it is gone.
func procState(pid int) byte {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// TestEnclaveDiesWithParent: SIGKILL the process running the stack (it
// gets no chance to stop its child) and the enclave child is gone too.
func TestEnclaveDiesWithParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "FACESIGN_SIMSTACK_PARENT="+filepath.Join(t.TempDir(), "d"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("parent role said %q: %v", line, err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "enclave ")))
	if err != nil || child <= 0 {
		t.Fatalf("parent role said %q", line)
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) }) // if the test fails
	if st := procState(child); st == 0 || st == 'Z' {
		t.Fatalf("the enclave child %d is not running (state %q)", child, st)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// The kernel kills the child at once; reaping it is up to whoever
	// inherits it, so a zombie counts as gone. Wait a generous while: a
	// liveness bound, not a speed check.
	for range 3000 {
		if st := procState(child); st == 0 || st == 'Z' || st == 'X' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the enclave child %d outlived its killed parent (state %q)", child, procState(child))
}
