//go:build linux

package crashtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/internal/syncbuf"
	"github.com/facesign/facesign/wire"
)

// Options configures a crash run.
type Options struct {
	// Binary is the facesign executable. Required.
	Binary string
	// DataDir is the simulator's data directory, kept across restarts.
	// Required.
	DataDir string
	// Recordings is the folder of recorded frames (client/testdata/liveness)
	// with its analysis.json. Required.
	Recordings string
	// Cycles is the number of kill-and-restart cycles.
	Cycles int
	// Seed makes the kill schedule reproducible.
	Seed uint64
	// SimArgs are extra arguments for "facesign sim".
	SimArgs []string
	// MaxRun bounds how long the workload runs after the stack is ready
	// before the kill (uniform in [0, MaxRun]); 0 means 6 s.
	MaxRun time.Duration
	// BootKillPercent is the share of cycles killed while the stack boots
	// (before it is ready), 0..100; 0 means 20.
	BootKillPercent int
	// ReadyTimeout bounds one boot; 0 means 3 minutes.
	ReadyTimeout time.Duration
	// Logf receives progress; nil discards.
	Logf func(format string, args ...any)
	// Enclaves is the fleet size for [RunFleet] (at least 2).
	Enclaves int
}

// Report is what a run saw.
type Report struct {
	Cycles          int
	KilledEnclave   int
	KilledParent    int
	KilledInBoot    int
	Answered        map[string]int // "op/status" or "op/rejected:reason"
	Unanswered      int
	FinalIDs        map[string]string // person → unique ID at the end ("" if absent)
	LogRecords      int
	Snapshots       int
	SlowestBoot     time.Duration
	SimLogOnFailure string
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cycles %d (enclave killed %d, parent killed %d, killed while booting %d)\n", r.Cycles, r.KilledEnclave, r.KilledParent, r.KilledInBoot)
	fmt.Fprintf(&b, "answered: %v\nunanswered (in flight at a kill): %d\n", r.Answered, r.Unanswered)
	fmt.Fprintf(&b, "log records %d, snapshots kept %d, slowest boot %v\nfinal identities: %v", r.LogRecords, r.Snapshots, r.SlowestBoot.Round(time.Millisecond), r.FinalIDs)
	return b.String()
}

// person is one face of the workload with its recordings.
type person struct {
	name  string
	takes [][]capture.Frame
}

// setDefaults fills the limits left at zero and a nil Logf (see [Options]).
func (o *Options) setDefaults() {
	if o.MaxRun <= 0 {
		o.MaxRun = 6 * time.Second
	}
	if o.BootKillPercent == 0 {
		o.BootKillPercent = 20
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Run kills and restarts the two-process simulator opts.Cycles times while
// two workers enrol, log in and delete two real faces, checking every
// acknowledged answer against a [Model]; it ends with a clean boot in which
// each person's final state is checked by logging in. It returns an error
// wrapping [ErrViolation] if the service lost or duplicated anything.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Binary == "" || o.DataDir == "" || o.Recordings == "" || o.Cycles < 0 {
		return nil, errors.New("crashtest: Binary, DataDir and Recordings are required")
	}
	o.setDefaults()
	logf := o.Logf
	people, analysis, err := loadPeople(o.Recordings)
	if err != nil {
		return nil, err
	}
	model := NewModel("A", "B")
	rng := mrand.New(mrand.NewPCG(o.Seed, 0x6372617368))
	r := &Report{Answered: map[string]int{}, FinalIDs: map[string]string{}}
	w := &workload{model: model, people: people, report: r}
	checkedEngine := false

	for cycle := 0; cycle < o.Cycles; cycle++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		sim, err := startSim(o)
		if err != nil {
			return r, err
		}
		inBoot := rng.IntN(100) < o.BootKillPercent
		stop := func() error { return nil }
		if inBoot {
			// Kill somewhere in the boot: KMS, header, snapshot load, replay.
			time.Sleep(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
			r.KilledInBoot++
		} else {
			url, err := sim.ready(o.ReadyTimeout)
			if err != nil {
				sim.kill()
				return r, fmt.Errorf("cycle %d: %w", cycle, err)
			}
			r.SlowestBoot = max(r.SlowestBoot, sim.bootTime)
			c, err := newClient(ctx, url)
			if err != nil {
				sim.kill()
				return r, fmt.Errorf("cycle %d: %w\n%s", cycle, err, sim.log.Tail(simLogTail))
			}
			if !checkedEngine {
				a, err := c.Attest(ctx)
				if err != nil {
					sim.kill()
					return r, err
				}
				if err := analysis.For(a.Binding.Policy.Engine, a.Binding.Policy.ModelSHA256); err != nil {
					sim.kill()
					return r, err
				}
				checkedEngine = true
			}
			stop = w.start(ctx, c, rng.Uint64(), rng.Uint64())
			time.Sleep(time.Duration(rng.Int64N(int64(o.MaxRun))))
		}
		victim := "enclave"
		if rng.IntN(2) == 0 {
			victim = "parent"
		}
		victim, err = sim.killVictim(victim)
		if err != nil {
			return r, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		if victim == "enclave" {
			r.KilledEnclave++
		} else {
			r.KilledParent++
		}
		if err := stop(); err != nil {
			r.SimLogOnFailure = sim.log.Tail(simLogTail)
			return r, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		r.Cycles++
		logf("cycle %d: killed the %s%s; A may be %v, B may be %v", cycle, victim, map[bool]string{true: " while booting"}[inBoot], model.Possible("A"), model.Possible("B"))
	}

	// A clean boot: every person's state must be what the model says.
	sim, err := startSim(o)
	if err != nil {
		return r, err
	}
	defer sim.stop()
	url, err := sim.ready(o.ReadyTimeout)
	if err != nil {
		return r, fmt.Errorf("final boot: %w", err)
	}
	c, err := newClient(ctx, url)
	if err != nil {
		return r, err
	}
	for _, p := range people {
		var status wire.Status
		var id string
		var entropy []byte
		var reason string
		var err error
		for try := 0; try < 12; try++ {
			status, id, entropy, reason, err = do(ctx, c, Login, p.takes[try%len(p.takes)])
			if err == nil && status != wire.StatusRejected {
				break
			}
		}
		if err != nil {
			return r, fmt.Errorf("final login of %s: %w", p.name, err)
		}
		if status == wire.StatusRejected {
			r.SimLogOnFailure = sim.log.Tail(simLogTail)
			return r, fmt.Errorf("final login of %s: refused 12 times (last: %s); a face with two IDs is ambiguous", p.name, reason)
		}
		if err := model.Answered(p.name, Login, status, id, entropy); err != nil {
			return r, fmt.Errorf("final check: %w", err)
		}
		r.FinalIDs[p.name] = id
	}
	r.LogRecords, r.Snapshots = countFiles(filepath.Join(o.DataDir, "log"), ".rec"), countFiles(filepath.Join(o.DataDir, "snapshots"), ".snap")
	return r, nil
}

// loadPeople reads the two recorded people and the frame analysis that
// lets the client pick frames performing a challenge's actions.
func loadPeople(dir string) ([]person, *capture.Analysis, error) {
	rec, err := demo.LoadRecordings(dir)
	if err != nil {
		return nil, nil, err
	}
	analysis, err := capture.LoadAnalysis(filepath.Join(dir, "analysis.json"))
	if err != nil {
		return nil, nil, err
	}
	an := analysis.Analyzer(nil)
	for _, set := range [][]capture.Frame{rec.A1, rec.A2, rec.B1, rec.B2} {
		capture.Analyze(an, set)
	}
	return []person{{"A", [][]capture.Frame{rec.A1, rec.A2}}, {"B", [][]capture.Frame{rec.B1, rec.B2}}}, analysis, nil
}

// workload is the two workers' shared state.
type workload struct {
	model  *Model
	people []person
	mu     sync.Mutex // guards report.Answered, report.Unanswered
	report *Report
}

// start runs one worker per person, each sending a random mix of
// enrolments, logins and deletes with frames from its person's recordings
// and checking every answer against the model. stop cancels the workers,
// waits for them and returns the violations they found.
func (w *workload) start(ctx context.Context, c *client.Client, seeds ...uint64) (stop func() error) {
	return w.startClients(ctx, []*client.Client{c}, seeds...)
}

// startClients is start with one client per worker (clients[i%len]): in a
// fleet each client's session lives on the enclave it attested.
func (w *workload) startClients(ctx context.Context, clients []*client.Client, seeds ...uint64) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var vmu sync.Mutex
	var violation error
	for i, p := range w.people {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(seeds[i%len(seeds)], uint64(i)))
			for ctx.Err() == nil {
				op := []Op{Enroll, Enroll, Login, Delete}[rng.IntN(4)]
				frames := p.takes[rng.IntN(len(p.takes))]
				status, id, entropy, reason, err := do(ctx, clients[i%len(clients)], op, frames)
				if errors.Is(err, capture.ErrNoUsableChallenge) {
					continue // nothing was submitted
				}
				w.mu.Lock()
				switch {
				case err != nil:
					w.report.Unanswered++
				case status == wire.StatusRejected:
					w.report.Answered[string(op)+"/rejected:"+reason]++
				default:
					w.report.Answered[string(op)+"/"+string(status)]++
				}
				w.mu.Unlock()
				if err != nil {
					w.model.Unanswered(p.name, op)
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
					continue
				}
				if err := w.model.Answered(p.name, op, status, id, entropy); err != nil {
					vmu.Lock()
					violation = errors.Join(violation, err)
					vmu.Unlock()
				}
			}
		})
	}
	return func() error {
		cancel()
		wg.Wait()
		return violation
	}
}

func countFiles(dir, suffix string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			n++
		}
	}
	return n
}

func newClient(ctx context.Context, url string) (*client.Client, error) {
	root, err := client.FetchSimulatorRoot(ctx, nil, url)
	if err != nil {
		return nil, err
	}
	return client.New(url, client.Options{
		HTTPClient: &http.Client{Timeout: 5 * time.Minute},
		Roots:      []*x509.Certificate{root}, AnyMeasurement: true,
		Now: time.Now, Rand: rand.Reader,
	})
}

// do performs op with frames picked from a recording for a fresh challenge.
// A sealed refusal is an answer (status rejected, with its reason); any
// other error means no answer.
func do(ctx context.Context, c *client.Client, op Op, frames []capture.Frame) (wire.Status, string, []byte, string, error) {
	f := map[Op]capture.Op{Enroll: c.Enroll, Login: c.Login, Delete: c.Delete}[op]
	res, err := capture.Perform(ctx, c, f, frames, 60)
	var rej *client.RejectedError
	if errors.As(err, &rej) && rej.Sealed {
		return wire.StatusRejected, "", nil, string(rej.Code), nil
	}
	if err != nil {
		return "", "", nil, "", err
	}
	return res.Status, res.UniqueID, res.Entropy, "", nil
}

// simLogLimit bounds the simulator's log the harness keeps (its tail).
const simLogLimit = 1 << 20

// simLogTail is how much of that log goes into an error or the report.
const simLogTail = 6000

// sim is one run of "facesign sim".
type sim struct {
	cmd      *exec.Cmd
	log      *syncbuf.Buffer
	lines    chan string
	done     chan struct{}
	started  time.Time
	bootTime time.Duration
}

func startSim(o Options) (*sim, error) {
	args := append([]string{"sim", "--addr", "127.0.0.1:0", "--data", o.DataDir, "--rate", "0", "--stop-timeout", "5s"}, o.SimArgs...)
	s := &sim{cmd: exec.Command(o.Binary, args...), log: &syncbuf.Buffer{Limit: simLogLimit}, lines: make(chan string, 1), done: make(chan struct{})}
	s.cmd.Stderr = s.log
	s.cmd.WaitDelay = 10 * time.Second // never hang on a pipe an orphan holds
	// If the harness itself dies (a test timeout), the simulator goes too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			s.lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	return s, nil
}

func (s *sim) ready(timeout time.Duration) (string, error) {
	select {
	case url := <-s.lines:
		s.bootTime = time.Since(s.started)
		return url, nil
	case <-s.done:
		return "", fmt.Errorf("facesign sim exited before it was ready:\n%s", s.log.Tail(simLogTail))
	case <-time.After(timeout):
		return "", fmt.Errorf("facesign sim was not ready in %v:\n%s", timeout, s.log.Tail(simLogTail))
	}
}

// killVictim sends SIGKILL to the enclave child or to the parent and
// returns which one it killed. When the parent dies the orphaned enclave is
// killed too (it has lost its host, and would otherwise write the same log
// as the next one); when the enclave dies the parent notices and exits by
// itself. An enclave that is not running yet (early in the boot) makes the
// parent the victim.
func (s *sim) killVictim(victim string) (string, error) {
	pid := s.cmd.Process.Pid
	if victim == "enclave" {
		if child := enclaveChild(pid); child > 0 {
			_ = syscall.Kill(child, syscall.SIGKILL)
			select {
			case <-s.done:
				return "enclave", nil
			case <-time.After(60 * time.Second):
				s.kill()
				return "", fmt.Errorf("the parent did not exit after its enclave was killed:\n%s", s.log.Tail(simLogTail))
			}
		}
	}
	// Stop the parent first so it cannot start a child between the look
	// for its children and the kill.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	child := enclaveChild(pid)
	_ = s.cmd.Process.Kill()
	if child > 0 {
		// Kill the orphan before waiting: it shares the parent's stderr, so
		// the parent's Wait ends only when both are gone.
		_ = syscall.Kill(child, syscall.SIGKILL)
		waitGone(child)
	}
	<-s.done
	return "parent", nil
}

func (s *sim) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop ends the final run cleanly (SIGTERM, as an operator would).
func (s *sim) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}
