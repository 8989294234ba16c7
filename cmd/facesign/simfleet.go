package main

// "facesign sim --enclaves N": N enclaves, each with its own parent (a
// "facesign sim-member" process), on one shared log, snapshot directory,
// simulator CA, KMS key and rollback counter, behind one front
// (parent.Front). The front process runs the simulated AWS side, starts
// the members, starts a member again when it dies (as an auto-scaling
// group replaces an instance), and answers a control socket through which
// an operator (or a test) replaces members one at a time: a rolling image
// upgrade. docs/fleet.md.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/facesign/facesign/internal/endpoint"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/parent/simstack"
	"github.com/facesign/facesign/simulator"
)

// FleetSocket is the fleet's control socket in the data directory.
const FleetSocket = "fleet.sock"

// fleetOptions are the "facesign sim" flags a fleet uses.
type fleetOptions struct {
	addr, data, stateMode, kmsPolicy          string
	enclaves, snapshotEvery, burst            int
	rate                                      float64
	enclaveArgs, corsOrigins                  []string
	readyTimeout, stopTimeout, enclaveTimeout time.Duration
	maxBody                                   int64
}

// fleetMember is one member slot and its current process.
type fleetMember struct {
	index     int
	extra     []string // this member's own sim-enclave arguments (its image)
	restarts  int
	replacing bool
	pid       int
	enclave   int // the enclave child's pid
	url       string
	started   time.Time
	proc      *os.Process
	up        chan struct{} // closed when the current process printed its URL
}

// FleetMemberStatus is one member as GET /members on the control socket
// reports it.
type FleetMemberStatus struct {
	Index      int      `json:"index"`
	URL        string   `json:"url"`
	Ready      bool     `json:"ready"`
	PID        int      `json:"pid"`         // the member's parent process
	EnclavePID int      `json:"enclave_pid"` // its enclave child
	Restarts   int      `json:"restarts"`
	Args       []string `json:"enclave_args"`
}

type fleet struct {
	o     fleetOptions
	exe   string
	aws   *simAWS
	front *parent.Front
	log   *slog.Logger
	out   io.Writer
	ctx   context.Context

	mu      sync.Mutex
	members []*fleetMember
	wg      sync.WaitGroup
}

// runFleet is "facesign sim" with --enclaves N.
func runFleet(ctx context.Context, o fleetOptions, stdout, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if o.data == "" {
		if o.data, err = os.MkdirTemp("", "facesign-fleet-"); err != nil {
			return err
		}
	}
	if o.data, err = filepath.Abs(o.data); err != nil {
		return err
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("process", "fleet")
	f := &fleet{o: o, exe: exe, log: log, out: stderr, ctx: ctx}
	switch o.stateMode {
	case "sealed":
		if f.aws, err = startSimAWS(o.data, log, o.kmsPolicy); err != nil {
			return err
		}
		defer f.aws.stop()
	case "simple":
		// Made here, before the members start, so they share one key.
		if _, err := simulator.LoadOrCreateCA(o.data, rand.Reader, time.Now()); err != nil {
			return err
		}
		if _, err := simDataKey(filepath.Join(o.data, simDataKeyFile), rand.Reader); err != nil {
			return err
		}
	default:
		return &exitError{2, fmt.Errorf("--state %q: want sealed or simple", o.stateMode)}
	}
	root, err := os.ReadFile(filepath.Join(o.data, simulator.CARootFile))
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	f.front, err = parent.NewFront(parent.FrontConfig{
		Members: o.enclaves, Now: time.Now, Logger: log, Registry: reg, Timeout: o.enclaveTimeout,
		MaxBodyBytes: o.maxBody, RatePerSecond: o.rate, Burst: o.burst, SimulatorRootPEM: root,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("fleet: public listener: %w", err)
	}
	pub := parent.NewHTTPServer(f.front.Handler(), log)
	go pub.Serve(ln)
	defer pub.Close()
	ctl, err := endpoint.ListenUnix(filepath.Join(o.data, FleetSocket))
	if err != nil {
		return fmt.Errorf("fleet: control socket: %w", err)
	}
	csrv := parent.NewHTTPServer(f.control(), log)
	csrv.WriteTimeout = 0 // a replace waits for the new member
	go csrv.Serve(ctl)
	defer csrv.Close()
	fctx, stopFront := context.WithCancel(ctx)
	defer stopFront()
	go f.front.Run(fctx)

	for i := range o.enclaves {
		m := &fleetMember{index: i, up: make(chan struct{})}
		f.members = append(f.members, m)
		f.wg.Add(1)
		go f.supervise(m)
	}
	defer f.stopAll()
	deadline := time.After(o.readyTimeout)
	for _, m := range f.members {
		f.mu.Lock()
		up := m.up
		f.mu.Unlock()
		select {
		case <-up:
		case <-deadline:
			return fmt.Errorf("fleet: member %d was not ready within %v", m.index, o.readyTimeout)
		case <-ctx.Done():
			return nil
		}
	}
	for ready := 0; ready < o.enclaves; {
		ready = 0
		for _, m := range f.front.Members() {
			if m.Ready {
				ready++
			}
		}
		select {
		case <-deadline:
			return fmt.Errorf("fleet: the front saw %d of %d members ready within %v", ready, o.enclaves, o.readyTimeout)
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stderr, "facesign sim: fleet of %d enclaves ready at %s (data %s, control %s); the simulator root is NOT a production trust anchor\n",
		o.enclaves, url, o.data, filepath.Join(o.data, FleetSocket))
	fmt.Fprintln(stdout, url)
	<-ctx.Done()
	fmt.Fprintln(stderr, "facesign sim: stopping the fleet")
	return nil
}

// memberArgs is the command line of member m's next process.
func (f *fleet) memberArgs(m *fleetMember) []string {
	o := f.o
	args := []string{"sim-member", "--data", o.data, "--member-dir", filepath.Join(o.data, "m"+strconv.Itoa(m.index)),
		"--state", o.stateMode, "--ready-timeout", o.readyTimeout.String(), "--enclave-timeout", o.enclaveTimeout.String(),
		"--stop-timeout", o.stopTimeout.String(), "--max-body", strconv.FormatInt(o.maxBody, 10)}
	if f.aws != nil {
		args = append(args, "--kms-upstream", f.aws.kmsAddr, "--ddb-upstream", f.aws.ddbAddr)
	}
	if o.snapshotEvery > 0 {
		args = append(args, "--snapshot-every", strconv.Itoa(o.snapshotEvery))
	}
	for _, c := range o.corsOrigins {
		args = append(args, "--cors-origin", c)
	}
	for _, a := range append(append([]string(nil), o.enclaveArgs...), m.extra...) {
		args = append(args, "--enclave-arg="+a)
	}
	return args
}

// supervise keeps member m running until the fleet stops: it starts the
// process, routes to it once it is ready, and starts it again when it
// exits (at once after a replace, else after a backoff that grows while it
// keeps failing).
func (f *fleet) supervise(m *fleetMember) {
	defer f.wg.Done()
	backoff := 200 * time.Millisecond
	for f.ctx.Err() == nil {
		f.mu.Lock()
		args := f.memberArgs(m)
		f.mu.Unlock()
		cmd := exec.Command(f.exe, args...)
		cmd.Stderr = f.out
		cmd.SysProcAttr = simstack.ChildProcAttr()
		cmd.WaitDelay = 10 * time.Second
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			f.log.Error("member did not start", "enclave", m.index, "err", err)
			if !f.sleep(backoff) {
				return
			}
			continue
		}
		f.mu.Lock()
		m.proc, m.pid, m.enclave, m.url, m.started, m.replacing = cmd.Process, cmd.Process.Pid, 0, "", time.Now(), false
		up := m.up
		f.mu.Unlock()
		lines := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			if sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			_, _ = io.Copy(io.Discard, stdout)
		}()
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case line, ok := <-lines:
			if ok {
				url, pid, _ := strings.Cut(line, " ")
				f.mu.Lock()
				m.url = url
				m.enclave, _ = strconv.Atoi(pid)
				f.mu.Unlock()
				f.front.SetMember(m.index, url)
				f.log.Info("member up", "enclave", m.index, "url", url, "boot", time.Since(m.started).Round(time.Millisecond))
				close(up)
				backoff = 200 * time.Millisecond
			}
		case <-exited:
		}
		<-exited
		f.front.SetMember(m.index, "")
		f.mu.Lock()
		replacing := m.replacing
		select {
		case <-m.up:
			m.up = make(chan struct{}) // the next process signals anew
		default:
		}
		m.url, m.proc = "", nil
		if !replacing && f.ctx.Err() == nil {
			m.restarts++
		}
		f.mu.Unlock()
		if f.ctx.Err() != nil {
			return
		}
		if replacing {
			continue
		}
		f.log.Warn("member exited; starting it again", "enclave", m.index, "after", backoff)
		if !f.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (f *fleet) sleep(d time.Duration) bool {
	select {
	case <-f.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// stopAll stops every member (SIGTERM: each drains its requests and stops
// its enclave) and waits for the supervisors.
func (f *fleet) stopAll() {
	f.mu.Lock()
	for _, m := range f.members {
		if m.proc != nil {
			_ = m.proc.Signal(syscall.SIGTERM)
		}
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(f.o.stopTimeout + 5*time.Second):
		f.mu.Lock()
		for _, m := range f.members {
			if m.proc != nil {
				_ = m.proc.Kill()
			}
		}
		f.mu.Unlock()
		<-done
	}
}

// status reports every member.
func (f *fleet) status() []FleetMemberStatus {
	ready := f.front.Members()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FleetMemberStatus, len(f.members))
	for i, m := range f.members {
		out[i] = FleetMemberStatus{Index: i, URL: m.url, Ready: ready[i].Ready, PID: m.pid, EnclavePID: m.enclave,
			Restarts: m.restarts, Args: append(append([]string(nil), f.o.enclaveArgs...), m.extra...)}
		if m.proc == nil {
			out[i].PID, out[i].EnclavePID = 0, 0
		}
	}
	return out
}

// errReplaceTimeout reports a replaced member that did not become ready.
var errReplaceTimeout = errors.New("fleet: the replaced member was not ready in time")

// replace stops member i (the front stops routing to it first; the member
// drains what it is serving) and starts it again with extra as its own
// sim-enclave arguments, waiting until it is ready.
func (f *fleet) replace(ctx context.Context, i int, extra []string) error {
	f.mu.Lock()
	if i < 0 || i >= len(f.members) {
		f.mu.Unlock()
		return fmt.Errorf("fleet: no member %d", i)
	}
	m := f.members[i]
	m.extra = append([]string(nil), extra...)
	m.replacing = true
	proc := m.proc
	f.mu.Unlock()
	f.front.SetMember(i, "")
	if proc != nil {
		_ = proc.Signal(syscall.SIGTERM)
	}
	deadline := time.After(f.o.readyTimeout + f.o.stopTimeout)
	for {
		f.mu.Lock()
		up, same := m.up, m.proc == proc
		f.mu.Unlock()
		if !same {
			select {
			case <-up:
				// Up: wait for the front to route to it too.
				for !f.front.Members()[i].Ready {
					select {
					case <-deadline:
						return errReplaceTimeout
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(20 * time.Millisecond):
					}
				}
				return nil
			case <-deadline:
				return errReplaceTimeout
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case <-deadline:
			return errReplaceTimeout
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// control is the fleet's control API on its unix socket (simulator only):
//
//	GET  /members                  every member (FleetMemberStatus)
//	POST /members/{i}/replace      {"enclave_args": [...]}: stop member i and start it with these
//	                               sim-enclave arguments (e.g. ["--eif", "B.eif"]); answers once it is ready
//	                               (with "no_wait": true, at once)
func (f *fleet) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /members", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.status())
	})
	mux.HandleFunc("POST /members/{i}/replace", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		var body struct {
			EnclaveArgs []string `json:"enclave_args"`
			NoWait      bool     `json:"no_wait"`
		}
		if err == nil {
			err = json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body)
		}
		if err != nil {
			http.Error(w, "want /members/{index}/replace with {\"enclave_args\": [...]}", http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		if body.NoWait {
			// Answer once the old process was told to stop.
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		if err := f.replace(ctx, i, body.EnclaveArgs); err != nil && !(body.NoWait && errors.Is(err, context.Canceled)) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.status()[i])
	})
	return mux
}
