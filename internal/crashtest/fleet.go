//go:build linux

package crashtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/internal/syncbuf"
	"github.com/facesign/facesign/wire"
)

// FleetReport is what a fleet run saw.
type FleetReport struct {
	Report
	// Restarts is how often the fleet started each member again.
	Restarts []int
	// Positions is each enclave's log position at the end (all equal:
	// every member caught up).
	Positions []int
}

func (r *FleetReport) String() string {
	return r.Report.String() + fmt.Sprintf("\nmember restarts %v, final log positions %v", r.Restarts, r.Positions)
}

// fleetMember is one member as the fleet's control socket reports it.
type fleetMember struct {
	Index      int  `json:"index"`
	Ready      bool `json:"ready"`
	PID        int  `json:"pid"`
	EnclavePID int  `json:"enclave_pid"`
	Restarts   int  `json:"restarts"`
}

// RunFleet is [Run] across a fleet: "facesign sim --enclaves N" (N =
// opts.Enclaves ≥ 2) runs for the whole test, two workers enrol, log in
// and delete through its front, and each of opts.Cycles cycles SIGKILLs a
// random member's enclave or parent — some mid-request, some while the
// member is still booting after the previous kill — and waits for the
// fleet to start it again. Every acknowledged answer is checked against
// the [Model] (no acknowledged enrolment lost, never two IDs for one face,
// no identity answered after its delete was acknowledged: the staleness
// bound is zero). At the end every member must be serving at the same log
// position with no lag, and each person's final state must be what the
// model says.
func RunFleet(ctx context.Context, o Options) (*FleetReport, error) {
	if o.Binary == "" || o.DataDir == "" || o.Recordings == "" || o.Cycles < 0 || o.Enclaves < 2 {
		return nil, errors.New("crashtest: Binary, DataDir, Recordings and at least two Enclaves are required")
	}
	o.setDefaults()
	logf := o.Logf
	people, analysis, err := loadPeople(o.Recordings)
	if err != nil {
		return nil, err
	}
	r := &FleetReport{Report: Report{Answered: map[string]int{}, FinalIDs: map[string]string{}}}
	args := append([]string{"sim", "--enclaves", strconv.Itoa(o.Enclaves), "--addr", "127.0.0.1:0", "--data", o.DataDir, "--rate", "0", "--stop-timeout", "5s",
		"--ready-timeout", o.ReadyTimeout.String()}, o.SimArgs...)
	cmd := exec.Command(o.Binary, args...)
	logBuf := &syncbuf.Buffer{Limit: simLogLimit}
	cmd.Stderr = logBuf
	cmd.WaitDelay = 10 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	fail := func(err error) (*FleetReport, error) {
		r.SimLogOnFailure = logBuf.Tail(simLogTail)
		return r, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case url = <-lines:
	case <-done:
		return fail(errors.New("the fleet exited before it was ready"))
	case <-time.After(o.ReadyTimeout + time.Minute):
		return fail(errors.New("the fleet was not ready in time"))
	}
	r.SlowestBoot = time.Since(start)
	ctl := fleetControl(filepath.Join(o.DataDir, "fleet.sock"))
	var clients []*client.Client
	for range people {
		c, err := newClient(ctx, url)
		if err != nil {
			return fail(err)
		}
		clients = append(clients, c)
	}
	a, err := clients[0].Attest(ctx)
	if err != nil {
		return fail(err)
	}
	if err := analysis.For(a.Binding.Policy.Engine, a.Binding.Policy.ModelSHA256); err != nil {
		return fail(err)
	}
	model := NewModel("A", "B")
	w := &workload{model: model, people: people, report: &r.Report}
	rng := mrand.New(mrand.NewPCG(o.Seed, 0x666c656574))
	stop := w.startClients(ctx, clients, rng.Uint64(), rng.Uint64())
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	for cycle := 0; cycle < o.Cycles; cycle++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		time.Sleep(time.Duration(rng.Int64N(int64(o.MaxRun))))
		ms, err := ctl.members()
		if err != nil {
			return fail(err)
		}
		i := rng.IntN(len(ms))
		inBoot := rng.IntN(100) < o.BootKillPercent
		if inBoot {
			// Kill it, then kill its next process somewhere in its boot
			// (KMS, header, snapshot, replay, catching up).
			if err := killMember(ms[i], "parent"); err != nil {
				return fail(err)
			}
			next, err := ctl.waitNewProcess(i, ms[i].PID, o.ReadyTimeout)
			if err != nil {
				return fail(fmt.Errorf("cycle %d: %w", cycle, err))
			}
			time.Sleep(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
			ms[i] = next
			r.KilledInBoot++
		}
		victim := "enclave"
		if rng.IntN(2) == 0 || ms[i].EnclavePID == 0 {
			victim = "parent"
		}
		if err := killMember(ms[i], victim); err != nil {
			return fail(err)
		}
		if victim == "enclave" {
			r.KilledEnclave++
		} else {
			r.KilledParent++
		}
		if err := ctl.waitReady(i, ms[i].PID, o.ReadyTimeout); err != nil {
			return fail(fmt.Errorf("cycle %d: member %d did not come back: %w", cycle, i, err))
		}
		r.Cycles++
		logf("cycle %d: killed member %d's %s%s; A may be %v, B may be %v", cycle, i, victim,
			map[bool]string{true: " (and once while booting)"}[inBoot], model.Possible("A"), model.Possible("B"))
	}
	stopped = true
	if err := stop(); err != nil {
		return fail(err)
	}
	// Every member serves, and all are at one log position with no lag.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pos, lag, err := enclavePositions(url, o.Enclaves)
		if err == nil && len(pos) == o.Enclaves && allEqual(pos) && lag == 0 {
			r.Positions = pos
			break
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("the members did not converge: positions %v, lag %d, %v", pos, lag, err))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Each person's state, asked through the front.
	for _, p := range people {
		var status wire.Status
		var id, reason string
		var entropy []byte
		var err error
		for try := 0; try < 12; try++ {
			status, id, entropy, reason, err = do(ctx, clients[0], Login, p.takes[try%len(p.takes)])
			if err == nil && status != wire.StatusRejected {
				break
			}
		}
		if err != nil {
			return fail(fmt.Errorf("final login of %s: %w", p.name, err))
		}
		if status == wire.StatusRejected {
			return fail(fmt.Errorf("final login of %s: refused 12 times (last: %s); a face with two IDs is ambiguous", p.name, reason))
		}
		if err := model.Answered(p.name, Login, status, id, entropy); err != nil {
			return fail(fmt.Errorf("final check: %w", err))
		}
		r.FinalIDs[p.name] = id
	}
	ms, err := ctl.members()
	if err != nil {
		return fail(err)
	}
	for _, m := range ms {
		r.Restarts = append(r.Restarts, m.Restarts)
	}
	r.LogRecords, r.Snapshots = countFiles(filepath.Join(o.DataDir, "log"), ".rec"), countFiles(filepath.Join(o.DataDir, "snapshots"), ".snap")
	return r, nil
}

func killMember(m fleetMember, victim string) error {
	pid := m.PID
	if victim == "enclave" {
		pid = m.EnclavePID
	}
	if pid <= 0 {
		return fmt.Errorf("member %d has no %s process", m.Index, victim)
	}
	err := syscall.Kill(pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

func allEqual(xs []int) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// enclavePositions reads each member's log position and the total lag from
// the front's /metrics.
func enclavePositions(url string, n int) ([]int, int, error) {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, 0, err
	}
	pos := map[int]int{}
	lag := 0
	for _, l := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(l, "{enclave=\"")
		if !ok {
			continue
		}
		idx, val, ok := strings.Cut(rest, "\"} ")
		i, err1 := strconv.Atoi(idx)
		v, err2 := strconv.ParseFloat(val, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		switch name {
		case "facesign_enclave_log_position":
			pos[i] = int(v)
		case "facesign_enclave_log_lag":
			lag += int(v)
		}
	}
	out := make([]int, 0, n)
	for i := range n {
		if p, ok := pos[i]; ok {
			out = append(out, p)
		}
	}
	return out, lag, nil
}

// control is the fleet's control socket.
type control struct{ h *http.Client }

func fleetControl(sock string) *control {
	var d net.Dialer
	return &control{h: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", sock) },
	}}}
}

func (c *control) members() ([]fleetMember, error) {
	res, err := c.h.Get("http://fleet/members")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var ms []fleetMember
	return ms, json.NewDecoder(res.Body).Decode(&ms)
}

// waitNewProcess waits until member i runs a process other than old.
func (c *control) waitNewProcess(i, old int, timeout time.Duration) (fleetMember, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ms, err := c.members()
		if err == nil && ms[i].PID != 0 && ms[i].PID != old {
			return ms[i], nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fleetMember{}, fmt.Errorf("member %d was not started again", i)
}

// waitReady waits until member i runs a process other than old and the
// front routes to it.
func (c *control) waitReady(i, old int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ms, err := c.members()
		if err == nil && ms[i].PID != old && ms[i].Ready {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("timed out")
}
