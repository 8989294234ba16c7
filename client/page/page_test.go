package page

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/wire"
)

// emptyModule is the smallest valid WebAssembly module (magic, version 1).
var emptyModule = []byte{0, 'a', 's', 'm', 1, 0, 0, 0}

func wasmExec(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", WASMExecName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testRoot = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not parsed by the page package")})

func simSite(t *testing.T) *Site {
	t.Helper()
	s, err := New(Assets{WASM: emptyModule, WASMExec: wasmExec(t)}, Config{Simulator: true, RootsPEM: testRoot})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServe(t *testing.T) {
	s := simSite(t)
	res := get(t, s, "GET", "/")
	index, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("index: %d %v", res.StatusCode, res.Header)
	}
	// Every asset the page names is served under its content hash.
	refs := regexp.MustCompile(`assets/([a-z_]+)\.([0-9a-f]{16})\.([a-z]+)`).FindAllStringSubmatch(string(index), -1)
	if len(refs) != 7 {
		t.Fatalf("index references %d assets, want 7: %q", len(refs), refs)
	}
	types := map[string]string{"svg": "image/svg+xml", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "json": "application/json", "wasm": "application/wasm"}
	for _, m := range refs {
		res := get(t, s, "GET", "/"+m[0])
		body, _ := io.ReadAll(res.Body)
		sum := sha256.Sum256(body)
		if res.StatusCode != 200 || hex.EncodeToString(sum[:8]) != m[2] {
			t.Errorf("%s: %d, content hash %x", m[0], res.StatusCode, sum[:8])
		}
		if got := res.Header.Get("Content-Type"); got != types[m[3]] {
			t.Errorf("%s: Content-Type %q", m[0], got)
		}
		if res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || res.Header.Get("ETag") != `"`+m[2]+`"` {
			t.Errorf("%s: caching %v", m[0], res.Header)
		}
		// Gzip when asked, the same bytes inside.
		gzres := get(t, s, "GET", "/"+m[0], "Accept-Encoding", "br, gzip;q=0.8")
		zr, err := gzip.NewReader(gzres.Body)
		if err != nil || gzres.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: gzip %v %v", m[0], err, gzres.Header)
		}
		plain, _ := io.ReadAll(zr)
		if !bytes.Equal(plain, body) {
			t.Errorf("%s: gzipped body differs", m[0])
		}
		if res := get(t, s, "GET", "/"+m[0], "If-None-Match", `"`+m[2]+`"`); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match → %d", m[0], res.StatusCode)
		}
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/nope.js", 404},
		{"GET", "/assets/page.js", 404}, // only hashed names
		{"POST", "/", 405},
		{"HEAD", "/config.json", 200},
		{"GET", "/index.html", 200},
	} {
		res := get(t, s, tc.method, tc.path)
		if res.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, res.StatusCode, tc.want)
		}
		// Security headers on every answer, errors included.
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
		if pp := res.Header.Get("Permissions-Policy"); !strings.Contains(pp, "camera=(self)") || !strings.Contains(pp, "microphone=()") {
			t.Errorf("%s: Permissions-Policy %q", tc.path, pp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", tc.path, res.Header)
		}
	}
	// The page holds no inline script or style: CSP would block it.
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style=|onclick=|javascript:`).Match(index) {
		t.Error("index.html has inline script or style")
	}
	var cfg configJSON
	if err := json.NewDecoder(get(t, s, "GET", "/config.json").Body).Decode(&cfg); err != nil || !cfg.Simulator || len(cfg.RootsPEM) != 1 || cfg.API != "" {
		t.Errorf("config.json: %+v %v", cfg, err)
	}
}

func TestConfig(t *testing.T) {
	a := Assets{WASM: emptyModule, WASMExec: wasmExec(t)}
	pcr := bytes.Repeat([]byte{7}, 48)
	tests := []struct {
		name string
		c    Config
		err  error
	}{
		{"production without pins", Config{}, ErrConfig},
		{"short PCR", Config{PCRs: map[int][]byte{0: pcr[:10]}}, ErrConfig},
		{"PCR index", Config{PCRs: map[int][]byte{40: pcr}}, ErrConfig},
		{"simulator root in production", Config{PCRs: map[int][]byte{0: pcr}, RootsPEM: testRoot}, ErrConfig},
		{"simulator without root", Config{Simulator: true}, ErrConfig},
		{"bad API", Config{Simulator: true, RootsPEM: testRoot, API: "ftp://x"}, ErrConfig},
		{"API with query", Config{Simulator: true, RootsPEM: testRoot, API: "https://x/?a=b"}, ErrConfig},
		{"policy hash", Config{PCRs: map[int][]byte{0: pcr}, PolicyHash: []byte{1}}, ErrConfig},
		{"fetch root without simulator", Config{PCRs: map[int][]byte{0: pcr}, FetchSimulatorRoot: true}, ErrConfig},
		{"fetch root and a root", Config{Simulator: true, RootsPEM: testRoot, FetchSimulatorRoot: true}, ErrConfig},
		{"simulator fetching its root", Config{Simulator: true, FetchSimulatorRoot: true, API: "http://127.0.0.1:8080"}, nil},
		{"step timeout too short", Config{Simulator: true, RootsPEM: testRoot, StepTimeout: time.Second}, ErrConfig},
		{"step timeout too long", Config{Simulator: true, RootsPEM: testRoot, StepTimeout: time.Hour}, ErrConfig},
		{"step timeout", Config{Simulator: true, RootsPEM: testRoot, StepTimeout: 2 * time.Minute}, nil},
		{"production", Config{PCRs: map[int][]byte{0: pcr, 1: pcr, 2: pcr}, API: "https://api.example"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(a, tc.c)
			if !errors.Is(err, tc.err) || (err == nil) != (s != nil) {
				t.Fatalf("New: %v, want %v", err, tc.err)
			}
		})
	}
	if _, err := New(Assets{WASMExec: a.WASMExec}, Config{Simulator: true, RootsPEM: testRoot}); !errors.Is(err, ErrAssets) {
		t.Fatalf("no wasm: %v", err)
	}
	if _, err := LoadAssets(t.TempDir()); !errors.Is(err, ErrAssets) {
		t.Fatalf("empty dir: %v", err)
	}
	// A simulator page built before the simulator runs: it names no root
	// and fetches the API's.
	fs, err := New(a, Config{Simulator: true, FetchSimulatorRoot: true, API: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	var fcfg configJSON
	json.NewDecoder(get(t, fs, "GET", "/config.json").Body).Decode(&fcfg)
	if !fcfg.Simulator || !fcfg.FetchRoot || len(fcfg.RootsPEM) != 0 || fcfg.API != "http://127.0.0.1:8080" {
		t.Errorf("config %+v", fcfg)
	}
	// Another origin for the API: named in connect-src, and nothing else.
	s, err := New(a, Config{PCRs: map[int][]byte{0: pcr}, API: "https://api.example/"})
	if err != nil {
		t.Fatal(err)
	}
	res := get(t, s, "GET", "/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example;") {
		t.Errorf("CSP %q", csp)
	}
	var cfg configJSON
	json.NewDecoder(get(t, s, "GET", "/config.json").Body).Decode(&cfg)
	if cfg.Simulator || cfg.API != "https://api.example" || cfg.PCRs["0"] != hex.EncodeToString(pcr) || len(cfg.RootsPEM) != 0 || cfg.StepMS != DefaultStepTimeout.Milliseconds() {
		t.Errorf("config %+v", cfg)
	}
}

func TestWriteDir(t *testing.T) {
	s := simSite(t)
	dir := t.TempDir()
	if err := s.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Paths() {
		name := strings.TrimPrefix(p, "/")
		if name == "" {
			name = "index.html"
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := io.ReadAll(get(t, s, "GET", p).Body); !bytes.Equal(b, want) {
			t.Errorf("%s differs from what the server serves", name)
		}
	}
	hdr, err := os.ReadFile(filepath.Join(dir, "_headers"))
	if err != nil || !bytes.Contains(hdr, []byte("Content-Security-Policy: default-src 'none'")) || !bytes.Contains(hdr, []byte("immutable")) {
		t.Fatalf("_headers: %v\n%s", err, hdr)
	}
	plain, gz := s.Weight()
	if plain <= 0 || gz <= 0 || gz >= plain {
		t.Errorf("weight %d plain, %d gzipped", plain, gz)
	}
}

// TestMessages checks that the page has a sentence and a next step for
// every code a person can meet: each stable service code, each guidance
// code and each action.
func TestMessages(t *testing.T) {
	b, err := fs.ReadFile(static, "static/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Guide   map[string]string
		Action  map[string]string
		Status  map[string]string
		Refusal map[string][]string
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	codes := []wire.Code{wire.CodeBadEnvelope, wire.CodeUnknownKeyID, wire.CodeUnsupportedSuite, wire.CodeDecryptFailed,
		wire.CodeBodyTooLarge, wire.CodeBadRequest, wire.CodeChallengeExpired, wire.CodeChallengeUnknown, wire.CodeChallengeReused,
		wire.CodeTooManyFrames, wire.CodeTooFewFrames, wire.CodeFrameTooLarge, wire.CodeFrameUndecodable, wire.CodeTooManyPixels,
		wire.CodeNoFace, wire.CodeSeveralFaces, wire.CodeFaceTooSmall, wire.CodeLivenessFailed, wire.CodeWrongActions,
		wire.CodeAmbiguousMatch, wire.CodeNotFound, wire.CodeRateLimited, wire.CodeInternal, wire.CodeUnavailable}
	var want []string
	for _, c := range codes {
		want = append(want, string(c))
	}
	want = append(want, "no_route", "origin_not_allowed", "client_error", "bad_argument", "capture_timeout",
		"attestation_failed", "camera_denied", "camera_missing", "camera_busy", "camera_insecure")
	for _, c := range want {
		if r := m.Refusal[c]; len(r) != 2 || r[0] == "" || r[1] == "" {
			t.Errorf("refusal %q: %q, want a sentence and a next step", c, r)
		}
	}
	if got := m.Refusal["liveness_failed"]; got[0]+" "+got[1] != "We could not confirm a live person. Try again in good light, and follow the prompts." {
		t.Errorf("liveness_failed reads %q", got)
	}
	for _, g := range []capture.GuideCode{capture.GuideNoFace, capture.GuideSeveralFaces, capture.GuideMoveCloser, capture.GuideMoveBack,
		capture.GuideCentre, capture.GuideMoreLight, capture.GuideLookAtCamera, capture.GuideCloseMouth, capture.GuideTurnAside, capture.GuideTurnMore, capture.GuideDone} {
		if m.Guide[string(g)] == "" {
			t.Errorf("no guidance text for %q", g)
		}
	}
	for _, a := range []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth, wire.ActionFaceFront} {
		if m.Action[a] == "" {
			t.Errorf("no prompt for action %q", a)
		}
	}
	for _, s := range []string{"new", "existing", "login_existing", "deleted", "login_not_found", "delete_not_found"} {
		if m.Status[s] == "" {
			t.Errorf("no text for status %q", s)
		}
	}
}
