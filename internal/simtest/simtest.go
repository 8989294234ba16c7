package simtest

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/internal/syncbuf"
)

const (
	// DefaultReadyTimeout bounds a start when [Options.ReadyTimeout] is
	// zero: the enclave loads its models and replays its log before the
	// parent prints its URL, and -race slows that several times.
	DefaultReadyTimeout = 10 * time.Minute
	// StopTimeout is how long [Sim.Stop] waits after SIGTERM before it
	// kills the simulator.
	StopTimeout = 30 * time.Second
	// logTail is how much of the log an error carries.
	logTail = 4000
)

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

// ModuleRoot is the directory of the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("simtest: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("simtest: not inside the facesign module")
	}
	return filepath.Dir(gomod), nil
}

// Binary builds ./cmd/facesign the first time it is called in this test
// binary and returns the executable's path; later calls return the same
// path, or the same error.
func Binary() (string, error) {
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "facesign-simtest-"); err != nil {
			buildErr = fmt.Errorf("simtest: %w", err)
			return
		}
		bin := filepath.Join(buildDir, "facesign")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/facesign")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("simtest: go build ./cmd/facesign: %w\n%s", err, out)
			return
		}
		binary = bin
	})
	return binary, buildErr
}

// Build is [Binary] for a test: a failed build fails tb.
func Build(tb testing.TB) string {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// Cleanup removes what [Binary] built. Call it from TestMain after m.Run.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Options configures one simulator.
type Options struct {
	// Binary is the facesign executable; "" builds one with [Binary].
	Binary string
	// DataDir is the simulator's data directory; "" makes a new one (with
	// a short path: the simulator puts unix sockets there) that
	// [Sim.Stop] removes.
	DataDir string
	// Args are extra "facesign sim" arguments.
	Args []string
	// ReadyTimeout bounds the start; zero means [DefaultReadyTimeout].
	ReadyTimeout time.Duration
}

// Sim is one running "facesign sim".
type Sim struct {
	// URL is the parent's base URL, as the simulator printed it.
	URL string
	// DataDir is the simulator's data directory.
	DataDir string
	// Root is the simulator's attestation root certificate.
	Root *x509.Certificate
	// Log is the simulator's standard error, all of it (a test may look
	// through it, e.g. for secrets that must never be logged).
	Log *syncbuf.Buffer

	cmd      *exec.Cmd
	done     chan struct{}
	ownData  bool
	stopOnce sync.Once
}

// Launch starts a simulator and waits until it serves (see the package
// documentation). The caller must [Sim.Stop] it.
func Launch(o Options) (*Sim, error) {
	if o.Binary == "" {
		bin, err := Binary()
		if err != nil {
			return nil, err
		}
		o.Binary = bin
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	s := &Sim{DataDir: o.DataDir, Log: &syncbuf.Buffer{}, done: make(chan struct{})}
	if s.DataDir == "" {
		dir, err := os.MkdirTemp("", "fsim-")
		if err != nil {
			return nil, fmt.Errorf("simtest: %w", err)
		}
		s.DataDir, s.ownData = filepath.Join(dir, "data"), true
	}
	args := append([]string{"sim", "--addr", "127.0.0.1:0", "--data", s.DataDir, "--rate", "0"}, o.Args...)
	s.cmd = exec.Command(o.Binary, args...)
	s.cmd.Stderr = s.Log
	s.cmd.WaitDelay = 10 * time.Second // an orphan holding a pipe cannot hang Stop
	setDeathSignal(s.cmd)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		s.removeData()
		return nil, fmt.Errorf("simtest: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		s.removeData()
		return nil, fmt.Errorf("simtest: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), o.ReadyTimeout)
	defer cancel()
	select {
	case s.URL = <-lines:
	case <-s.done:
		s.Stop()
		return nil, fmt.Errorf("simtest: facesign sim exited before it was ready:\n%s", s.Log.Tail(logTail))
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("simtest: facesign sim was not ready in %v:\n%s", o.ReadyTimeout, s.Log.Tail(logTail))
	}
	if s.Root, err = client.FetchSimulatorRoot(ctx, nil, s.URL); err != nil {
		s.Stop()
		return nil, fmt.Errorf("simtest: simulator root from %s: %w\n%s", s.URL, err, s.Log.Tail(logTail))
	}
	return s, nil
}

// Start is [Launch] for one test: it fails tb when the simulator does not
// come up, and stops it when tb ends.
func Start(tb testing.TB, o Options) *Sim {
	tb.Helper()
	s, err := Launch(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Done is closed when the simulator process has exited.
func (s *Sim) Done() <-chan struct{} { return s.done }

// Exited reports whether the simulator process has exited; a test that
// finds it gone reports [Sim.Log].
func (s *Sim) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stop ends the simulator: SIGTERM, then SIGKILL after [StopTimeout]. It
// removes a data directory [Launch] made. Calling it again does nothing.
func (s *Sim) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(StopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		s.removeData()
	})
}

func (s *Sim) removeData() {
	if s.ownData {
		os.RemoveAll(filepath.Dir(s.DataDir))
	}
}
