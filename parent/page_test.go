package parent

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/facesign/facesign/client/page"
)

// pageSite is the real enrolment page (package client/page) as "facesign
// parent --page" builds it: production mode, PCRs pinned, with the smallest
// valid WebAssembly module in place of the SDK and Go's own loader.
func pageSite(t *testing.T) *page.Site {
	t.Helper()
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	we, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	pcr := bytes.Repeat([]byte{9}, 48)
	s, err := page.New(page.Assets{WASM: []byte{0, 'a', 's', 'm', 1, 0, 0, 0}, WASMExec: we},
		page.Config{PCRs: map[int][]byte{0: pcr, 1: pcr, 2: pcr}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConfigPage checks Config.Page on its own: the parent routes exactly
// the page's paths to it (GET and HEAD, never rate limited, the page's own
// caching and security headers), keeps answering the API and unknown
// paths as before, and serves no page when Page is nil.
func TestConfigPage(t *testing.T) {
	fe, d := startFakeEnclave(t)
	site := pageSite(t)
	// One request per second with a burst of one: the page's files must
	// not count against the API's rate limit.
	srv, _, _ := newTestServer(t, d, func(c *Config) { c.Page = site; c.RatePerSecond, c.Burst = 1, 1 })
	h := srv.Handler()

	index := do(t, h, http.MethodGet, "/", nil, nil)
	asset := regexp.MustCompile(`assets/page\.[0-9a-f]{16}\.js`).FindString(index.Body.String())
	if asset == "" {
		t.Fatalf("index.html names no page.js: %q", index.Body.String())
	}
	tests := []struct {
		name, method, path string
		status             int
		ctype, cache       string
		page               bool // answered by the page (its headers), not by the parent's error
	}{
		{"index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", true},
		{"index.html", "GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", true},
		{"config", "GET", "/config.json", 200, "application/json", "no-cache", true},
		{"asset", "GET", "/" + asset, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", true},
		{"head", "HEAD", "/", 200, "text/html; charset=utf-8", "no-cache", true},
		{"unknown asset", "GET", "/assets/nope.js", 404, "text/plain; charset=utf-8", "no-store", true},
		{"post to the page", "POST", "/", 405, MediaJSON, "no-store", false},
		{"post to config", "POST", "/config.json", 405, MediaJSON, "no-store", false},
		{"another path", "GET", "/favicon.ico", 404, MediaJSON, "no-store", false},
		{"a path below the page", "GET", "/index.html/x", 404, MediaJSON, "no-store", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 { // more than the burst: the page is not rate limited
				w := do(t, h, tc.method, tc.path, nil, nil)
				if w.Code != tc.status || w.Header().Get("Content-Type") != tc.ctype || w.Header().Get("Cache-Control") != tc.cache {
					t.Fatalf("%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, w.Code, w.Header().Get("Content-Type"),
						w.Header().Get("Cache-Control"), tc.status, tc.ctype, tc.cache)
				}
				if w.Header().Get("X-Request-ID") == "" {
					t.Fatalf("%s %s: no request id (the parent's wrapper was bypassed)", tc.method, tc.path)
				}
				page := tc.page
				if csp := w.Header().Get("Content-Security-Policy"); page != strings.Contains(csp, "default-src 'none'") {
					t.Fatalf("%s %s: CSP %q", tc.method, tc.path, csp)
				}
				if page && w.Header().Get("Permissions-Policy") == "" {
					t.Fatalf("%s %s: no Permissions-Policy", tc.method, tc.path)
				}
				if !page && errorCode(t, w) != CodeNoRoute {
					t.Fatalf("%s %s: error %q", tc.method, tc.path, w.Body.String())
				}
				if tc.method == "HEAD" && w.Body.Len() != 0 {
					t.Fatalf("HEAD with a body of %d bytes", w.Body.Len())
				}
			}
		})
	}
	if n := len(fe.calls()); n != 0 {
		t.Fatalf("the page's requests reached the enclave %d times", n)
	}

	// The API is still the API, and still rate limited.
	fe.set(200, "application/cbor", []byte{0xa0})
	codes := []int{}
	for range 2 {
		codes = append(codes, do(t, h, http.MethodGet, "/v1/attestation?nonce="+strings.Repeat("ab", 32), nil, nil).Code)
	}
	if codes[0] != 200 || codes[1] != http.StatusTooManyRequests || len(fe.calls()) != 1 {
		t.Fatalf("attestation twice: %v, %d forwarded", codes, len(fe.calls()))
	}

	// Without Page, the page's paths are unknown routes.
	bare, _, _ := newTestServer(t, d, nil)
	for _, p := range []string{"/", "/index.html", "/config.json", "/" + asset} {
		w := do(t, bare.Handler(), http.MethodGet, p, nil, nil)
		if w.Code != 404 || errorCode(t, w) != CodeNoRoute || w.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("no page, GET %s: %d %q", p, w.Code, w.Body.String())
		}
	}
}
