package page

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Names of the built SDK files ("make wasm" writes them to bin/).
const (
	WASMName     = "facesign.wasm"
	WASMExecName = "wasm_exec.js"
)

// Errors.
var (
	// ErrConfig reports a page configuration that would not be safe.
	ErrConfig = errors.New("page: invalid configuration")
	// ErrAssets reports missing or empty SDK files.
	ErrAssets = errors.New("page: SDK files missing")
)

// Assets are the page's built parts: the WebAssembly SDK (cmd/facesign-wasm)
// and Go's loader for it, from the same Go toolchain.
type Assets struct {
	WASM, WASMExec []byte
}

// LoadAssets reads [WASMName] and [WASMExecName] from dir.
func LoadAssets(dir string) (Assets, error) {
	var a Assets
	var err error
	if a.WASM, err = os.ReadFile(filepath.Join(dir, WASMName)); err != nil {
		return Assets{}, fmt.Errorf("%w: %w (build it with make wasm)", ErrAssets, err)
	}
	if a.WASMExec, err = os.ReadFile(filepath.Join(dir, WASMExecName)); err != nil {
		return Assets{}, fmt.Errorf("%w: %w (build it with make wasm)", ErrAssets, err)
	}
	return a, nil
}

// Config is what the page trusts and talks to.
type Config struct {
	// API is the parent's base URL when it is not the page's own origin
	// (static hosting); "" means the page's origin. The parent must allow
	// the page's origin (--cors-origin).
	API string
	// PCRs pins the enclave image's measurements (index → 48 bytes).
	// Required unless Simulator.
	PCRs map[int][]byte
	// PolicyHash optionally pins the exact policy (32 bytes).
	PolicyHash []byte
	// Simulator marks a page for the simulator: it trusts RootsPEM and
	// shows a "SIMULATOR — not for real identities" banner.
	Simulator bool
	// RootsPEM are the simulator's root certificates; only with Simulator.
	RootsPEM []byte
	// FetchSimulatorRoot, only with Simulator and without RootsPEM, makes
	// the page fetch the simulator's root from the API
	// (/v1/simulator/root.pem) when it starts: a simulator page built
	// before the simulator runs ("make page" without PAGE_FLAGS). It trusts
	// whatever the API serves, as every simulator page trusts the
	// simulator: never for real identities (the banner says so).
	FetchSimulatorRoot bool
	// StepTimeout is how long the page waits for the next kept frame
	// before it stops a capture (capture_timeout); 0 means
	// [DefaultStepTimeout]. A slow device or a test camera playing a
	// recording may need longer; the challenge's own expiry still applies.
	StepTimeout time.Duration
}

// DefaultStepTimeout is the page's default [Config.StepTimeout], and the
// bounds of the setting.
const (
	DefaultStepTimeout = 40 * time.Second
	MinStepTimeout     = 5 * time.Second
	MaxStepTimeout     = 10 * time.Minute
)

// configJSON is config.json as the page reads it.
type configJSON struct {
	API        string            `json:"api"`
	PCRs       map[string]string `json:"pcrs,omitempty"`
	PolicyHash string            `json:"policyHash,omitempty"`
	Simulator  bool              `json:"simulator"`
	RootsPEM   []string          `json:"rootsPEM,omitempty"`
	StepMS     int64             `json:"stepTimeoutMs"`
	FetchRoot  bool              `json:"fetchSimulatorRoot,omitempty"`
}

func (c Config) check() (configJSON, string, error) {
	out := configJSON{Simulator: c.Simulator, PCRs: map[string]string{}, StepMS: DefaultStepTimeout.Milliseconds()}
	if c.StepTimeout != 0 {
		if c.StepTimeout < MinStepTimeout || c.StepTimeout > MaxStepTimeout {
			return out, "", fmt.Errorf("%w: step timeout %v outside %v..%v", ErrConfig, c.StepTimeout, MinStepTimeout, MaxStepTimeout)
		}
		out.StepMS = c.StepTimeout.Milliseconds()
	}
	apiOrigin := ""
	if c.API != "" {
		u, err := url.Parse(c.API)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return out, "", fmt.Errorf("%w: API %q is not an http(s) URL", ErrConfig, c.API)
		}
		out.API = strings.TrimSuffix(c.API, "/")
		apiOrigin = u.Scheme + "://" + u.Host
	}
	if !c.Simulator && len(c.PCRs) == 0 {
		return out, "", fmt.Errorf("%w: a production page must pin the enclave's PCRs", ErrConfig)
	}
	for i, v := range c.PCRs {
		if i < 0 || i > 31 || len(v) != 48 {
			return out, "", fmt.Errorf("%w: PCR%d must be 48 bytes", ErrConfig, i)
		}
		out.PCRs[strconv.Itoa(i)] = hex.EncodeToString(v)
	}
	if c.PolicyHash != nil {
		if len(c.PolicyHash) != 32 {
			return out, "", fmt.Errorf("%w: the policy hash must be 32 bytes", ErrConfig)
		}
		out.PolicyHash = hex.EncodeToString(c.PolicyHash)
	}
	if len(c.RootsPEM) > 0 && !c.Simulator {
		return out, "", fmt.Errorf("%w: extra roots are for the simulator only (the AWS Nitro root is built in)", ErrConfig)
	}
	if c.FetchSimulatorRoot {
		if !c.Simulator || len(c.RootsPEM) > 0 {
			return out, "", fmt.Errorf("%w: fetching the root is for a simulator page without roots only", ErrConfig)
		}
		out.FetchRoot = true
	}
	if c.Simulator && !c.FetchSimulatorRoot {
		rest := c.RootsPEM
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				out.RootsPEM = append(out.RootsPEM, string(pem.EncodeToMemory(b)))
			}
		}
		if len(out.RootsPEM) == 0 {
			return out, "", fmt.Errorf("%w: a simulator page needs the simulator's root certificate (or FetchSimulatorRoot)", ErrConfig)
		}
	}
	return out, apiOrigin, nil
}

// file is one served file.
type file struct {
	body, gz []byte
	ctype    string
	etag     string
	cache    string
}

// Site is the built page: every file with its headers, ready to serve or to
// write out. It is immutable and safe for concurrent use.
type Site struct {
	files   map[string]*file // by URL path ("/", "/config.json", "/assets/…")
	headers http.Header      // security headers on every response
}

// Security headers. connect-src names the API's origin when it is not the
// page's; 'wasm-unsafe-eval' lets the worker compile the SDK and nothing
// else (no eval, no inline script or style).
func securityHeaders(apiOrigin string) http.Header {
	connect := "'self'"
	if apiOrigin != "" {
		connect += " " + apiOrigin
	}
	h := http.Header{}
	h.Set("Content-Security-Policy", strings.Join([]string{
		"default-src 'none'",
		"script-src 'self' 'wasm-unsafe-eval'",
		"worker-src 'self'",
		"connect-src " + connect,
		"style-src 'self'",
		"img-src 'self'",
		"media-src 'self' blob:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; "))
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	return h
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".wasm": "application/wasm",
	".svg":  "image/svg+xml",
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// New builds the site from the embedded page files, the SDK files and the
// configuration. Assets are served under /assets/ with the first 16 hex
// digits of their SHA-256 in the name (cached for a year, immutable);
// index.html and config.json are revalidated on every load.
func New(a Assets, c Config) (*Site, error) {
	if len(a.WASM) == 0 || len(a.WASMExec) == 0 {
		return nil, fmt.Errorf("%w: facesign.wasm or wasm_exec.js is empty", ErrAssets)
	}
	cfg, apiOrigin, err := c.check()
	if err != nil {
		return nil, err
	}
	s := &Site{files: map[string]*file{}, headers: securityHeaders(apiOrigin)}
	src := map[string][]byte{WASMName: a.WASM, WASMExecName: a.WASMExec}
	for _, n := range []string{"page.css", "page.js", "worker.js", "messages.json", "icon.svg"} {
		b, err := fs.ReadFile(static, "static/"+n)
		if err != nil {
			return nil, err
		}
		src[n] = b
	}
	urls := map[string]string{}
	for n, b := range src {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:8])
		ext := path.Ext(n)
		name := strings.TrimSuffix(n, ext) + "." + h + ext
		urls[n] = "assets/" + name
		f, err := newFile(b, contentTypes[ext], cacheImmutable)
		if err != nil {
			return nil, err
		}
		f.etag = `"` + h + `"`
		s.files["/assets/"+name] = f
	}
	index, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	replace := []struct{ old, new string }{
		{`href="icon.svg"`, `href="` + urls["icon.svg"] + `"`},
		{`href="page.css"`, `href="` + urls["page.css"] + `"`},
		{`<script src="page.js" defer>`, `<script src="` + urls["page.js"] + `" defer data-worker="` + urls["worker.js"] +
			`" data-wasm="` + urls[WASMName] + `" data-wasm-exec="` + urls[WASMExecName] +
			`" data-messages="` + urls["messages.json"] + `" data-config="config.json">`},
	}
	for _, r := range replace {
		if bytes.Count(index, []byte(r.old)) != 1 {
			return nil, fmt.Errorf("page: index.html must reference %s exactly once", r.old)
		}
		index = bytes.Replace(index, []byte(r.old), []byte(r.new), 1)
	}
	if s.files["/"], err = newFile(index, contentTypes[".html"], cacheRevalidate); err != nil {
		return nil, err
	}
	cj, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if s.files["/config.json"], err = newFile(append(cj, '\n'), contentTypes[".json"], cacheRevalidate); err != nil {
		return nil, err
	}
	return s, nil
}

func newFile(b []byte, ctype, cache string) (*file, error) {
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &file{body: b, gz: gz.Bytes(), ctype: ctype, cache: cache}, nil
}

// Paths lists the URL paths the site serves, sorted.
func (s *Site) Paths() []string {
	var p []string
	for k := range s.files {
		p = append(p, k)
	}
	slices.Sort(p)
	return p
}

// Weight is what a first visit downloads: the sum of every file's size as
// served plain and gzipped.
func (s *Site) Weight() (plain, gzipped int) {
	for _, f := range s.files {
		plain += len(f.body)
		gzipped += len(f.gz)
	}
	return plain, gzipped
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// ServeHTTP serves the page: GET and HEAD of [Site.Paths], 404 for other
// paths, 405 for other methods. Every answer carries the security headers.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range s.headers {
		h[k] = slices.Clone(v)
	}
	p := r.URL.Path
	if p == "/index.html" {
		p = "/"
	}
	f, ok := s.files[p]
	if !ok {
		h.Set("Cache-Control", "no-store")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		h.Set("Cache-Control", "no-store")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", f.cache)
	h.Set("Vary", "Accept-Encoding")
	if f.etag != "" {
		h.Set("ETag", f.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == f.etag || strings.Contains(inm, f.etag)) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := f.body
	if acceptsGzip(r) {
		body = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// WriteDir writes the site as static files into dir for hosting on any web
// server: index.html, config.json, assets/ (each with a .gz twin for
// servers that serve precompressed files), and _headers, the security and
// caching headers in the format several static hosts read (the operator
// configures the same headers on any other server; docs/page.md).
func (s *Site) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		return err
	}
	var hdr strings.Builder
	for _, p := range s.Paths() {
		f := s.files[p]
		name := strings.TrimPrefix(p, "/")
		if name == "" {
			name = "index.html"
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), f.body, 0o644); err != nil {
			return err
		}
		if strings.HasPrefix(name, "assets/") {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name))+".gz", f.gz, 0o644); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(&hdr, "/*\n")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.headers {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&hdr, "  %s: %s\n", k, s.headers.Get(k))
	}
	fmt.Fprintf(&hdr, "/assets/*\n  Cache-Control: %s\n/\n  Cache-Control: %s\n/index.html\n  Cache-Control: %s\n/config.json\n  Cache-Control: %s\n",
		cacheImmutable, cacheRevalidate, cacheRevalidate, cacheRevalidate)
	return os.WriteFile(filepath.Join(dir, "_headers"), []byte(hdr.String()), 0o644)
}
