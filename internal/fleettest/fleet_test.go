//go:build linux

package fleettest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/eif"
	"github.com/facesign/facesign/internal/simtest"
	"github.com/facesign/facesign/wire"
)

func TestMain(m *testing.M) {
	code := m.Run()
	simtest.Cleanup()
	os.Exit(code)
}

// signer is a release signing certificate and key, as PEM files.
type signer struct {
	certPEM, keyPEM []byte
	certFile        string
}

func newSigner(t *testing.T, dir, name string) signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Organization: []string{"FaceSign fleet test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := signer{certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})}
	s.certFile = filepath.Join(dir, name+".pem")
	if err := os.WriteFile(s.certFile, s.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// image builds an enclave image file whose application ramdisk holds app,
// signed by s, and returns its path and PCR0.
func image(t *testing.T, dir, name string, app string, s signer) (string, []byte) {
	t.Helper()
	sg, err := eif.NewSigner(s.certPEM, s.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	m, err := eif.Build(&b, &eif.Input{
		Kernel: []byte("fleet test kernel"), Cmdline: "console=ttyS0", Ramdisks: [][]byte{[]byte("boot ramdisk"), []byte(app)},
		Name: name, Version: "1", BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), BuildTool: "fleettest", Signer: sg,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".eif")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, m.PCR0[:]
}

// people are the recorded faces, with the frame analysis that lets the
// client pick frames performing a challenge's actions.
type people struct {
	rec  demo.Recordings
	root string
}

func loadPeople(t *testing.T) people {
	t.Helper()
	root, err := simtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "client/testdata/liveness")
	rec, err := demo.LoadRecordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	analysis, err := capture.LoadAnalysis(filepath.Join(dir, "analysis.json"))
	if err != nil {
		t.Fatal(err)
	}
	an := analysis.Analyzer(nil)
	for _, set := range [][]capture.Frame{rec.A1, rec.A2, rec.B1, rec.B2} {
		capture.Analyze(an, set)
	}
	return people{rec: rec, root: root}
}

func newClient(t *testing.T, sim *simtest.Sim) *client.Client {
	t.Helper()
	c, err := client.New(sim.URL, client.Options{
		HTTPClient: &http.Client{Timeout: 5 * time.Minute},
		Roots:      []*x509.Certificate{sim.Root}, AnyMeasurement: true, Now: time.Now, Rand: rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do runs op with frames, answering a fresh challenge; a session lost to a
// restarted enclave (unknown key) is retried with a new attestation, as an
// app would.
func do(ctx context.Context, c *client.Client, op func(*client.Client) capture.Op, frames []capture.Frame) (*client.Result, error) {
	var err error
	for range 3 {
		var r *client.Result
		r, err = capture.Perform(ctx, c, op(c), frames, 60)
		if err == nil || !errors.Is(err, client.ErrUnknownKeyID) {
			return r, err
		}
	}
	return nil, err
}

// doPatient is do for requests that may meet an enclave stopping without
// draining (an image of the old engine on a log that just began to
// migrate): a request lost with its enclave, or answered unavailable, is
// sent again, as an app would, up to five times.
func doPatient(ctx context.Context, c *client.Client, op func(*client.Client) capture.Op, frames []capture.Frame) (*client.Result, error) {
	var err error
	for range 5 {
		var r *client.Result
		r, err = do(ctx, c, op, frames)
		var rej *client.RejectedError
		if err == nil || (errors.As(err, &rej) && rej.Code != wire.CodeUnavailable) {
			return r, err
		}
		time.Sleep(time.Second)
	}
	return nil, err
}

func enroll(c *client.Client) capture.Op { return c.Enroll }
func login(c *client.Client) capture.Op  { return c.Login }
func remove(c *client.Client) capture.Op { return c.Delete }

// control talks to the fleet's control socket.
type control struct {
	h   *http.Client
	dir string
}

func newControl(dataDir string) *control {
	sock := filepath.Join(dataDir, "fleet.sock")
	var d net.Dialer
	return &control{dir: dataDir, h: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", sock) },
	}}}
}

type memberStatus struct {
	Index      int      `json:"index"`
	Ready      bool     `json:"ready"`
	PID        int      `json:"pid"`
	EnclavePID int      `json:"enclave_pid"`
	Restarts   int      `json:"restarts"`
	Args       []string `json:"enclave_args"`
}

func (c *control) members(t *testing.T) []memberStatus {
	t.Helper()
	res, err := c.h.Get("http://fleet/members")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ms []memberStatus
	if err := json.NewDecoder(res.Body).Decode(&ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

func (c *control) replace(t *testing.T, i int, wait bool, args ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"enclave_args": args, "no_wait": !wait})
	res, err := c.h.Post(fmt.Sprintf("http://fleet/members/%d/replace", i), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		t.Fatalf("replace member %d: %d %s", i, res.StatusCode, b.String())
	}
}

// TestFleet runs one fleet of three enclaves through the stories of
// docs/fleet.md, in order: concurrent enrolments, a rolling image upgrade
// under load, an engine migration under load, a foreign image refused.
//
// The fleet starts on dlibresnet, the engine real galleries were built
// with before arcface-fused became the default, and migrates to
// arcface-fused ([oldEngine], [newEngine]).
// The engines of the migration: from the former default to the current one.
const (
	oldEngine = "dlibresnet"
	newEngine = "arcface-fused"
)

func TestFleet(t *testing.T) {
	p := loadPeople(t)
	dir := t.TempDir()
	release := newSigner(t, dir, "release")
	other := newSigner(t, dir, "someone-else")
	imgA, pcrA := image(t, dir, "image-a", "facesign release A", release)
	imgB, pcrB := image(t, dir, "image-b", "facesign release B", release)
	imgC, _ := image(t, dir, "image-c", "facesign release B", other)
	data, err := os.MkdirTemp("", "fs-fleet-") // short: unix sockets live there
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(data)
	sim := simtest.Start(t, simtest.Options{DataDir: data, ReadyTimeout: 8 * time.Minute, Args: []string{
		"--enclaves", "3", "--kms-policy", "signer:" + release.certFile, "--enclave-arg=--eif=" + imgA, "--enclave-arg=--engine=" + oldEngine, "--snapshot-every", "8",
	}})
	ctl := newControl(data)
	ctx := context.Background()
	var idA string
	var entropyA []byte

	t.Run("one identity from concurrent enrolments", func(t *testing.T) {
		const n = 16
		res := make([]*client.Result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				frames := p.rec.A1
				if i%2 == 1 {
					frames = p.rec.A2
				}
				res[i], errs[i] = do(ctx, newClient(t, sim), enroll, frames) // one client (session) each: spread over the enclaves
			})
		}
		wg.Wait()
		news := 0
		ids := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("enrolment %d: %v\n%s", i, errs[i], sim.Log.Tail(4000))
			}
			if res[i].Status == wire.StatusNew {
				news++
			}
			ids[fmt.Sprintf("%s/%x", res[i].UniqueID, res[i].Entropy)] = true
		}
		if news != 1 || len(ids) != 1 {
			t.Fatalf("%d new, %d distinct identities from %d enrolments of one face", news, len(ids), n)
		}
		idA, entropyA = res[0].UniqueID, res[0].Entropy
		served := scrape(t, sim.URL, "facesign_front_requests_total")
		t.Logf("front requests by member: %v", served)
	})

	t.Run("rolling upgrade A to B under load", func(t *testing.T) {
		if idA == "" {
			t.Fatal("needs the enrolment above, which failed")
		}
		var stop atomic.Bool
		var notReady, samples atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() { // the front must answer throughout
			for !stop.Load() {
				samples.Add(1)
				if res, err := http.Get(sim.URL + "/readyz"); err != nil || res.StatusCode != 200 {
					notReady.Add(1)
				} else {
					res.Body.Close()
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		var mu sync.Mutex
		var answered int
		var failures []error
		for w := range 2 {
			wg.Go(func() {
				c := newClient(t, sim)
				for !stop.Load() {
					frames := [][]capture.Frame{p.rec.A1, p.rec.A2}[w]
					r, err := do(ctx, c, login, frames)
					mu.Lock()
					switch {
					case err != nil:
						failures = append(failures, err)
					case r.Status != wire.StatusExisting || r.UniqueID != idA || !bytes.Equal(r.Entropy, entropyA):
						failures = append(failures, fmt.Errorf("login answered %s %s", r.Status, r.UniqueID))
					default:
						answered++
					}
					mu.Unlock()
				}
			})
		}
		for i := range 3 {
			ctl.replace(t, i, true, "--eif="+imgB, "--engine="+oldEngine)
			t.Logf("member %d now runs image B", i)
		}
		stop.Store(true)
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d requests failed during the roll (first: %v)", len(failures), failures[0])
		}
		if notReady.Load() > 0 {
			t.Fatalf("the front was not ready in %d of %d checks during the roll", notReady.Load(), samples.Load())
		}
		if answered == 0 {
			t.Fatal("no login was answered during the roll")
		}
		t.Logf("%d logins answered during the roll, front ready in all %d checks", answered, samples.Load())
		c := newClient(t, sim)
		for range 6 {
			a, err := c.Attest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Document.PCRs[0], pcrB) || bytes.Equal(pcrA, pcrB) {
				t.Fatalf("an enclave still attests PCR0 %x after the roll", a.Document.PCRs[0])
			}
		}
		r, err := do(ctx, c, login, p.rec.A2)
		if err != nil || r.UniqueID != idA {
			t.Fatalf("A after the roll: %v %v", r, err)
		}
	})

	var idB string
	t.Run("engine migration dlibresnet to arcface-fused under load", func(t *testing.T) {
		if idA == "" {
			t.Fatal("needs the enrolment above, which failed")
		}
		c := newClient(t, sim)
		r, err := doPatient(ctx, c, enroll, p.rec.B1)
		if err != nil || r.Status != wire.StatusNew {
			t.Fatalf("B enrols: %v %v", r, err)
		}
		idB = r.UniqueID
		// Start: roll every member to image B running both engines, while
		// A keeps logging in (the old engine finds A; A gets a
		// new-engine vector).
		stop, wait := load(t, sim, p.rec.A1, idA)
		for i := range 3 {
			ctl.replace(t, i, true, "--eif="+imgB, "--engine="+oldEngine, "--next-engine="+newEngine)
			t.Logf("member %d runs both engines", i)
		}
		stop()
		if answered := wait(); answered == 0 {
			t.Fatal("no login answered while the migration started")
		}
		a, err := c.Attest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := a.Binding.Policy.Migration; m == nil || m.Engine != newEngine || a.Binding.Policy.Engine != oldEngine {
			t.Fatalf("the attested policy during the migration: %+v", a.Binding.Policy)
		}
		if r, err := doPatient(ctx, c, login, p.rec.A2); err != nil || r.UniqueID != idA {
			t.Fatalf("A during the migration: %v %v", r, err)
		}
		waitMetric(t, sim.URL, `facesign_enclave_migration_percent{enclave="0"} 50`) // A of A and B
		// A person enrolled during the migration is enrolled under the new
		// engine only: A deletes, enrols again (new under both galleries).
		if r, err := doPatient(ctx, c, remove, p.rec.A1); err != nil || r.Status != wire.StatusDeleted {
			t.Fatalf("A deletes: %v %v", r, err)
		}
		r, err = doPatient(ctx, c, enroll, p.rec.A2)
		if err != nil || r.Status != wire.StatusNew || r.UniqueID == idA {
			t.Fatalf("A enrols again during the migration: %v %v", r, err)
		}
		idA, entropyA = r.UniqueID, r.Entropy
		// End: roll to image B running the new engine alone. B never came
		// back: dropped, counted, and enrols again.
		stop, wait = load(t, sim, p.rec.A1, idA)
		for i := range 3 {
			ctl.replace(t, i, true, "--eif="+imgB, "--engine="+newEngine)
			t.Logf("member %d runs %s", i, newEngine)
		}
		stop()
		if answered := wait(); answered == 0 {
			t.Fatal("no login answered while the migration ended")
		}
		waitMetric(t, sim.URL, `facesign_enclave_migration_dropped{enclave="1"} 1`)
		waitMetric(t, sim.URL, `facesign_enclave_engine{enclave="2",engine="`+newEngine+`",migrating_to=""} 1`)
		c = newClient(t, sim)
		if a, err := c.Attest(ctx); err != nil || a.Binding.Policy.Engine != newEngine || a.Binding.Policy.Migration != nil {
			t.Fatalf("the attested policy after the migration: %v", err)
		}
		if r, err := doPatient(ctx, c, login, p.rec.A2); err != nil || r.UniqueID != idA || !bytes.Equal(r.Entropy, entropyA) {
			t.Fatalf("A after the migration: %v %v", r, err)
		}
		if r, err := doPatient(ctx, c, login, p.rec.B2); err != nil || r.Status != wire.StatusNotFound {
			t.Fatalf("B (dropped) after the migration: %v %v", r, err)
		}
		if r, err := doPatient(ctx, c, enroll, p.rec.B2); err != nil || r.Status != wire.StatusNew || r.UniqueID == idB {
			t.Fatalf("B enrols again: %v %v", r, err)
		}
	})

	t.Run("an image the policy does not name cannot open the state", func(t *testing.T) {
		before := ctl.members(t)[2].Restarts
		ctl.replace(t, 2, false, "--eif="+imgC, "--engine="+newEngine)
		deadline := time.Now().Add(4 * time.Minute)
		for ctl.members(t)[2].Restarts < before+2 {
			if time.Now().After(deadline) {
				t.Fatal("the foreign image's member did not fail its boots")
			}
			if ctl.members(t)[2].Ready {
				t.Fatal("an enclave of a foreign image became ready")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.Contains(sim.Log.String(), "kms: access denied") {
			t.Fatalf("no access denied in the log:\n%s", sim.Log.Tail(3000))
		}
		r, err := doPatient(ctx, newClient(t, sim), login, p.rec.A1)
		if err != nil || r.UniqueID != idA {
			t.Fatalf("the other enclaves stopped answering: %v %v", r, err)
		}
		ctl.replace(t, 2, true, "--eif="+imgB, "--engine="+newEngine)
	})
}

// scrape returns the samples of one metric on the front's /metrics.
func scrape(t *testing.T, url, name string) []string {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return out
}

// load runs two workers logging person frames in through the front until
// stop; wait returns how many logins were answered with id. A login that
// fails after doPatient's retries fails the test.
func load(t *testing.T, sim *simtest.Sim, frames []capture.Frame, id string) (stop func(), wait func() int) {
	t.Helper()
	var halt atomic.Bool
	var answered atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			c := newClient(t, sim)
			for !halt.Load() {
				r, err := doPatient(context.Background(), c, login, frames)
				switch {
				case err != nil:
					t.Errorf("a login was never answered: %v", err)
					return
				case r.UniqueID != id:
					t.Errorf("login answered %s %s, want %s", r.Status, r.UniqueID, id)
					return
				}
				answered.Add(1)
			}
		})
	}
	return func() { halt.Store(true) }, func() int { wg.Wait(); return int(answered.Load()) }
}

// waitMetric waits until the front's /metrics holds the sample line.
func waitMetric(t *testing.T, url, line string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := http.Get(url + "/metrics")
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			res.Body.Close()
			if strings.Contains(b.String(), line) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics never showed %q:\n%s", line, b.String())
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}
