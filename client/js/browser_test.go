//go:build !js

package js_test

// TestBrowser runs the WebAssembly SDK in a real browser (headless
// Chromium, driven over the DevTools protocol by chromedp) against the real
// two-process simulator: the page (testdata/browser) loads facesign.wasm,
// verifies the enclave's attestation, enrols a person from a real recording,
// finds them again, logs in, derives the wallet, and sees a printed photo
// refused. The Go side checks every answer against Go's own view: the same
// wallet from the entropy, a receipt an issuer accepts, and — playing the
// curious parent — that nothing the browser sent or received in the clear
// carries the unique ID or the entropy.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/client/wallet"
	"github.com/facesign/facesign/credential"
	"github.com/facesign/facesign/internal/simtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	simtest.Cleanup()
	os.Exit(code)
}

// browserPath finds Chromium; FACESIGN_CHROMIUM overrides.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FACESIGN_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install it (Debian: apt-get install chromium; .ci/run does) or set FACESIGN_CHROMIUM")
	return ""
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func goBuild(t *testing.T, dir, out, pkg string, env ...string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// clearText keeps every body that crossed the proxy, i.e. what the parent
// (and anyone on the path) sees.
type clearText struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *clearText) add(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bodies = append(c.bodies, b)
}

func (c *clearText) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		c.add(append([]byte(req.URL.String()+"\n"), b...))
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.add(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// story is what the page reports.
type story struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Out   struct {
		Untrusted   *refusal `json:"untrusted"`
		Attestation struct {
			ModuleID   string `json:"moduleId"`
			PCR0       string `json:"pcr0"`
			Engine     string `json:"engine"`
			PolicyHash string `json:"policyHash"`
		} `json:"attestation"`
		Enrol, Again, Login result
		Wallet              struct {
			Mnemonic        string `json:"mnemonic"`
			FaceSignAddress string `json:"facesignAddress"`
			EVMAddress      string `json:"evmAddress"`
			X25519PublicKey string `json:"x25519PublicKey"`
			Signature       string `json:"signature"`
		} `json:"wallet"`
		Photo, Reused, BadArgument *refusal
	} `json:"out"`
}

type result struct {
	Status        string `json:"status"`
	UniqueID      string `json:"uniqueId"`
	Entropy       string `json:"entropy"`
	SignedReceipt string `json:"signedReceipt"`
	Attestation   string `json:"attestation"`
}

type refusal struct {
	Name    string `json:"name"`
	Code    string `json:"code"`
	Sealed  bool   `json:"sealed"`
	Message string `json:"message"`
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test: builds the stack and runs Chromium (not in -short)")
	}
	chromium := browserPath(t)
	mod := filepath.Dir(goEnv(t, "GOMOD"))
	tmp := t.TempDir()
	goBuild(t, mod, filepath.Join(tmp, "facesign.wasm"), "./cmd/facesign-wasm", "GOOS=js", "GOARCH=wasm")
	wasmExec, err := os.ReadFile(filepath.Join(goEnv(t, "GOROOT"), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(filepath.Join(tmp, "facesign.wasm"))
	if err != nil {
		t.Fatal(err)
	}

	// Two origins, as in production: the app's (the page and the SDK) and
	// the API's (the parent, allowed to serve the app's pages by CORS). A
	// recording relay in front of the parent keeps the clear text.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sim := simtest.Start(t, simtest.Options{Args: []string{"--cors-origin", srv.URL}})
	simURL, root := sim.URL, sim.Root
	seen := &clearText{}
	up, _ := url.Parse(simURL)
	proxy := httputil.NewSingleHostReverseProxy(up)
	proxy.Transport = seen
	api := httptest.NewServer(proxy)
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})

	// Go's own view of the enclave, for the recordings' engine check and
	// the issuer's PCR pins.
	gc, err := client.New(simURL, client.Options{Roots: []*x509.Certificate{root}, AnyMeasurement: true, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	att, err := gc.Attest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recDir := filepath.Join(mod, "client", "testdata", "liveness")
	recs, err := demo.LoadRecordings(recDir)
	if err != nil {
		t.Fatal(err)
	}
	analysis, err := capture.LoadAnalysis(filepath.Join(recDir, "analysis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := analysis.For(att.Binding.Policy.Engine, att.Binding.Policy.ModelSHA256); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]capture.Frame{"A1": recs.A1, "A2": recs.A2, "B1": recs.B1, "B2": recs.B2, "Photo": recs.Photo}
	for _, set := range byName {
		capture.Analyze(analysis.Analyzer(nil), set)
	}

	page := filepath.Join(mod, "client", "js", "testdata", "browser")
	mux.HandleFunc("GET /test/api", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, api.URL) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, filepath.Join(page, "index.html")) })
	mux.HandleFunc("GET /story.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, filepath.Join(page, "story.js")) })
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(wasmExec)
	})
	mux.HandleFunc("GET /facesign.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		w.Write(wasm)
	})
	mux.HandleFunc("GET /test/root.pem", func(w http.ResponseWriter, r *http.Request) { w.Write(rootPEM) })
	mux.HandleFunc("POST /test/frames", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Recording            string
			Actions              []string
			MinFrames, MaxFrames int
			All                  bool
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec, ok := byName[q.Recording]
		if !ok {
			http.Error(w, "no such recording", http.StatusNotFound)
			return
		}
		var frames [][]byte
		if q.All {
			for _, f := range rec[:min(len(rec), q.MaxFrames)] {
				frames = append(frames, f.Data)
			}
		} else {
			for _, th := range []capture.Thresholds{capture.DefaultThresholds, capture.RelaxedThresholds} {
				if frames, err = capture.Pick(rec, q.Actions, q.MinFrames, q.MaxFrames, th); err == nil {
					break
				}
			}
			if errors.Is(err, capture.ErrCannotPerform) {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		enc := make([]string, len(frames))
		for i, f := range frames {
			enc[i] = base64.StdEncoding.EncodeToString(f)
		}
		json.NewEncoder(w).Encode(enc)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	raw, err := chromedp.Run(bctx, chromedp.Poll[string]("window.__story", chromedp.WithPollingTimeout(15*time.Minute)))
	pageLog, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("log").textContent`))
	if err != nil {
		t.Fatalf("browser: %v\npage log:\n%s", err, pageLog)
	}
	t.Logf("page log:\n%s", pageLog)
	var s story
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("page result %q: %v", raw, err)
	}
	if !s.OK {
		t.Fatalf("the page failed: %s\nlog:\n%s", s.Error, pageLog)
	}
	o := s.Out

	t.Run("untrusted root refused", func(t *testing.T) {
		if o.Untrusted == nil || o.Untrusted.Code != "client_error" || !strings.Contains(o.Untrusted.Message, "attest") {
			t.Errorf("attestation under the AWS root alone: %+v, want a client_error from attest", o.Untrusted)
		}
	})
	t.Run("attestation", func(t *testing.T) {
		if o.Attestation.PCR0 != hex.EncodeToString(att.Document.PCRs[0]) || o.Attestation.Engine != att.Binding.Policy.Engine ||
			o.Attestation.PolicyHash != hex.EncodeToString(att.PolicyHash[:]) {
			t.Errorf("the page saw %+v; Go sees PCR0 %x, engine %s, policy %x", o.Attestation, att.Document.PCRs[0], att.Binding.Policy.Engine, att.PolicyHash)
		}
	})
	t.Run("one person, one identity", func(t *testing.T) {
		if o.Enrol.Status != "new" || o.Again.Status != "existing" || o.Login.Status != "existing" {
			t.Fatalf("statuses %s, %s, %s; want new, existing, existing", o.Enrol.Status, o.Again.Status, o.Login.Status)
		}
		if o.Enrol.UniqueID == "" || o.Again.UniqueID != o.Enrol.UniqueID || o.Login.UniqueID != o.Enrol.UniqueID {
			t.Errorf("unique IDs %q, %q, %q differ", o.Enrol.UniqueID, o.Again.UniqueID, o.Login.UniqueID)
		}
		if len(o.Enrol.Entropy) != 64 || o.Again.Entropy != o.Enrol.Entropy || o.Login.Entropy != o.Enrol.Entropy {
			t.Errorf("entropy differs between answers or is not 32 bytes")
		}
	})
	entropy, err := hex.DecodeString(o.Enrol.Entropy)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("wallet equals Go's", func(t *testing.T) {
		w, err := wallet.FromEntropy(entropy)
		if err != nil {
			t.Fatal(err)
		}
		p := w.Public()
		if o.Wallet.Mnemonic != w.Mnemonic() || o.Wallet.FaceSignAddress != p.FaceSignAddress ||
			o.Wallet.EVMAddress != p.EVMAddress || o.Wallet.X25519PublicKey != p.X25519PublicKey {
			t.Errorf("browser wallet %+v differs from Go's %+v", o.Wallet, p)
		}
		sig, err := hex.DecodeString(strings.TrimPrefix(o.Wallet.Signature, "0x"))
		if err != nil {
			t.Fatal(err)
		}
		if addr, err := wallet.RecoverPersonal([]byte("facesign browser test"), sig); err != nil || wallet.ChecksumAddress(addr) != p.EVMAddress {
			t.Errorf("the browser's EIP-191 signature recovers to %x (%v), want %s", addr, err, p.EVMAddress)
		}
	})
	t.Run("issuer accepts the browser's evidence", func(t *testing.T) {
		receipt, _ := base64.StdEncoding.DecodeString(o.Enrol.SignedReceipt)
		attDoc, _ := base64.StdEncoding.DecodeString(o.Enrol.Attestation)
		ev, err := credential.ParseEvidence(receipt, attDoc)
		if err != nil {
			t.Fatal(err)
		}
		pins := map[int][]byte{0: att.Document.PCRs[0], 1: att.Document.PCRs[1], 2: att.Document.PCRs[2]}
		rc, err := credential.VerifyEvidence(*ev, credential.EvidencePolicy{
			Attestation: attest.VerifyOptions{Roots: []*x509.Certificate{root}, CurrentTime: time.Now(), PCRs: pins},
			Now:         time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if rc.UniqueID != o.Enrol.UniqueID || string(rc.Status) != "new" {
			t.Errorf("receipt %+v, want %s new", rc, o.Enrol.UniqueID)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		if o.Photo == nil || !o.Photo.Sealed || o.Photo.Code == "" || o.Photo.Name != "FaceSignError" {
			t.Errorf("printed photo: %+v, want a sealed refusal", o.Photo)
		}
		if o.Photo != nil {
			t.Logf("printed photo refused by the enclave: %s", o.Photo.Code)
		}
		if o.Reused == nil || o.Reused.Code != "bad_argument" {
			t.Errorf("reused challenge: %+v, want bad_argument", o.Reused)
		}
		if o.BadArgument == nil || o.BadArgument.Code != "bad_argument" {
			t.Errorf("unknown challenge: %+v, want bad_argument", o.BadArgument)
		}
	})
	t.Run("curious parent sees no identity", func(t *testing.T) {
		seen.mu.Lock()
		defer seen.mu.Unlock()
		if len(seen.bodies) == 0 {
			t.Fatal("nothing crossed the proxy")
		}
		secrets := map[string][]byte{
			"entropy": entropy, "entropy (hex)": []byte(o.Enrol.Entropy),
			"unique ID": []byte(o.Enrol.UniqueID), "mnemonic": []byte(o.Wallet.Mnemonic),
		}
		if u, err := hex.DecodeString(strings.ReplaceAll(o.Enrol.UniqueID, "-", "")); err == nil && len(u) == 16 {
			secrets["unique ID (bytes)"] = u
		}
		for i, b := range seen.bodies {
			for name, s := range secrets {
				if bytes.Contains(b, s) {
					t.Errorf("body %d that crossed the parent contains the %s", i, name)
				}
			}
		}
		t.Logf("%d bodies crossed the parent; none carries the ID, the entropy or the mnemonic", len(seen.bodies))
	})
	t.Run("one /metrics for the parent and its sealed-state services", func(t *testing.T) {
		res, err := http.Get(simURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, m := range []string{"facesign_parent_requests_total", "facesign_parent_egress_connections_total",
			"facesign_parent_egress_connections_active", "facesign_parent_credentials_requests_total"} {
			if !bytes.Contains(b, []byte(m)) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	})
	t.Run("CORS: the parent serves only the allowed origin", func(t *testing.T) {
		for origin, want := range map[string]int{srv.URL: http.StatusNoContent, "http://evil.example": http.StatusForbidden} {
			req, _ := http.NewRequest(http.MethodOptions, simURL+"/v1/enroll", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("preflight from %s: %d, want %d", origin, res.StatusCode, want)
			}
		}
	})
}
