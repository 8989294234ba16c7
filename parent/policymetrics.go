package parent

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"

	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// policyMetrics publish the decision rule the enclave attests to, read from
// the attestation answers the parent forwards: the capacity of the
// gallery-size rule, its bounds, and the thresholds it gives at each power
// of ten up to the capacity. They are the same for every request: the
// enclave's live gallery size, and so the thresholds in force at a given
// moment, never leave it — their changes would tell the parent which
// requests enrolled someone (docs/protocol.md §6).
type policyMetrics struct {
	mu   sync.Mutex
	last [32]byte // hash of the policy the gauges show

	rule       prometheus.Gauge
	capacity   prometheus.Gauge
	bounds     *prometheus.GaugeVec
	thresholds *prometheus.GaugeVec
}

func newPolicyMetrics(reg prometheus.Registerer) (*policyMetrics, error) {
	m := &policyMetrics{
		rule: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "enclave", Name: "threshold_rule",
			Help: "1 when the attested policy derives its thresholds from the gallery size (vectors/calib), 0 for fixed thresholds.",
		}),
		capacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "enclave", Name: "capacity",
			Help: "The largest gallery (enrolled vectors) the attested threshold rule supports; beyond it the enclave enrols nobody. 0 with fixed thresholds.",
		}),
		bounds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "enclave", Name: "threshold_rule_bound",
			Help: "The attested threshold rule's bounds: epsilon (N x FMR at the match threshold), max_new_refused, max_duplicate, and template_epsilon (N x FMR at the template strong-match level) when the policy keeps templates.",
		}, []string{"bound"}),
		thresholds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "enclave", Name: "threshold",
			Help: `Decision thresholds (cosine) of the attested policy: fixed ones (gallery="any"), or the rule's at each power of ten up to the capacity and at the capacity, with its template levels (kind template_match, template_novel) where it has them.`,
		}, []string{"kind", "gallery"}),
	}
	for _, c := range []prometheus.Collector{m.rule, m.capacity, m.bounds, m.thresholds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe reads the policy out of an attestation answer the enclave gave
// (unverified: the gauges inform the operator, they decide nothing).
func (m *policyMetrics) observe(body []byte) {
	var ar wire.AttestationResponse
	if err := wire.Unmarshal(body, &ar); err != nil {
		return
	}
	p := ar.Binding.Policy
	h, err := p.Hash()
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if h == m.last {
		return
	}
	m.last = h
	m.thresholds.Reset()
	m.bounds.Reset()
	set := func(kind, gallery string, v float32) {
		// the float32's shortest decimal, not its float64 expansion
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		m.thresholds.WithLabelValues(kind, gallery).Set(f)
	}
	r := p.Rule
	if r == nil {
		m.rule.Set(0)
		m.capacity.Set(0)
		set("match", "any", p.MatchThreshold)
		set("new", "any", p.NewThreshold)
		set("margin", "any", p.Margin)
		return
	}
	m.rule.Set(1)
	m.capacity.Set(float64(r.Capacity))
	m.bounds.WithLabelValues("epsilon").Set(r.Epsilon)
	m.bounds.WithLabelValues("max_new_refused").Set(r.MaxNewRefused)
	m.bounds.WithLabelValues("max_duplicate").Set(r.MaxDuplicate)
	if r.TemplateEpsilon > 0 {
		m.bounds.WithLabelValues("template_epsilon").Set(r.TemplateEpsilon)
	}
	c, ok := calib.ForEngine(p.Engine)
	sum := c.SHA256()
	if !ok || !bytes.Equal(sum[:], r.CurveSHA256) {
		return // the curve is not one this parent ships: bounds only
	}
	cp := calib.Policy{Epsilon: r.Epsilon, MaxNewRefused: r.MaxNewRefused, MaxDuplicate: r.MaxDuplicate, TemplateEpsilon: r.TemplateEpsilon}
	sizes := []int64{}
	for n := int64(1); n < r.Capacity; n *= 10 {
		sizes = append(sizes, n)
	}
	if r.Capacity > 0 {
		sizes = append(sizes, r.Capacity)
	}
	for _, n := range sizes {
		g := strconv.FormatInt(n, 10)
		if lv, err := c.TemplateLevelsAt(int(n), cp); err == nil {
			set("template_match", g, lv.Strong)
			set("template_novel", g, lv.Novel)
		}
		th, err := c.ThresholdsAt(int(n), cp)
		if err != nil {
			continue
		}
		set("match", g, th.Match)
		set("new", g, th.New)
		set("margin", g, th.Margin)
	}
}

// captureWriter keeps a copy of a successful answer of at most limit bytes.
type captureWriter struct {
	http.ResponseWriter
	status int
	limit  int64
	buf    bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status == http.StatusOK && int64(w.buf.Len()+len(b)) <= w.limit {
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}
