package parent

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/facesign/facesign/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Media types of the sealed API (RFC 9458).
const (
	MediaOHTTPReq = "message/ohttp-req"
	MediaOHTTPRes = "message/ohttp-res"
	MediaCBOR     = "application/cbor"
	MediaJSON     = "application/json"
)

// Defaults for the zero values of [Config].
const (
	DefaultMaxBodyBytes     = 16 << 20
	DefaultMaxResponseBytes = 1 << 20
	DefaultEnclaveTimeout   = 2 * time.Minute
	DefaultMaxRecordBytes   = wire.MaxRecordSize
	maxNonceBytes           = 64
)

// Config configures a [Server]. Enclave, Now and Rand are required.
type Config struct {
	// Enclave dials the enclave's HTTP listener.
	Enclave Dialer
	// Now is the clock (rate limits, latency). Required.
	Now func() time.Time
	// Rand is the source of request IDs. Required.
	Rand io.Reader
	// Logger receives one structured line per request; nil discards.
	Logger *slog.Logger
	// Registry receives the parent's metrics and is what /metrics serves;
	// nil makes a private registry.
	Registry *prometheus.Registry

	// MaxBodyBytes caps a request body; larger requests get 413
	// body_too_large before the body is read. 0 means [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// MaxResponseBytes caps what the parent accepts back from the enclave.
	MaxResponseBytes int64
	// EnclaveTimeout bounds one forwarded request. 0 means [DefaultEnclaveTimeout].
	EnclaveTimeout time.Duration

	// RatePerSecond and Burst configure the per-client token bucket on every
	// /v1/ route. RatePerSecond 0 disables rate limiting.
	RatePerSecond float64
	Burst         int
	// MaxRateKeys bounds the rate limiter's table (default 100000).
	MaxRateKeys int

	// SimulatorRootPEM, when set, is served at GET /v1/simulator/root.pem so
	// that simulator clients can opt in to trusting it. Never set in
	// production: a client that trusts it trusts any simulator.
	SimulatorRootPEM []byte

	// Page, when set, serves the enrolment page (package client/page) at
	// "/", "/index.html", "/config.json" and "/assets/": GET and HEAD only,
	// not rate limited, with the page's own caching and security headers.
	// Off unless the operator asks for it ("facesign parent --page").
	Page http.Handler

	// AllowedOrigins are the web origins (e.g. "https://app.idos.network")
	// whose pages may call the /v1/ API from a browser (CORS). Empty: only
	// same-origin pages and non-browser clients. Each must be an exact
	// lower-case scheme://host[:port]; wildcards are refused.
	AllowedOrigins []string
}

// ErrConfig reports a [Config] missing a required field.
var ErrConfig = errors.New("parent: invalid config")

// Server is the parent's public HTTP API and its host-services API. It holds
// no plaintext: sealed requests pass through byte for byte.
type Server struct {
	cfg     Config
	enclave *http.Client
	limiter *rateLimiter
	log     *slog.Logger
	reg     *prometheus.Registry
	m       *metrics
	pm      *policyMetrics
	routes  []Route
	public  http.Handler
}

// Route is one path the public API serves, with its methods.
type Route struct {
	Path    string
	Methods []string
}

// New makes a server. It does not dial the enclave.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Enclave == nil:
		return nil, fmt.Errorf("%w: no enclave dialer", ErrConfig)
	case cfg.Now == nil:
		return nil, fmt.Errorf("%w: no clock", ErrConfig)
	case cfg.Rand == nil:
		return nil, fmt.Errorf("%w: no randomness source", ErrConfig)
	case cfg.RatePerSecond < 0 || (cfg.RatePerSecond > 0 && cfg.Burst < 1):
		return nil, fmt.Errorf("%w: rate limit needs a positive rate and a burst of at least 1", ErrConfig)
	}
	if err := CheckOrigins(cfg.AllowedOrigins); err != nil {
		return nil, err
	}
	cfg.AllowedOrigins = slices.Clone(cfg.AllowedOrigins)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.EnclaveTimeout <= 0 {
		cfg.EnclaveTimeout = DefaultEnclaveTimeout
	}
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.reg)
	if err != nil {
		return nil, err
	}
	s.m = m
	if s.pm, err = newPolicyMetrics(s.reg); err != nil {
		return nil, err
	}
	if err := s.reg.Register(newEnclaveCollector(s)); err != nil {
		return nil, err
	}
	if cfg.RatePerSecond > 0 {
		s.limiter = newRateLimiter(cfg.RatePerSecond, cfg.Burst, cfg.MaxRateKeys)
	}
	dial := cfg.Enclave
	s.enclave = &http.Client{
		Transport: &http.Transport{
			DialContext:           func(ctx context.Context, _, _ string) (net.Conn, error) { return dial.DialContext(ctx) },
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: cfg.EnclaveTimeout,
			DisableCompression:    true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := s.reg.Register(newEnclaveStages(s.enclave)); err != nil {
		return nil, err
	}
	s.buildPublic()
	return s, nil
}

// Handler is the public API.
func (s *Server) Handler() http.Handler { return s.public }

// Routes lists the public API's paths and methods (the OpenAPI document
// describes exactly these).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Close releases idle connections to the enclave.
func (s *Server) Close() { s.enclave.CloseIdleConnections() }

type handlerFunc func(w http.ResponseWriter, r *http.Request, rid string)

type endpoint struct {
	methods   map[string]handlerFunc
	limited   bool
	routeName string
}

func (s *Server) buildPublic() {
	mux := http.NewServeMux()
	add := func(path string, limited bool, methods map[string]handlerFunc) {
		ep := &endpoint{methods: methods, limited: limited, routeName: path}
		var ms []string
		for m := range methods {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		s.routes = append(s.routes, Route{Path: path, Methods: ms})
		mux.Handle(path, s.wrap(ep))
	}
	add("/v1/attestation", true, map[string]handlerFunc{http.MethodGet: s.attestation})
	for _, p := range []string{"/v1/challenge", "/v1/enroll", "/v1/login", "/v1/delete"} {
		add(p, true, map[string]handlerFunc{http.MethodPost: s.sealed(p)})
	}
	add("/healthz", false, map[string]handlerFunc{http.MethodGet: s.healthz})
	add("/readyz", false, map[string]handlerFunc{http.MethodGet: s.readyz})
	add("/metrics", false, map[string]handlerFunc{http.MethodGet: s.metricsHandler()})
	add("/openapi.yaml", false, map[string]handlerFunc{http.MethodGet: serveOpenAPI})
	if len(s.cfg.SimulatorRootPEM) > 0 {
		add("/v1/simulator/root.pem", true, map[string]handlerFunc{http.MethodGet: s.simulatorRoot})
	}
	if s.cfg.Page != nil {
		page := func(w http.ResponseWriter, r *http.Request, _ string) { s.cfg.Page.ServeHTTP(w, r) }
		ep := &endpoint{methods: map[string]handlerFunc{http.MethodGet: page}, routeName: "page"}
		for _, p := range []string{"/{$}", "/index.html", "/config.json", "/assets/"} {
			mux.Handle(p, s.wrap(ep))
		}
	}
	mux.Handle("/", s.wrap(&endpoint{routeName: "unmatched"}))
	s.public = mux
}

// statusWriter records what a handler answered, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a well-formed incoming X-Request-ID (so a caller can trace
// a request through its own systems) and otherwise makes a random one.
func (s *Server) requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-ID"); requestIDPattern.MatchString(v) {
		return v
	}
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "unavailable"
	}
	return hex.EncodeToString(b[:])
}

// wrap adds request IDs, rate limits, method dispatch, security headers, one
// log line and metrics around an endpoint. The log line holds the route
// template, never the raw URL, and no client address.
func (s *Server) wrap(ep *endpoint) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		rid := s.requestID(r)
		w := &statusWriter{ResponseWriter: rw}
		h := w.Header()
		h.Set("X-Request-ID", rid)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		s.m.inflight.Inc()
		defer func() {
			s.m.inflight.Dec()
			class := classOf(w.status)
			d := s.cfg.Now().Sub(start)
			s.m.requests.WithLabelValues(ep.routeName, class).Inc()
			s.m.latency.WithLabelValues(ep.routeName, class).Observe(d.Seconds())
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", rid),
				slog.String("route", ep.routeName),
				slog.String("method", r.Method),
				slog.Int("status", w.status),
				slog.String("class", class),
				slog.Int64("bytes_in", max(r.ContentLength, 0)),
				slog.Int64("bytes_out", w.bytes),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			)
		}()
		if ep.methods == nil {
			writeError(w, http.StatusNotFound, CodeNoRoute, "no such route")
			return
		}
		if s.cors(w, r, ep) {
			return
		}
		hf, ok := ep.methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			hf, ok = ep.methods[http.MethodGet]
		}
		if !ok {
			var allow []string
			for m := range ep.methods {
				allow = append(allow, m)
			}
			slices.Sort(allow)
			h.Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, CodeNoRoute, "method not allowed")
			return
		}
		if ep.limited && s.limiter != nil {
			if ok, wait := s.limiter.allow(clientKey(r.RemoteAddr), s.cfg.Now()); !ok {
				h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests from this client; retry later")
				return
			}
		}
		hf(w, r, rid)
	})
}

// classOf is the coarse outcome class used in metrics and logs. The parent
// never sees the sealed outcome (new, existing, rejected…), only this.
func classOf(status int) string {
	switch {
	case status == 0:
		return "aborted"
	case status < 400:
		return "ok"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status < 500:
		return "client_error"
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		return "unavailable"
	default:
		return "server_error"
	}
}

// readBody reads a request body within the configured limit, refusing a
// declared Content-Length over the limit before reading anything.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body over %d bytes", limit))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body over %d bytes", limit))
		} else {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "could not read request body")
		}
		return nil, false
	}
	return body, true
}

func (s *Server) attestation(w http.ResponseWriter, r *http.Request, rid string) {
	q := r.URL.Query()
	nonce, err := hex.DecodeString(q.Get("nonce"))
	if len(q) != 1 || err != nil || len(nonce) == 0 || len(nonce) > maxNonceBytes {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("query must be exactly nonce=<hex, 1..%d bytes>", maxNonceBytes))
		return
	}
	cw := &captureWriter{ResponseWriter: w, limit: s.cfg.MaxResponseBytes}
	s.forward(cw, r, rid, http.MethodGet, "/v1/attestation?nonce="+hex.EncodeToString(nonce), nil, "", MediaCBOR)
	if cw.status == http.StatusOK {
		s.pm.observe(cw.buf.Bytes())
	}
}

// sealed forwards an RFC 9458 encapsulated request verbatim.
func (s *Server) sealed(path string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rid string) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != MediaOHTTPReq {
			writeError(w, http.StatusUnsupportedMediaType, CodeBadRequest, "Content-Type must be "+MediaOHTTPReq)
			return
		}
		if r.URL.RawQuery != "" {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "sealed routes take no query")
			return
		}
		body, ok := readBody(w, r, s.cfg.MaxBodyBytes)
		if !ok {
			return
		}
		if len(body) == 0 {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "empty body: want an encapsulated request")
			return
		}
		s.forward(w, r, rid, http.MethodPost, path, body, MediaOHTTPReq, MediaOHTTPRes)
	}
}

// allowedFromEnclave are the response media types passed back to clients.
var allowedFromEnclave = map[string]bool{MediaOHTTPRes: true, MediaCBOR: true, MediaJSON: true}

func (s *Server) forward(w http.ResponseWriter, r *http.Request, rid, method, target string, body []byte, ctype, accept string) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.EnclaveTimeout)
	defer cancel()
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://enclave"+target, rb)
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, "could not build enclave request")
		return
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-Request-ID", rid)
	resp, err := s.enclave.Do(req)
	if err != nil {
		s.m.enclaveErrors.Inc()
		if errors.Is(err, context.DeadlineExceeded) {
			writeError(w, http.StatusGatewayTimeout, CodeUnavailable, "the enclave did not answer in time")
		} else if r.Context().Err() != nil {
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "request cancelled")
		} else {
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the enclave is not reachable")
		}
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponseBytes+1))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case err != nil:
		s.m.enclaveErrors.Inc()
		writeError(w, http.StatusBadGateway, CodeUnavailable, "the enclave's answer broke off")
		return
	case int64(len(out)) > s.cfg.MaxResponseBytes:
		s.m.enclaveErrors.Inc()
		writeError(w, http.StatusBadGateway, CodeInternal, "the enclave's answer is too large")
		return
	case !allowedFromEnclave[mt]:
		s.m.enclaveErrors.Inc()
		writeError(w, http.StatusBadGateway, CodeInternal, "the enclave answered with an unexpected media type")
		return
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is ready when the enclave answers its own /readyz with 200.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, rid string) {
	if err := s.EnclaveReady(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the enclave is not ready")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ErrNotReady reports an enclave that is unreachable or not ready.
var ErrNotReady = errors.New("parent: enclave not ready")

// EnclaveReady asks the enclave's /readyz (within 5 s).
func (s *Server) EnclaveReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://enclave/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := s.enclave.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: enclave /readyz answered %d", ErrNotReady, resp.StatusCode)
	}
	return nil
}

func (s *Server) simulatorRoot(w http.ResponseWriter, _ *http.Request, _ string) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("X-FaceSign-Warning", "simulator root: trusting it means trusting any simulated enclave")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.cfg.SimulatorRootPEM)
}

func (s *Server) metricsHandler() handlerFunc {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request, _ string) { h.ServeHTTP(w, r) }
}

// NewHTTPServer wraps h in an http.Server with timeouts suited to the API:
// headers must arrive quickly, bodies (video frames) may take a while.
func NewHTTPServer(h http.Handler, errLog *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      3 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	if errLog != nil {
		srv.ErrorLog = slog.NewLogLogger(errLog.Handler(), slog.LevelWarn)
	}
	return srv
}
