package client_test

// End-to-end tests over the real two-process simulator: the first test that
// needs it builds the facesign binary and starts `facesign sim` (parent in
// that process, enclave as its child; see internal/simtest), every test
// drives it through this package's SDK, as an app would, and TestMain stops
// it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/internal/simtest"
)

var (
	stackOnce sync.Once
	stack     *simtest.Sim
	stackErr  error
	binPath   string
	modRoot   string
	expiring  *client.Challenge
)

func TestMain(m *testing.M) {
	code := m.Run()
	if stack != nil {
		stack.Stop()
	}
	simtest.Cleanup()
	os.Exit(code)
}

// requireStack builds facesign and starts the simulator once per test binary.
// A failure fails every test that needs it (loudly, never a skip).
func requireStack(t *testing.T) *simtest.Sim {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: needs the two-process simulator (not in -short)")
	}
	stackOnce.Do(func() {
		if stack, stackErr = startStack(); stackErr == nil {
			// A challenge taken now expires while the other tests run, so
			// the expired-challenge case rarely has to wait for the TTL.
			c := newClient(t, stack, nil)
			expiring, stackErr = c.Challenge(context.Background())
		}
	})
	if stackErr != nil {
		t.Fatalf("simulator: %v", stackErr)
	}
	if stack.Exited() {
		t.Fatalf("the simulator exited; its log:\n%s", stack.Log.Tail(4000))
	}
	return stack
}

// startStack starts the simulator the whole test binary shares (TestMain
// stops it).
func startStack() (*simtest.Sim, error) {
	var err error
	if modRoot, err = simtest.ModuleRoot(); err != nil {
		return nil, err
	}
	if binPath, err = simtest.Binary(); err != nil {
		return nil, err
	}
	return simtest.Launch(simtest.Options{Binary: binPath})
}

// recorder is an http.RoundTripper that keeps every byte the client sent to
// and got from the parent: exactly what the parent forwards, since it relays
// bodies verbatim.
type recorder struct {
	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	Method, Path string
	Status       int
	Req, Resp    []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	r.mu.Lock()
	r.exchanges = append(r.exchanges, exchange{req.Method, req.URL.Path, resp.StatusCode, body, rb})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) all() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.exchanges...)
}

func newClient(t *testing.T, s *simtest.Sim, rec *recorder) *client.Client {
	t.Helper()
	hc := &http.Client{Timeout: 15 * time.Minute}
	if rec != nil {
		hc.Transport = rec
	}
	c, err := client.New(s.URL, client.Options{
		HTTPClient: hc, Roots: []*x509.Certificate{s.Root}, AnyMeasurement: true,
		Now: time.Now, Rand: rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storeFiles lists the sealed records the parent stored.
func storeFiles(t *testing.T, s *simtest.Sim) map[string][]byte {
	t.Helper()
	dir := filepath.Join(s.DataDir, "log")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

var (
	recOnce  sync.Once
	recs     demo.Recordings
	recErr   error
	analysis *capture.Analysis
)

// recordings loads the real recordings once, with their committed engine
// measurements (client/testdata/liveness/analysis.json, made by "facesign
// analyze"), which must be for the engine the enclave attests to.
func recordings(t *testing.T, c *client.Client) demo.Recordings {
	t.Helper()
	recOnce.Do(func() {
		dir := filepath.Join(modRoot, "client/testdata/liveness")
		if recs, recErr = demo.LoadRecordings(dir); recErr != nil {
			return
		}
		if analysis, recErr = capture.LoadAnalysis(filepath.Join(dir, "analysis.json")); recErr != nil {
			return
		}
		a, err := c.Attest(context.Background())
		if err != nil {
			recErr = err
			return
		}
		if recErr = analysis.For(a.Binding.Policy.Engine, a.Binding.Policy.ModelSHA256); recErr != nil {
			return
		}
		an := analysis.Analyzer(nil)
		for _, set := range [][]capture.Frame{recs.A1, recs.A2, recs.B1, recs.B2, recs.Photo} {
			capture.Analyze(an, set)
		}
	})
	if recErr != nil {
		t.Fatalf("recordings: %v", recErr)
	}
	return recs
}

func perform(t *testing.T, ctx context.Context, c *client.Client, op capture.Op, frames []capture.Frame) (*client.Result, error) {
	t.Helper()
	return capture.Perform(ctx, c, op, frames, 60)
}
