package parent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/facesign/facesign/wire"
)

// Front spreads the public API over several parents, each beside its own
// enclave, all serving one gallery (docs/fleet.md). It is as untrusted as a
// parent: it forwards sealed bytes and opens nothing.
//
// A client's session is bound to one enclave: the HPKE key it seals to, the
// challenge it answers and the receipt key all live in that enclave's
// memory. So GET /v1/attestation goes round-robin to the ready members,
// and the sealed routes go to the member whose key the request names (its
// first byte is the key id, RFC 9458): the front learns each member's key
// id from the attestations it forwards and from a probe when a member
// becomes ready. Key ids are one byte and may repeat across members; a
// member that answers unknown_key_id or decrypt_failed (before any state
// changes) passes the request to the next candidate. If no member holds
// the key (its enclave restarted), the client gets unknown_key_id — never
// the decrypt_failed of a member that only shares the one-byte key id — and
// attests again, as with a single enclave that restarted.
//
// Members are checked every HealthInterval at /readyz; a member that is not
// ready (two checks in a row failed, or it was marked down) gets no
// requests. /readyz of the front is ready when any member is.
// /metrics adds each member's facesign_enclave_* figures (log position,
// lag) labelled enclave="<index>".
type Front struct {
	cfg     FrontConfig
	log     *slog.Logger
	client  *http.Client
	limiter *rateLimiter
	reg     *prometheus.Registry
	m       *frontMetrics
	rr      atomic.Uint64

	mu      sync.Mutex
	members []*frontMember
}

// FrontConfig configures a [Front].
type FrontConfig struct {
	// Members is the number of member slots (enclaves), at least 1.
	Members int
	// Now is the clock (rate limits). Required.
	Now func() time.Time
	// Logger receives routing events; nil discards.
	Logger *slog.Logger
	// Registry is what /metrics serves; nil makes a private one.
	Registry *prometheus.Registry
	// HealthInterval is how often members are checked (0: 250 ms).
	HealthInterval time.Duration
	// Timeout bounds one forwarded request (0: [DefaultEnclaveTimeout]).
	Timeout time.Duration
	// MaxBodyBytes caps a request body (0: [DefaultMaxBodyBytes]).
	MaxBodyBytes int64
	// RatePerSecond and Burst: the per-client token bucket on /v1/ routes
	// (the members behind a front should not rate-limit: they see only the
	// front's address). 0 disables it.
	RatePerSecond float64
	Burst         int
	// SimulatorRootPEM is served at /v1/simulator/root.pem when set.
	SimulatorRootPEM []byte
}

type frontMember struct {
	index int
	url   string // "" while down
	ready bool
	fails int // consecutive failed readiness checks
	keyID int // -1: unknown
	epoch uint64
}

// FrontMember is one member as the front sees it.
type FrontMember struct {
	Index int    `json:"index"`
	URL   string `json:"url"`
	Ready bool   `json:"ready"`
	KeyID int    `json:"key_id"` // -1 unknown
}

type frontMetrics struct {
	requests *prometheus.CounterVec
	misses   prometheus.Counter
	up       *prometheus.GaugeVec
}

// NewFront makes a front with cfg.Members empty slots; fill them with
// [Front.SetMember] and run [Front.Run] for the health checks.
func NewFront(cfg FrontConfig) (*Front, error) {
	if cfg.Members < 1 || cfg.Now == nil {
		return nil, fmt.Errorf("%w: a front needs at least one member and a clock", ErrConfig)
	}
	if cfg.RatePerSecond < 0 || (cfg.RatePerSecond > 0 && cfg.Burst < 1) {
		return nil, fmt.Errorf("%w: rate limit needs a positive rate and a burst of at least 1", ErrConfig)
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 250 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultEnclaveTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	f := &Front{cfg: cfg, log: cfg.Logger, reg: cfg.Registry,
		client: &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.reg == nil {
		f.reg = prometheus.NewRegistry()
	}
	for i := range cfg.Members {
		f.members = append(f.members, &frontMember{index: i, keyID: -1})
	}
	if cfg.RatePerSecond > 0 {
		f.limiter = newRateLimiter(cfg.RatePerSecond, cfg.Burst, 0)
	}
	f.m = &frontMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "front", Name: "requests_total",
			Help: "Requests forwarded by the front, by member and outcome class.",
		}, []string{"enclave", "class"}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "front", Name: "key_misses_total",
			Help: "Sealed requests a member refused as not sealed to its key (passed to the next candidate).",
		}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "front", Name: "member_ready",
			Help: "1 if the member answered its last readiness check.",
		}, []string{"enclave"}),
	}
	for _, c := range []prometheus.Collector{f.m.requests, f.m.misses, f.m.up, &memberCollector{f}} {
		if err := f.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// SetMember points slot i at a member's public URL ("" marks it down).
// The member gets requests once its readiness check passes.
func (f *Front) SetMember(i int, url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[i]
	if m.url == url {
		return
	}
	m.url, m.ready, m.fails, m.keyID = strings.TrimSuffix(url, "/"), false, 0, -1
	m.epoch++
	f.m.up.WithLabelValues(strconv.Itoa(i)).Set(0)
}

// Members reports every slot.
func (f *Front) Members() []FrontMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FrontMember, len(f.members))
	for i, m := range f.members {
		out[i] = FrontMember{Index: m.index, URL: m.url, Ready: m.ready, KeyID: m.keyID}
	}
	return out
}

// Run checks the members' readiness until ctx ends.
func (f *Front) Run(ctx context.Context) {
	t := time.NewTicker(f.cfg.HealthInterval)
	defer t.Stop()
	for {
		f.checkAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (f *Front) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range f.members {
		wg.Go(func() { f.check(ctx, i) })
	}
	wg.Wait()
}

// check asks member i's /readyz and, when it turns ready, its key id.
func (f *Front) check(ctx context.Context, i int) {
	f.mu.Lock()
	url, epoch, wasReady := f.members[i].url, f.members[i].epoch, f.members[i].ready
	f.mu.Unlock()
	ready := false
	if url != "" {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		req, _ := http.NewRequestWithContext(cctx, http.MethodGet, url+"/readyz", nil)
		if res, err := f.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
			res.Body.Close()
			ready = res.StatusCode == http.StatusOK
		}
		cancel()
	}
	if ready && !wasReady {
		f.probeKey(ctx, i, url)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[i]
	if m.epoch != epoch {
		return // replaced meanwhile
	}
	if ready {
		m.fails = 0
	} else if m.fails++; m.ready && m.fails < 2 && url != "" {
		ready = true // one slow or lost check on a busy machine is not a failure
	}
	if ready != m.ready {
		f.log.Info("member readiness", "enclave", i, "ready", ready)
		if !ready {
			m.keyID = -1 // it may come back with another key
		}
	}
	m.ready = ready
	v := 0.0
	if ready {
		v = 1
	}
	f.m.up.WithLabelValues(strconv.Itoa(i)).Set(v)
}

// probeKey learns member i's HPKE key id from an attestation.
func (f *Front) probeKey(ctx context.Context, i int, url string) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, url+wire.RouteAttestation+"?nonce=66726f6e74", nil)
	res, err := f.client.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, DefaultMaxResponseBytes))
	if err == nil && res.StatusCode == http.StatusOK {
		f.learnKey(i, url, body)
	}
}

// learnKey records the key id of the binding in an attestation answer.
func (f *Front) learnKey(i int, url string, body []byte) {
	var ar wire.AttestationResponse
	if err := wire.Unmarshal(body, &ar); err != nil {
		return
	}
	kc, err := wire.ParseKeyConfig(ar.Binding.KeyConfig)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.members[i]; m.url == url {
		m.keyID = int(kc.KeyID)
	}
}

// Handler is the public API of the fleet.
func (f *Front) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if len(f.candidates(-1)) == 0 {
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "no enclave is ready")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(f.reg, promhttp.HandlerOpts{}))
	if len(f.cfg.SimulatorRootPEM) > 0 {
		mux.HandleFunc("GET /v1/simulator/root.pem", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Header().Set("X-FaceSign-Warning", "simulator root: trusting it means trusting any simulated enclave")
			_, _ = w.Write(f.cfg.SimulatorRootPEM)
		})
	}
	for _, r := range []string{wire.RouteChallenge, wire.RouteEnroll, wire.RouteLogin, wire.RouteDelete} {
		mux.HandleFunc("POST "+r, f.limited(f.sealed))
	}
	mux.HandleFunc("GET "+wire.RouteAttestation, f.limited(f.attestation))
	mux.HandleFunc("/", f.limited(f.passThrough))
	return mux
}

func (f *Front) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.limiter != nil && strings.HasPrefix(r.URL.Path, "/v1/") {
			if ok, wait := f.limiter.allow(clientKey(r.RemoteAddr), f.cfg.Now()); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests from this client; retry later")
				return
			}
		}
		h(w, r)
	}
}

// candidates lists ready members, round-robin from the next one; with
// keyID ≥ 0, members known to hold that key first, then those whose key is
// not known yet (members known to hold another key are left out).
func (f *Front) candidates(keyID int) []*frontMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.members)
	start := int(f.rr.Add(1) % uint64(n))
	var known, unknown []*frontMember
	for k := range n {
		m := f.members[(start+k)%n]
		switch {
		case !m.ready || m.url == "":
		case keyID < 0 || m.keyID == keyID:
			known = append(known, m)
		case m.keyID < 0:
			unknown = append(unknown, m)
		}
	}
	return append(known, unknown...)
}

// forwarded is a member's answer, read whole.
type forwarded struct {
	status int
	header http.Header
	body   []byte
}

func (f *Front) forward(ctx context.Context, m *frontMember, r *http.Request, body []byte) (*forwarded, error) {
	f.mu.Lock()
	url := m.url
	f.mu.Unlock()
	if url == "" {
		return nil, errors.New("member down")
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, url+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Content-Type", "Accept", "X-Request-ID", "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	res, err := f.client.Do(req)
	if err != nil {
		f.m.requests.WithLabelValues(strconv.Itoa(m.index), "unreachable").Inc()
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, DefaultMaxResponseBytes+1))
	if err != nil {
		f.m.requests.WithLabelValues(strconv.Itoa(m.index), "unreachable").Inc()
		return nil, err
	}
	f.m.requests.WithLabelValues(strconv.Itoa(m.index), classOf(res.StatusCode)).Inc()
	return &forwarded{status: res.StatusCode, header: res.Header, body: b}, nil
}

func (fw *forwarded) write(w http.ResponseWriter) {
	for k, vs := range fw.header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Connection", "Transfer-Encoding", "Date":
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(fw.status)
	_, _ = w.Write(fw.body)
}

// keyMiss reports an answer refusing a request as not sealed to the
// member's key: an error the enclave gives before changing anything.
func keyMiss(fw *forwarded) bool {
	if fw.status < 400 || fw.status >= 500 {
		return false
	}
	var e ErrorBody
	if json.Unmarshal(fw.body, &e) != nil {
		return false
	}
	return e.Error.Code == string(wire.CodeUnknownKeyID) || e.Error.Code == string(wire.CodeDecryptFailed)
}

func (f *Front) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	return readBody(w, r, f.cfg.MaxBodyBytes)
}

func (f *Front) sealed(w http.ResponseWriter, r *http.Request) {
	body, ok := f.readBody(w, r)
	if !ok {
		return
	}
	keyID := -1
	if len(body) > 0 {
		keyID = int(body[0])
	}
	for _, m := range f.candidates(keyID) {
		fw, err := f.forward(r.Context(), m, r, body)
		if err != nil {
			continue // unreachable: the request never arrived; try another
		}
		if keyMiss(fw) {
			f.m.misses.Inc()
			continue
		}
		fw.write(w)
		return
	}
	// Every member refused the key, or none was reached. A refusal may be
	// decrypt_failed from a member whose one-byte key id is the same as
	// the client's lost enclave's: what the client must hear is that no
	// enclave holds its key, so it attests again.
	if len(f.candidates(-1)) > 0 {
		// Members are ready, none with this key (its enclave restarted or
		// left): the client attests again, as after a single restart.
		writeError(w, wire.CodeUnknownKeyID.HTTPStatus(), string(wire.CodeUnknownKeyID), "no enclave holds this key; fetch a fresh attestation")
		return
	}
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "no enclave is ready")
}

func (f *Front) attestation(w http.ResponseWriter, r *http.Request) {
	for _, m := range f.candidates(-1) {
		fw, err := f.forward(r.Context(), m, r, nil)
		if err != nil {
			continue
		}
		if fw.status == http.StatusOK {
			f.mu.Lock()
			url := m.url
			f.mu.Unlock()
			f.learnKey(m.index, url, fw.body)
		}
		fw.write(w)
		return
	}
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "no enclave is ready")
}

func (f *Front) passThrough(w http.ResponseWriter, r *http.Request) {
	body, ok := f.readBody(w, r)
	if !ok {
		return
	}
	for _, m := range f.candidates(-1) {
		fw, err := f.forward(r.Context(), m, r, body)
		if err != nil {
			continue
		}
		fw.write(w)
		return
	}
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "no enclave is ready")
}

// memberCollector re-exports every member's facesign_enclave_* metrics
// with an enclave label, read from the member's /metrics at scrape time.
type memberCollector struct{ f *Front }

func (c *memberCollector) Describe(chan<- *prometheus.Desc) {} // unchecked: names come from the members

func (c *memberCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.f.Members() {
		if m.URL == "" {
			continue
		}
		fams, err := c.f.scrape(m.URL)
		if err != nil {
			continue
		}
		for name, fam := range fams {
			if !strings.HasPrefix(name, "facesign_enclave_") {
				continue
			}
			for _, mt := range fam.GetMetric() {
				var v float64
				var vt prometheus.ValueType
				switch fam.GetType() {
				case dto.MetricType_GAUGE:
					v, vt = mt.GetGauge().GetValue(), prometheus.GaugeValue
				case dto.MetricType_COUNTER:
					v, vt = mt.GetCounter().GetValue(), prometheus.CounterValue
				default:
					continue
				}
				names, values := []string{"enclave"}, []string{strconv.Itoa(m.Index)}
				for _, lp := range mt.GetLabel() {
					if lp.GetName() != "enclave" {
						names, values = append(names, lp.GetName()), append(values, lp.GetValue())
					}
				}
				d := prometheus.NewDesc(name, fam.GetHelp(), names, nil)
				if pm, err := prometheus.NewConstMetric(d, vt, v, values...); err == nil {
					ch <- pm
				}
			}
		}
	}
}

func (f *Front) scrape(url string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(io.LimitReader(res.Body, 4<<20))
}
