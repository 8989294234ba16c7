// Package simstack runs the FaceSign stack on one machine for the simulator:
// the parent in this process and the enclave as a child process
// ("facesign sim-enclave"), talking over unix sockets in a private data
// directory, so the parent ↔ enclave boundary is a real process boundary
// with the same HTTP code on both sides as on Nitro.
//
// # Guarantees
//
//   - The data directory is created mode 0700; it holds the enclave socket
//     (enclave.sock), the host-services socket (parent.sock), the sealed log
//     (log/) and whatever the simulated enclave keeps (its CA, written as
//     sim-root.pem).
//   - [Start] returns only once the enclave answers /readyz, or fails with
//     the child's exit status if it died first. Nothing is restarted: if the
//     enclave exits, [Stack.Wait] returns and the stack is down.
//   - The enclave child dies with the parent: on linux the kernel sends it
//     SIGKILL when the parent process ends, however it ends (Pdeathsig), so
//     a killed parent never leaves an orphan enclave serving the data
//     directory. Other systems have no such signal; there the caller must
//     [Stack.Stop] the stack.
//   - The parent serves the simulator root at /v1/simulator/root.pem (the
//     only difference from a production parent); clients trust it only on
//     an explicit opt-in.
package simstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/facesign/facesign/internal/endpoint"
	"github.com/facesign/facesign/parent"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures [Start].
type Options struct {
	// Addr is the public listen address, e.g. "127.0.0.1:8080" (port 0
	// picks a free one; see [Stack.URL]).
	Addr string
	// DataDir is the private data directory. Required.
	DataDir string
	// Executable is the facesign binary to run as "sim-enclave". Required.
	Executable string
	// EnclaveArgs are extra arguments for sim-enclave (e.g. preloading).
	EnclaveArgs []string
	// EnclaveOutput receives the child's stdout and stderr; nil discards.
	EnclaveOutput io.Writer
	// Logger receives the parent's structured logs; nil discards.
	Logger *slog.Logger
	// ReadyTimeout bounds the wait for the enclave's readiness (0: 5 minutes).
	ReadyTimeout time.Duration
	// RatePerSecond and Burst configure the parent's per-client rate limit
	// (0 disables it).
	RatePerSecond float64
	Burst         int
	// Registry receives the parent's metrics and is what /metrics serves,
	// so that services started beside the stack (the sealed-state relays
	// and snapshot host) can report there too; nil makes a private one.
	Registry *prometheus.Registry
	// AllowedOrigins are the web origins whose pages may call the API from
	// a browser (parent.Config.AllowedOrigins).
	AllowedOrigins []string
	// Page, when set, makes the enrolment page from the simulator's root
	// certificate once the enclave is ready (parent.Config.Page).
	Page func(rootPEM []byte) (http.Handler, error)
	// MaxBodyBytes caps request bodies (0: the parent's default).
	MaxBodyBytes int64
	// EnclaveTimeout bounds one forwarded request (0: the parent's default).
	// On a busy CPU the enclave queues face requests behind its pipeline
	// limit, so the simulator wants more than production.
	EnclaveTimeout time.Duration
	// LogDir is the sealed log's directory (default DataDir/log). Members
	// of a fleet share one (docs/fleet.md): the directory store is safe
	// for several processes.
	LogDir string
	// EnclaveDataDir is sim-enclave's --data: where the simulator CA
	// (sim-root.pem) lives (default DataDir). Members of a fleet share one
	// CA, so clients trust one root.
	EnclaveDataDir string
}

// File names inside the data directory.
const (
	EnclaveSocket = "enclave.sock"
	ParentSocket  = "parent.sock"
	LogDir        = "log"
	RootPEM       = "sim-root.pem"
)

// EnclaveCommandArgs is the command line the child runs with: the listen and
// parent endpoints and the data directory.
func EnclaveCommandArgs(dataDir string) []string { return enclaveCommandArgs(dataDir, dataDir) }

func enclaveCommandArgs(sockDir, dataDir string) []string {
	return []string{
		"sim-enclave",
		"--listen", "unix:" + filepath.Join(sockDir, EnclaveSocket),
		"--parent", "unix:" + filepath.Join(sockDir, ParentSocket),
		"--data", dataDir,
	}
}

// Stack is a running simulator.
type Stack struct {
	URL     string
	DataDir string
	Store   *parent.DirStore

	srv     *parent.Server
	pub     *http.Server
	host    *http.Server
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	stop    sync.Once
}

// ErrEnclaveExited reports that the enclave child process ended.
var ErrEnclaveExited = errors.New("simstack: the enclave process exited")

// Start brings the stack up and returns once the enclave is ready.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.DataDir == "" || o.Executable == "" || o.Addr == "" {
		return nil, errors.New("simstack: Addr, DataDir and Executable are required")
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 5 * time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("simstack: data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("simstack: data directory: %w", err)
	}
	// Take the host-services socket first: a socket a killed run left is
	// reclaimed; one another live stack listens on is refused before this
	// stack touches the data directory's store.
	hostLn, err := endpoint.ListenUnix(filepath.Join(dir, ParentSocket))
	if err != nil {
		return nil, fmt.Errorf("simstack: host services: %w", err)
	}
	logDir, encData := o.LogDir, o.EnclaveDataDir
	if logDir == "" {
		logDir = filepath.Join(dir, LogDir)
	}
	if encData == "" {
		encData = dir
	}
	store, err := parent.OpenDirStore(logDir)
	if err != nil {
		hostLn.Close()
		return nil, err
	}
	if err := parent.CheckOrigins(o.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("simstack: %w", err)
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	host, err := parent.NewHost(parent.HostConfig{Store: store, Logger: log, Registry: reg})
	if err != nil {
		hostLn.Close()
		return nil, err
	}
	pubLn, err := net.Listen("tcp", o.Addr)
	if err != nil {
		hostLn.Close()
		return nil, fmt.Errorf("simstack: public listener: %w", err)
	}
	s := &Stack{DataDir: dir, Store: store, exited: make(chan struct{})}
	s.host = parent.NewHTTPServer(host.Handler(), log)
	go s.host.Serve(hostLn)

	s.cmd = exec.Command(o.Executable, append(enclaveCommandArgs(dir, encData), o.EnclaveArgs...)...)
	s.cmd.Stdout, s.cmd.Stderr = o.EnclaveOutput, o.EnclaveOutput
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		hostLn.Close()
		pubLn.Close()
		s.host.Close()
		return nil, fmt.Errorf("simstack: start enclave: %w", err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()

	cleanup := func() {
		s.signalChild(syscall.SIGKILL)
		<-s.exited
		pubLn.Close()
		s.host.Close()
	}
	// Wait for readiness with a throwaway parent (no root yet, no listener).
	probe, err := parent.New(parent.Config{
		Enclave: parent.UnixDialer{Path: filepath.Join(dir, EnclaveSocket)},
		Now:     time.Now, Rand: rand.Reader,
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	deadline := time.Now().Add(o.ReadyTimeout)
	for {
		if err := probe.EnclaveReady(ctx); err == nil {
			break
		}
		select {
		case <-s.exited:
			probe.Close()
			pubLn.Close()
			s.host.Close()
			return nil, fmt.Errorf("%w before it was ready: %v", ErrEnclaveExited, s.exitErr)
		case <-ctx.Done():
			probe.Close()
			cleanup()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			probe.Close()
			cleanup()
			return nil, fmt.Errorf("simstack: the enclave was not ready within %v", o.ReadyTimeout)
		}
	}
	probe.Close()

	root, err := os.ReadFile(filepath.Join(encData, RootPEM))
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("simstack: the simulated enclave wrote no root certificate: %w", err)
	}
	var page http.Handler
	if o.Page != nil {
		if page, err = o.Page(root); err != nil {
			cleanup()
			return nil, fmt.Errorf("simstack: enrolment page: %w", err)
		}
	}
	s.srv, err = parent.New(parent.Config{
		Page:             page,
		Enclave:          parent.UnixDialer{Path: filepath.Join(dir, EnclaveSocket)},
		Now:              time.Now,
		Rand:             rand.Reader,
		Logger:           log,
		Registry:         reg,
		RatePerSecond:    o.RatePerSecond,
		Burst:            o.Burst,
		MaxBodyBytes:     o.MaxBodyBytes,
		EnclaveTimeout:   o.EnclaveTimeout,
		SimulatorRootPEM: root,
		AllowedOrigins:   o.AllowedOrigins,
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	s.pub = parent.NewHTTPServer(s.srv.Handler(), log)
	go s.pub.Serve(pubLn)
	s.URL = "http://" + pubLn.Addr().String()
	log.Info("simulator ready")
	return s, nil
}

func (s *Stack) signalChild(sig os.Signal) {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Signal forwards sig to the enclave process.
func (s *Stack) Signal(sig os.Signal) { s.signalChild(sig) }

// EnclavePID is the process ID of the enclave child.
func (s *Stack) EnclavePID() int { return s.cmd.Process.Pid }

// Exited is closed when the enclave process has ended.
func (s *Stack) Exited() <-chan struct{} { return s.exited }

// Wait blocks until the enclave process exits and returns [ErrEnclaveExited]
// with its status.
func (s *Stack) Wait() error {
	<-s.exited
	return fmt.Errorf("%w: %v", ErrEnclaveExited, s.exitErr)
}

// Stop shuts the stack down: the public listener stops taking requests and
// drains, the enclave gets SIGTERM (SIGKILL if it has not exited by ctx's
// deadline), then the host services close. It returns the enclave's exit
// error, if any other than the termination itself.
func (s *Stack) Stop(ctx context.Context) error {
	var err error
	s.stop.Do(func() {
		if s.pub != nil {
			_ = s.pub.Shutdown(ctx)
		}
		s.signalChild(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-ctx.Done():
			s.signalChild(syscall.SIGKILL)
			<-s.exited
			err = fmt.Errorf("simstack: the enclave did not stop in time; killed")
		}
		_ = s.host.Shutdown(ctx)
		if s.srv != nil {
			s.srv.Close()
		}
		if err == nil && s.exitErr != nil {
			var ee *exec.ExitError
			if errors.As(s.exitErr, &ee) && !ee.Exited() {
				// Ended by our SIGTERM: a clean stop.
				return
			}
			err = fmt.Errorf("%w: %v", ErrEnclaveExited, s.exitErr)
		}
	})
	return err
}

// ChildProcAttr is the process attributes simstack starts the enclave
// with (its own process group; on linux SIGKILL when the starter dies), for
// callers that start simulator processes of their own (the fleet's
// members, docs/fleet.md).
func ChildProcAttr() *syscall.SysProcAttr { return sysProcAttr() }
