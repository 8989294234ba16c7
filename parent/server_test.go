package parent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	addr "github.com/facesign/facesign/internal/endpoint"
	"github.com/facesign/facesign/internal/syncbuf"
)

// fakeEnclave is a stand-in for the enclave's HTTP API on a unix socket: it
// records what the parent forwards and answers with canned bytes. The real
// enclave is exercised by the end-to-end tests in package client.
type fakeEnclave struct {
	mu       sync.Mutex
	got      []recorded
	ready    bool
	answer   []byte
	status   int
	ctype    string
	listener net.Listener
}

type recorded struct {
	Method, Path, Query, ContentType, RequestID string
	Body                                        []byte
}

func startFakeEnclave(t *testing.T) (*fakeEnclave, Dialer) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "enclave.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fe := &fakeEnclave{ready: true, answer: []byte("sealed-answer"), status: 200, ctype: MediaOHTTPRes, listener: ln}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fe.mu.Lock()
		defer fe.mu.Unlock()
		if r.URL.Path == "/readyz" {
			if !fe.ready {
				w.WriteHeader(503)
				return
			}
			w.WriteHeader(200)
			return
		}
		fe.got = append(fe.got, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("X-Request-ID"), body})
		w.Header().Set("Content-Type", fe.ctype)
		w.WriteHeader(fe.status)
		w.Write(fe.answer)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return fe, UnixDialer{Path: sock}
}

func (fe *fakeEnclave) set(status int, ctype string, answer []byte) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	fe.status, fe.ctype, fe.answer = status, ctype, answer
}

func (fe *fakeEnclave) calls() []recorded {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	return slices.Clone(fe.got)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestServer(t *testing.T, d Dialer, mod func(*Config)) (*Server, *syncbuf.Buffer, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	var logs syncbuf.Buffer // the server logs from its handlers' goroutines
	cfg := Config{
		Enclave: d,
		Now:     clock.Now,
		Rand:    rand.Reader,
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, &logs, clock
}

func do(t *testing.T, h http.Handler, method, target string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if body == nil {
		r = httptest.NewRequest(method, target, nil)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != MediaJSON {
		t.Fatalf("error Content-Type %q, want %q (body %q)", ct, MediaJSON, w.Body.String())
	}
	var eb ErrorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("error body %q lacks code or message", w.Body.String())
	}
	return eb.Error.Code
}

var ohttp = map[string]string{"Content-Type": MediaOHTTPReq}

func TestNewRequiresClockRandAndDialer(t *testing.T) {
	_, d := startFakeEnclave(t)
	for name, cfg := range map[string]Config{
		"no dialer": {Now: time.Now, Rand: rand.Reader},
		"no clock":  {Enclave: d, Rand: rand.Reader},
		"no rand":   {Enclave: d, Now: time.Now},
		"no burst":  {Enclave: d, Now: time.Now, Rand: rand.Reader, RatePerSecond: 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
}

func TestForwardsSealedBytesVerbatim(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	h := s.Handler()
	for _, route := range []string{"/v1/challenge", "/v1/enroll", "/v1/login", "/v1/delete"} {
		t.Run(route, func(t *testing.T) {
			body := make([]byte, 4096)
			rand.Read(body)
			fe.set(200, MediaOHTTPRes, []byte("answer for "+route))
			w := do(t, h, "POST", route, body, ohttp)
			if w.Code != 200 || w.Header().Get("Content-Type") != MediaOHTTPRes || w.Body.String() != string(fe.answer) {
				t.Fatalf("got %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
			}
			c := fe.calls()
			last := c[len(c)-1]
			if last.Method != "POST" || last.Path != route || !bytes.Equal(last.Body, body) || last.ContentType != MediaOHTTPReq {
				t.Fatalf("enclave got %s %s %q (%d bytes)", last.Method, last.Path, last.ContentType, len(last.Body))
			}
			if last.RequestID == "" || last.RequestID != w.Header().Get("X-Request-ID") {
				t.Fatalf("request id not propagated: enclave %q, response %q", last.RequestID, w.Header().Get("X-Request-ID"))
			}
		})
	}
}

func TestEnclaveErrorsPassThrough(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	fe.set(400, MediaJSON, []byte(`{"error":{"code":"unknown_key_id","message":"no such key"}}`))
	w := do(t, s.Handler(), "POST", "/v1/enroll", []byte{1, 2, 3}, ohttp)
	if w.Code != 400 || errorCode(t, w) != "unknown_key_id" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	// An enclave answer of an unexpected media type is not relayed.
	fe.set(200, "text/html", []byte("<html>"))
	w = do(t, s.Handler(), "POST", "/v1/enroll", []byte{1, 2, 3}, ohttp)
	if w.Code != http.StatusBadGateway || errorCode(t, w) != CodeInternal {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func TestBadRequests(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, func(c *Config) { c.MaxBodyBytes = 1000 })
	h := s.Handler()
	big := make([]byte, 1001)
	cases := []struct {
		name, method, target string
		body                 []byte
		hdr                  map[string]string
		status               int
		code                 string
	}{
		{"no content type", "POST", "/v1/enroll", []byte{1}, nil, 415, CodeBadRequest},
		{"wrong content type", "POST", "/v1/enroll", []byte{1}, map[string]string{"Content-Type": "application/json"}, 415, CodeBadRequest},
		{"empty body", "POST", "/v1/login", nil, ohttp, 400, CodeBadRequest},
		{"query on sealed route", "POST", "/v1/login?x=1", []byte{1}, ohttp, 400, CodeBadRequest},
		{"too large", "POST", "/v1/enroll", big, ohttp, 413, CodeBodyTooLarge},
		{"GET on sealed route", "GET", "/v1/enroll", nil, nil, 405, CodeNoRoute},
		{"unknown route", "GET", "/v2/whatever", nil, nil, 404, CodeNoRoute},
		{"attestation without nonce", "GET", "/v1/attestation", nil, nil, 400, CodeBadRequest},
		{"attestation bad hex", "GET", "/v1/attestation?nonce=zz", nil, nil, 400, CodeBadRequest},
		{"attestation nonce too long", "GET", "/v1/attestation?nonce=" + strings.Repeat("ab", 65), nil, nil, 400, CodeBadRequest},
		{"attestation extra query", "GET", "/v1/attestation?nonce=ab&x=1", nil, nil, 400, CodeBadRequest},
		{"simulator root in production", "GET", "/v1/simulator/root.pem", nil, nil, 404, CodeNoRoute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fe.calls())
			w := do(t, h, tc.method, tc.target, tc.body, tc.hdr)
			if w.Code != tc.status || errorCode(t, w) != tc.code {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body.String(), tc.status, tc.code)
			}
			if n := len(fe.calls()); n != before {
				t.Fatalf("a refused request reached the enclave")
			}
			if w.Header().Get("X-Request-ID") == "" {
				t.Fatal("no X-Request-ID on an error")
			}
		})
	}
	t.Run("405 names the allowed methods", func(t *testing.T) {
		w := do(t, h, "DELETE", "/v1/attestation", nil, nil)
		if w.Header().Get("Allow") != "GET" {
			t.Fatalf("Allow %q", w.Header().Get("Allow"))
		}
	})
}

// TestBodyLimitBeforeRead checks a declared Content-Length over the limit is
// refused without reading the body, and an undeclared (chunked) one is cut
// off at the limit.
func TestBodyLimitBeforeRead(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, func(c *Config) { c.MaxBodyBytes = 1 << 10 })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	t.Run("declared", func(t *testing.T) {
		body := &countingReader{n: 10 << 20}
		r := httptest.NewRequest("POST", "/v1/enroll", body)
		r.ContentLength = body.n
		r.Header.Set("Content-Type", MediaOHTTPReq)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != 413 || errorCode(t, w) != CodeBodyTooLarge {
			t.Fatalf("status %d", w.Code)
		}
		if n := body.read.Load(); n != 0 {
			t.Fatalf("server read %d bytes of a body it should have refused unread", n)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/enroll", io.MultiReader(bytes.NewReader(make([]byte, 2<<10))))
		req.ContentLength = -1
		req.Header.Set("Content-Type", MediaOHTTPReq)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	if len(fe.calls()) != 0 {
		t.Fatal("an oversized request reached the enclave")
	}
}

type countingReader struct {
	n    int64
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	r := c.read.Load()
	if r >= c.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), c.n-r)
	c.read.Add(k)
	return int(k), nil
}

func TestRateLimit(t *testing.T) {
	_, d := startFakeEnclave(t)
	s, _, clock := newTestServer(t, d, func(c *Config) { c.RatePerSecond = 1; c.Burst = 2 })
	h := s.Handler()
	from := func(addr, target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const att = "/v1/attestation?nonce=0102"
	for i := range 2 {
		if w := from("192.0.2.1:1000", att); w.Code != 200 {
			t.Fatalf("request %d within burst: %d", i, w.Code)
		}
	}
	w := from("192.0.2.1:1001", att)
	if w.Code != 429 || errorCode(t, w) != CodeRateLimited || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d %q Retry-After %q", w.Code, w.Body.String(), w.Header().Get("Retry-After"))
	}
	if w := from("192.0.2.2:1000", att); w.Code != 200 {
		t.Fatalf("another client was limited: %d", w.Code)
	}
	// Same IPv6 /64 shares a bucket; another /64 does not.
	from("[2001:db8::1]:1", att)
	from("[2001:db8::2]:1", att)
	if w := from("[2001:db8::3]:1", att); w.Code != 429 {
		t.Fatalf("same /64 not limited: %d", w.Code)
	}
	if w := from("[2001:db8:0:1::1]:1", att); w.Code != 200 {
		t.Fatalf("other /64 limited: %d", w.Code)
	}
	// Operations routes are never limited.
	for range 5 {
		if w := from("192.0.2.1:1000", "/healthz"); w.Code != 200 {
			t.Fatalf("healthz limited: %d", w.Code)
		}
	}
	clock.Advance(time.Second)
	if w := from("192.0.2.1:1000", att); w.Code != 200 {
		t.Fatalf("after refill: %d", w.Code)
	}
	if w := from("192.0.2.1:1000", att); w.Code != 429 {
		t.Fatalf("refill gave more than one token: %d", w.Code)
	}
}

func TestRateLimiterTableIsBounded(t *testing.T) {
	l := newRateLimiter(1, 1, 100)
	now := time.Unix(1e9, 0)
	for i := range 10_000 {
		l.allow(clientKey(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)), now)
	}
	if len(l.buckets) > 100 {
		t.Fatalf("%d buckets, limit 100", len(l.buckets))
	}
}

func TestRequestID(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	h := s.Handler()
	cases := []struct{ in, want string }{
		{"", ""},
		{"trace-42.a_b", "trace-42.a_b"},
		{"has space", ""},
		{strings.Repeat("x", 65), ""},
		{"<script>", ""},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		w := do(t, h, "POST", "/v1/challenge", []byte{1}, map[string]string{"Content-Type": MediaOHTTPReq, "X-Request-ID": tc.in})
		got := w.Header().Get("X-Request-ID")
		if tc.want != "" && got != tc.want {
			t.Errorf("in %q: got %q want %q", tc.in, got, tc.want)
		}
		if tc.want == "" {
			if len(got) != 32 || seen[got] {
				t.Errorf("in %q: generated %q is not a fresh 128-bit hex id", tc.in, got)
			}
			if _, err := hex.DecodeString(got); err != nil {
				t.Errorf("generated id %q not hex", got)
			}
			seen[got] = true
		}
		c := fe.calls()
		if c[len(c)-1].RequestID != got {
			t.Errorf("enclave saw request id %q, client %q", c[len(c)-1].RequestID, got)
		}
	}
}

// TestLogsCarryNoSecrets pushes recognisable secrets through every route (in
// bodies, queries, headers, paths, client addresses) and scans the captured
// log lines for any trace of them.
func TestLogsCarryNoSecrets(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, logs, _ := newTestServer(t, d, func(c *Config) { c.RatePerSecond = 100; c.Burst = 1 })
	h := s.Handler()
	secret := []byte("SECRET-frame-vector-entropy-0123456789")
	uid := "7f3c2a1e-uid-should-never-be-logged"
	fe.set(200, MediaOHTTPRes, append([]byte(uid), secret...))
	nonce := hex.EncodeToString([]byte("nonce-secret-xyz"))
	const clientIP = "198.51.100.77"
	send := func(method, target string, body []byte, hdr map[string]string) {
		r := httptest.NewRequest(method, target, bytes.NewReader(body))
		r.RemoteAddr = clientIP + ":5555"
		r.Header.Set("X-Forwarded-For", clientIP)
		r.Header.Set("Authorization", "Bearer "+uid)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for _, route := range []string{"/v1/challenge", "/v1/enroll", "/v1/login", "/v1/delete"} {
		send("POST", route, secret, ohttp)
		send("POST", route, secret, ohttp) // second one is rate limited
	}
	send("GET", "/v1/attestation?nonce="+nonce, nil, nil)
	send("GET", "/"+uid, nil, nil)
	send("POST", "/v1/enroll?"+uid, secret, ohttp)
	send("POST", "/v1/enroll", secret, map[string]string{"Content-Type": "text/" + uid})
	fe.set(500, "text/plain", fe.answer)
	send("POST", "/v1/enroll", secret, ohttp)

	out := logs.String()
	if strings.Count(out, "\n") < 10 {
		t.Fatalf("expected a log line per request, got:\n%s", out)
	}
	for _, bad := range []string{string(secret), hex.EncodeToString(secret), uid, nonce, clientIP, "SECRET", "Bearer"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	// Every line is JSON with only the documented keys.
	allowed := map[string]bool{"time": true, "level": true, "msg": true, "request_id": true, "route": true, "method": true,
		"status": true, "class": true, "bytes_in": true, "bytes_out": true, "duration_ms": true}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line not JSON: %q", line)
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("unexpected log key %q in %s", k, line)
			}
		}
	}
}

func TestReadyz(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	if w := do(t, s.Handler(), "GET", "/readyz", nil, nil); w.Code != 200 {
		t.Fatalf("ready enclave: %d", w.Code)
	}
	fe.mu.Lock()
	fe.ready = false
	fe.mu.Unlock()
	if w := do(t, s.Handler(), "GET", "/readyz", nil, nil); w.Code != 503 || errorCode(t, w) != CodeUnavailable {
		t.Fatalf("unready enclave: %d", w.Code)
	}
	fe.listener.Close()
	s.Close()
	if w := do(t, s.Handler(), "POST", "/v1/enroll", []byte{1}, ohttp); w.Code != 503 || errorCode(t, w) != CodeUnavailable {
		t.Fatalf("unreachable enclave: %d %s", w.Code, w.Body.String())
	}
	if w := do(t, s.Handler(), "GET", "/healthz", nil, nil); w.Code != 200 {
		t.Fatalf("healthz: %d", w.Code)
	}
}

func TestMetricsHoldNoIdentities(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	h := s.Handler()
	fe.set(200, MediaOHTTPRes, []byte("uid-abcdef"))
	do(t, h, "POST", "/v1/enroll", []byte("frames"), ohttp)
	do(t, h, "GET", "/nope/uid-abcdef", nil, nil)
	w := do(t, h, "GET", "/metrics", nil, nil)
	out := w.Body.String()
	if !strings.Contains(out, `facesign_parent_requests_total{class="ok",route="/v1/enroll"} 1`) {
		t.Fatalf("metrics lack the enrol counter:\n%s", out)
	}
	if !strings.Contains(out, `route="unmatched"`) || strings.Contains(out, "uid-abcdef") || strings.Contains(out, "/nope") {
		t.Fatalf("metrics leak a raw path:\n%s", out)
	}
}

// TestOpenAPIDocumentsEveryRoute parses the embedded document and checks its
// paths and methods are exactly the ones the server serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	_, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, func(c *Config) { c.SimulatorRootPEM = []byte("-----BEGIN CERTIFICATE-----\n") })
	w := do(t, s.Handler(), "GET", "/openapi.yaml", nil, nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), OpenAPI) {
		t.Fatalf("GET /openapi.yaml: %d", w.Code)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Info    struct{ Title, Version string }      `yaml:"info"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("not an OpenAPI 3 document: %q %+v", doc.OpenAPI, doc.Info)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s has no responses", key)
			}
			if _, ok := op["operationId"]; !ok {
				t.Errorf("%s has no operationId", key)
			}
		}
	}
	served := map[string]bool{}
	for _, r := range s.Routes() {
		for _, m := range r.Methods {
			served[m+" "+r.Path] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served but not documented: %s", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("documented but not served: %s", k)
		}
	}
	// Every $ref points at something that exists.
	var raw map[string]any
	if err := yaml.Unmarshal(OpenAPI, &raw); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					ref := c.(string)
					if !resolves(raw, ref) {
						t.Errorf("dangling $ref %s", ref)
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(raw)
}

func resolves(doc map[string]any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestSimulatorRootOnlyWhenConfigured(t *testing.T) {
	_, d := startFakeEnclave(t)
	pem := []byte("-----BEGIN CERTIFICATE-----\nsim\n-----END CERTIFICATE-----\n")
	s, _, _ := newTestServer(t, d, func(c *Config) { c.SimulatorRootPEM = pem })
	w := do(t, s.Handler(), "GET", "/v1/simulator/root.pem", nil, nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), pem) || w.Header().Get("X-FaceSign-Warning") == "" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func TestParseEndpoint(t *testing.T) {
	good := []string{"unix:/tmp/x.sock", "tcp:127.0.0.1:5000", "tcp:[::1]:80", "vsock:16:5000", "vsock:3:5001"}
	for _, s := range good {
		e, err := ParseEndpoint(s)
		if err != nil || e.String() != s {
			t.Errorf("%q: %+v %v", s, e, err)
		}
	}
	for _, s := range []string{"", "unix:", "tcp:nohost", "vsock:1", "vsock:x:1", "vsock:1:99999999999", "udp:1.2.3.4:5", "/tmp/x"} {
		if _, err := ParseEndpoint(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestDialersReachAListener(t *testing.T) {
	for _, ep := range []string{"unix:" + filepath.Join(t.TempDir(), "s.sock"), "tcp:127.0.0.1:0"} {
		e, _ := ParseEndpoint(ep)
		ln, err := e.Listen()
		if err != nil {
			t.Fatal(err)
		}
		if e.Network == "tcp" {
			e.Address = ln.Addr().String()
		}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Write([]byte("hi"))
				c.Close()
			}
		}()
		c, err := e.Dialer().DialContext(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		b, _ := io.ReadAll(c)
		c.Close()
		ln.Close()
		if string(b) != "hi" {
			t.Fatalf("%s: read %q", ep, b)
		}
	}
}

func ExampleParseEndpoint() {
	e, err := ParseEndpoint("vsock:16:5000")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Network, e.CID, e.Port)
	// Output: vsock 16 5000
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"unix:/a", "tcp:1.2.3.4:5", "vsock:3:5001", "vsock::", "tcp:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEndpoint(s)
		if err != nil {
			return
		}
		e2, err := ParseEndpoint(e.String())
		if err != nil || e2 != e {
			t.Fatalf("%q → %+v → %q → %+v %v", s, e, e.String(), e2, err)
		}
	})
}

func TestListenUnixReclaimsOnlyStaleSockets(t *testing.T) {
	dir := t.TempDir()
	live := Endpoint{Network: "unix", Address: filepath.Join(dir, "live.sock")}
	ln, err := live.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := live.Listen(); !errors.Is(err, addr.ErrInUse) {
		t.Fatalf("second listener on a live socket: %v, want ErrInUse", err)
	}
	if _, err := (UnixDialer{Path: live.Address}).DialContext(context.Background()); err != nil {
		t.Fatalf("the first listener lost its socket: %v", err)
	}
	file := Endpoint{Network: "unix", Address: filepath.Join(dir, "file")}
	if err := os.WriteFile(file.Address, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Listen(); !errors.Is(err, addr.ErrNotSocket) {
		t.Fatalf("listen over a regular file: %v, want ErrNotSocket", err)
	}
	if b, _ := os.ReadFile(file.Address); string(b) != "keep" {
		t.Fatal("the regular file was touched")
	}
}
