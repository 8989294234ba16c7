//go:build unix

package endpoint

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play a process that listens on a socket
// and waits to be killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("ENDPOINT_TEST_LISTEN"); path != "" {
		if _, err := net.Listen("unix", path); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("listening\n")
		time.Sleep(time.Minute) // until SIGKILL
		os.Exit(4)
	}
	os.Exit(m.Run())
}

// answers checks that ln serves a connection to path.
func answers(t *testing.T, ln net.Listener, path string) {
	t.Helper()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("ok"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "ok" {
		t.Fatalf("listener answered %q, %v", b, err)
	}
}

func sockPath(t *testing.T) string {
	// Short: sun_path holds about 100 bytes.
	dir, err := os.MkdirTemp("", "ep")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

func TestListenUnix(t *testing.T) {
	t.Run("fresh path", func(t *testing.T) {
		path := sockPath(t)
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		answers(t, ln, path)
	})
	t.Run("stale socket is reclaimed", func(t *testing.T) {
		path := sockPath(t)
		old, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		old.Close() // the file stays, nobody listens: what a crash leaves
		if _, err := os.Lstat(path); err != nil {
			t.Fatal(err)
		}
		if _, err := net.Listen("unix", path); !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("plain listen on a stale socket: %v, want EADDRINUSE", err)
		}
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		answers(t, ln, path)
	})
	t.Run("live socket is left alone", func(t *testing.T) {
		path := sockPath(t)
		live, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		probed := make(chan struct{})
		go func() { // the probe connection
			defer close(probed)
			if c, err := live.Accept(); err == nil {
				c.Close()
			}
		}()
		if ln, err := ListenUnix(path); !errors.Is(err, ErrInUse) || ln != nil {
			t.Fatalf("ListenUnix on a live socket: %v, %v", ln, err)
		}
		// The probe must be accepted before answers' own Accept runs, or
		// the probe goroutine may take answers' connection instead.
		<-probed
		answers(t, live, path)
	})
	for _, c := range []struct {
		name string
		make func(path string) error
	}{
		{"regular file is never removed", func(p string) error { return os.WriteFile(p, []byte("precious"), 0o600) }},
		{"directory is never removed", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"symlink is never followed or removed", func(p string) error { return os.Symlink("/dev/null", p) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := sockPath(t)
			if err := c.make(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(path)
			if ln, err := ListenUnix(path); !errors.Is(err, ErrNotSocket) || ln != nil {
				t.Fatalf("ListenUnix: %v, %v, want ErrNotSocket", ln, err)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Fatal("the path was changed")
			}
			if before.Mode().IsRegular() {
				if b, _ := os.ReadFile(path); string(b) != "precious" {
					t.Fatal("the file's content changed")
				}
			}
		})
	}
	t.Run("other bind errors pass through", func(t *testing.T) {
		path := filepath.Join(sockPath(t)+"-missing-dir", "s.sock")
		if _, err := ListenUnix(path); err == nil || errors.Is(err, ErrInUse) || errors.Is(err, ErrNotSocket) {
			t.Fatalf("ListenUnix in a missing directory: %v", err)
		}
	})
}

// TestListenUnixAfterKill: a process listening on the path is killed with
// SIGKILL, leaving its socket file; the next ListenUnix takes the path.
func TestListenUnixAfterKill(t *testing.T) {
	path := sockPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ENDPOINT_TEST_LISTEN="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make([]byte, len("listening\n"))
	if _, err := io.ReadFull(out, line); err != nil || !strings.HasPrefix(string(line), "listening") {
		cmd.Process.Kill()
		t.Fatalf("child: %q, %v", line, err)
	}
	if _, err := ListenUnix(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("while the child listens: %v, want ErrInUse", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = cmd.Process.Kill() // gone: the cleanup's Kill and Wait are no-ops
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("the killed child left no socket file: %v", err)
	}
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answers(t, ln, path)
}
