package enclave

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/facesign/facesign/internal/syncbuf"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// fakeCurve is a calibration curve for fakeEngine, built by calib.Build
// from scores drawn like the fake population's: different people are
// random 64-d unit vectors (cosine ≈ N(0, 1/8²)); the genuine scores are
// spread wide enough that the duplicate bound limits the capacity to a
// handful of people, so tests can cross it.
func fakeCurve(t testing.TB) calib.Curve {
	t.Helper()
	return fakeCurveFor(t, fakeEngine{dim: 64})
}

// fakeCurveFor is fakeCurve measured for engine e.
func fakeCurveFor(t testing.TB, e vectors.Engine) calib.Curve {
	t.Helper()
	r := rand.New(rand.NewPCG(12, 1))
	gen := make([]float32, 2000)
	for i := range gen {
		gen[i] = float32(min(0.593+0.1*r.NormFloat64(), 1))
	}
	imp := make([]float32, 20_000)
	for i := range imp {
		imp[i] = float32(0.125 * r.NormFloat64())
	}
	c, err := calib.Build(calib.Input{Engine: e.ID(), ModelSHA256: e.ModelSHA256(), Margin: 0.1,
		Scores: calib.ScoresOf(gen, imp), Source: calib.Source{Dataset: "synthetic: the fake engine's population", Split: "all", Command: "enclave tests"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rulePolicy(t testing.TB, c calib.Curve) wire.Policy {
	t.Helper()
	p, err := RulePolicy(testPolicy(fakeEngine{dim: 64}), c, calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// editRule returns p, which has a rule, changed by f; the change never
// reaches p's own rule.
func editRule(p wire.Policy, f func(p *wire.Policy)) wire.Policy {
	r := *p.Rule
	p.Rule = &r
	f(&p)
	return p
}

func TestBucketOf(t *testing.T) {
	tests := []struct{ n, capacity, want int }{
		{1, 100, 1}, {2, 100, 2}, {3, 100, 4}, {64, 100, 64}, {65, 100, 100},
		{100, 100, 100}, {101, 100, 128}, {129, 100, 256}, {5, 0, 8}, {1 << 40, 1 << 50, 1 << 40},
	}
	for _, tt := range tests {
		if got := bucketOf(tt.n, tt.capacity); got != tt.want {
			t.Errorf("bucketOf(%d, %d) = %d, want %d", tt.n, tt.capacity, got, tt.want)
		}
	}
}

func TestRulePolicyChecks(t *testing.T) {
	c := fakeCurve(t)
	good := rulePolicy(t, c)
	if good.MatchThreshold != 0 || good.NewThreshold != 0 || good.Margin != c.Margin() || good.Rule == nil ||
		good.Rule.Capacity != int64(c.Capacity(calib.DefaultPolicy())) || good.Rule.Epsilon != calib.DefaultEpsilon {
		t.Fatalf("rule policy %+v %+v", good, good.Rule)
	}
	if _, err := newThresholdRule(good, &c, nil); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(p *wire.Policy)) wire.Policy { return editRule(good, f) }
	tests := []struct {
		name string
		p    wire.Policy
	}{
		{"other curve", edit(func(p *wire.Policy) { p.Rule.CurveSHA256 = bytes.Repeat([]byte{1}, 32) })},
		{"other capacity", edit(func(p *wire.Policy) { p.Rule.Capacity++ })},
		{"fixed thresholds beside the rule", edit(func(p *wire.Policy) { p.MatchThreshold = 0.6 })},
		{"other margin", edit(func(p *wire.Policy) { p.Margin = 0.2 })},
		{"bad epsilon", edit(func(p *wire.Policy) { p.Rule.Epsilon = 0 })},
		{"other weights", edit(func(p *wire.Policy) { p.ModelSHA256 = make([]byte, 32) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newThresholdRule(tt.p, &c, nil); !errors.Is(err, ErrRule) {
				t.Fatalf("got %v, want ErrRule", err)
			}
		})
	}
	// No curve ships for the fake engine.
	if _, err := newThresholdRule(good, nil, nil); !errors.Is(err, ErrRule) {
		t.Fatalf("no curve: %v", err)
	}
	// A curve beside fixed thresholds is a configuration mistake.
	if _, err := newThresholdRule(testPolicy(fakeEngine{dim: 64}), &c, nil); !errors.Is(err, ErrRule) {
		t.Fatalf("curve with a fixed policy: %v", err)
	}
	if _, err := RulePolicy(DefaultPolicy(fakeEngine{dim: 64}), c, calib.Policy{}); !errors.Is(err, ErrRule) {
		t.Fatalf("bad calib policy: %v", err)
	}
	other := testPolicy(fakeEngine{dim: 64})
	other.Engine = "other"
	if _, err := RulePolicy(other, c, calib.DefaultPolicy()); !errors.Is(err, ErrRule) {
		t.Fatalf("curve of another engine: %v", err)
	}
}

// TestThresholdRuleAt: within the capacity the rule's thresholds are the
// curve's at the size's bucket; above it nobody is new and a match needs
// the match threshold for that size; the crossing is logged once each way.
func TestThresholdRuleAt(t *testing.T) {
	c := fakeCurve(t)
	var logs syncbuf.Buffer
	r, err := newThresholdRule(rulePolicy(t, c), &c, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	capacity := r.capacity
	if capacity < 2 || capacity > 50 {
		t.Fatalf("the fake curve's capacity %d: want a handful", capacity)
	}
	// An empty gallery decides new whatever the thresholds.
	if d := decideWith(r.at(0), nil); d.Outcome != OutcomeNew {
		t.Fatalf("empty gallery: %v", d.Outcome)
	}
	for n := 1; n <= capacity; n++ {
		want, err := c.ThresholdsAt(bucketOf(n, capacity), calib.DefaultPolicy())
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got := r.at(n); got != want {
			t.Fatalf("n=%d: %+v, want %+v", n, got, want)
		}
	}
	if strings.Contains(logs.String(), "over the capacity") {
		t.Fatalf("log within capacity: %s", logs.String())
	}
	over := r.at(capacity + 1)
	tm, _, err := c.MatchAt(bucketOf(capacity+1, capacity), calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if over.Match != tm || !math.IsInf(float64(over.New), -1) || over.Margin != c.Margin() {
		t.Fatalf("over capacity: %+v (match only %v)", over, tm)
	}
	// never new, existing only at tm with the margin
	if d := decideWith(over, []Match{{1, -0.5}}); d.Outcome != OutcomeAmbiguous {
		t.Fatalf("a new person over capacity: %v", d.Outcome)
	}
	if d := decideWith(over, []Match{{7, tm}, {1, tm - c.Margin() - 0.01}}); d.Outcome != OutcomeExisting || d.Slot != 7 {
		t.Fatalf("a returning person over capacity: %v", d.Outcome)
	}
	r.at(capacity + 2)
	if n := strings.Count(logs.String(), "gallery over the capacity"); n != 1 {
		t.Fatalf("%d over-capacity log lines: %s", n, logs.String())
	}
	r.at(capacity)
	if !strings.Contains(logs.String(), "gallery back within the capacity") {
		t.Fatalf("no log line on return: %s", logs.String())
	}
	// A size with no match threshold at all refuses everything.
	all := r.at(1 << 40)
	if !math.IsInf(float64(all.Match), 1) || !math.IsInf(float64(all.New), -1) {
		t.Fatalf("no thresholds at all: %+v", all)
	}
	if d := decideWith(all, []Match{{3, 1}}); d.Outcome != OutcomeAmbiguous {
		t.Fatalf("refuse all: %v", d.Outcome)
	}
}

// TestServiceThresholdRule runs the service under a gallery-size rule: people
// enrol up to the capacity, the next new person is refused as ambiguous (with
// a log line, and nothing written but the one record every request makes),
// and enrolled people keep logging in.
func TestServiceThresholdRule(t *testing.T) {
	c := fakeCurve(t)
	var logs syncbuf.Buffer
	h := newHarness(t, func(cfg *Config) {
		pol := rulePolicy(t, c)
		cfg.Policy, cfg.Curve = pol, &c
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	if got := h.binding.Policy.Rule; got == nil || got.Capacity != int64(c.Capacity(calib.DefaultPolicy())) {
		t.Fatalf("attested rule %+v", got)
	}
	capacity := int(h.binding.Policy.Rule.Capacity)
	ids := map[int]string{}
	for p := 1; p <= capacity; p++ {
		r := h.face(wire.RouteEnroll, p)
		h.mustStatus(r, wire.StatusNew)
		ids[p] = fmtID(r)
	}
	if strings.Contains(logs.String(), "over the capacity") {
		t.Fatal("over-capacity log within capacity")
	}
	// One vector more than the capacity: the next enrolment is over it.
	r := h.face(wire.RouteEnroll, capacity+1)
	h.mustStatus(r, wire.StatusNew)
	writes := h.log.Puts()
	r = h.face(wire.RouteEnroll, capacity+2)
	if r.Status != wire.StatusRejected || r.Reason != wire.CodeAmbiguousMatch || r.UniqueID != "" || r.Entropy != nil {
		t.Fatalf("new person over capacity: %s %s", r.Status, r.Reason)
	}
	if h.log.Puts() != writes+1 || h.svc.Identities() != capacity+1 {
		t.Fatalf("%d writes, %d identities", h.log.Puts()-writes, h.svc.Identities())
	}
	if !strings.Contains(logs.String(), "gallery over the capacity of the threshold rule") {
		t.Fatalf("no over-capacity log line: %s", logs.String())
	}
	for p := 1; p <= capacity; p++ {
		r := h.face(wire.RouteLogin, p)
		h.mustStatus(r, wire.StatusExisting)
		if fmtID(r) != ids[p] {
			t.Fatalf("person %d logged in as another identity", p)
		}
	}
	// Deleting one brings the gallery back within the capacity.
	h.mustStatus(h.face(wire.RouteDelete, 1), wire.StatusDeleted)
	h.mustStatus(h.face(wire.RouteDelete, 2), wire.StatusDeleted)
	h.mustStatus(h.face(wire.RouteEnroll, capacity+2), wire.StatusNew)
	if !strings.Contains(logs.String(), "gallery back within the capacity") {
		t.Fatalf("no log line on return: %s", logs.String())
	}
}

// TestDefaultPolicyShippedCurves: the default policy runs the gallery-size
// rule on a shipped curve only when the curve is not provisional.
func TestDefaultPolicyShippedCurves(t *testing.T) {
	for _, id := range calib.Shipped() {
		e, err := vectors.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := calib.ForEngine(id)
		p := DefaultPolicy(e)
		if c.Source().Provisional != (p.Rule == nil) {
			t.Fatalf("%s: provisional %v, rule %+v", id, c.Source().Provisional, p.Rule)
		}
		if p.Rule != nil {
			if _, err := newThresholdRule(p, nil, nil); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
		// FixedPolicy is the same policy with the engine's fixed
		// thresholds and no rule, and a policy hash of its own.
		f := FixedPolicy(e)
		if f.Rule != nil || f.MatchThreshold == 0 || f.NewThreshold == 0 {
			t.Fatalf("%s: fixed policy %+v", id, f)
		}
		if p.Rule != nil && bytes.Equal(mustHash(t, f), mustHash(t, p)) {
			t.Fatalf("%s: fixed and rule policies hash alike", id)
		}
	}
	// The default engine's curve is the production one: it decides.
	e, err := vectors.Open(DefaultEngine)
	if err != nil {
		t.Fatal(err)
	}
	if p := DefaultPolicy(e); p.Rule == nil || p.Rule.Capacity < 1 {
		t.Fatalf("default engine %s: policy without a usable rule: %+v", DefaultEngine, p.Rule)
	}
}

func mustHash(t *testing.T, p wire.Policy) []byte {
	t.Helper()
	h, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}

// TestZeroCapacityRule: under a rule whose capacity is 0 the first person
// still enrols (there is nobody to confuse them with), nothing is logged
// while the gallery is empty, and the second is refused.
func TestZeroCapacityRule(t *testing.T) {
	c := fakeCurve(t)
	var logs syncbuf.Buffer
	h := newHarness(t, func(cfg *Config) {
		p, err := RulePolicy(testPolicy(fakeEngine{dim: 64}), c, calib.Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 1e-9})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policy, cfg.Curve = p, &c
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	if h.binding.Policy.Rule.Capacity != 0 {
		t.Fatalf("capacity %d", h.binding.Policy.Rule.Capacity)
	}
	if strings.Contains(logs.String(), "over the capacity") {
		t.Fatalf("an empty gallery logged over capacity: %s", logs.String())
	}
	h.mustStatus(h.face(wire.RouteEnroll, 1), wire.StatusNew)
	if r := h.face(wire.RouteEnroll, 2); r.Status != wire.StatusRejected || r.Reason != wire.CodeAmbiguousMatch {
		t.Fatalf("second person: %s %s", r.Status, r.Reason)
	}
	h.mustStatus(h.face(wire.RouteLogin, 1), wire.StatusExisting)
	if !strings.Contains(logs.String(), "over the capacity") {
		t.Fatal("no over-capacity log line")
	}
}

// TestRuleTemplateLevels: under a threshold rule the template levels follow
// the gallery size like the thresholds do — the strong level is the lowest
// score at which N × FMR ≤ the template epsilon, never below the match
// threshold in force (over the capacity too), rising with N, until no level
// up to 1 is strict enough and no capture becomes a template.
func TestRuleTemplateLevels(t *testing.T) {
	c := fakeCurve(t)
	pol := rulePolicy(t, c)
	if pol.MaxTemplates != 0 {
		t.Fatalf("test policy keeps %d templates", pol.MaxTemplates)
	}
	withK := testPolicy(fakeEngine{dim: 64})
	withK.MaxTemplates, withK.TemplateMatch, withK.TemplateNovel = 4, 0.8, 0.97
	pol, err := RulePolicy(withK, c, calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if pol.TemplateMatch != 0 || pol.TemplateNovel != 0 || pol.Rule.TemplateEpsilon != calib.DefaultTemplateEpsilon {
		t.Fatalf("rule policy with templates: levels %v/%v, rule %+v", pol.TemplateMatch, pol.TemplateNovel, pol.Rule)
	}
	r, err := newThresholdRule(pol, &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.templateLevels(0); ok {
		t.Fatal("template levels for an empty gallery")
	}
	cp := calib.DefaultPolicy()
	prev, gone := float32(-1), 0
	for n := 1; n <= 1<<40; n *= 4 {
		lv, ok := r.templateLevels(n)
		th := r.at(n)
		if !ok {
			if n == 1 {
				t.Fatal("no template levels for one vector")
			}
			if gone == 0 {
				gone = n
			}
			continue
		}
		if gone != 0 {
			t.Fatalf("n=%d: template levels again after none at %d", n, gone)
		}
		b := bucketOf(n, r.capacity)
		f, _ := c.FMR(lv.Strong)
		fb, _ := c.FMR(below(lv.Strong))
		if !(float64(b)*f <= cp.TemplateEpsilon && float64(b)*fb > cp.TemplateEpsilon) {
			t.Fatalf("n=%d: strong %v: %d × FMR %g, just below %g (template epsilon %g)", n, lv.Strong, b, f, fb, cp.TemplateEpsilon)
		}
		if !(lv.Strong >= th.Match) || lv.Strong < prev || lv.Novel != lv.Strong+(1-lv.Strong)/2 {
			t.Fatalf("n=%d: levels %+v, match %v, previous strong %v", n, lv, th.Match, prev)
		}
		prev = lv.Strong
	}
	if gone == 0 {
		t.Fatal("template levels at every size: the strong level never reached 1")
	}

	// The policy checks: templates under a rule need the template epsilon,
	// and only they may carry one; fixed levels do not sit beside a rule.
	edit := func(f func(p *wire.Policy)) wire.Policy { return editRule(pol, f) }
	for name, p := range map[string]wire.Policy{
		"templates without a template epsilon":  edit(func(p *wire.Policy) { p.Rule.TemplateEpsilon = 0 }),
		"a template epsilon without templates":  edit(func(p *wire.Policy) { p.MaxTemplates = 1 }),
		"fixed template levels beside the rule": edit(func(p *wire.Policy) { p.TemplateMatch, p.TemplateNovel = 0.8, 0.97 }),
		"template epsilon above epsilon":        edit(func(p *wire.Policy) { p.Rule.TemplateEpsilon = 2 * p.Rule.Epsilon }),
	} {
		if _, err := newThresholdRule(p, &c, nil); !errors.Is(err, ErrRule) {
			t.Errorf("%s: %v, want ErrRule", name, err)
		}
	}
	noTE := calib.DefaultPolicy()
	noTE.TemplateEpsilon = 0
	if _, err := RulePolicy(withK, c, noTE); !errors.Is(err, ErrRule) {
		t.Fatalf("RulePolicy with templates and no template epsilon: %v", err)
	}
}

// TestTemplatePositionUnderRule: the service keeps a template only at the
// rule's strong level for its gallery's size, not at the policy's old fixed
// level, and not at all where the rule has no level.
func TestTemplatePositionUnderRule(t *testing.T) {
	const dim = 8
	eng := fakeEngine{dim: dim}
	c := fakeCurveFor(t, eng)
	withK := testPolicy(eng)
	withK.MaxTemplates = 4
	pol, err := RulePolicy(withK, c, calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	rule, err := newThresholdRule(pol, &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{policy: pol, rule: rule, index: NewExactIndex(dim), ids: map[int]identity{}, tmpl: map[int]int{}, byID: map[uuid.UUID]int{}, inflight: map[uint64]int{}}
	e0 := make([]float32, dim)
	e0[0] = 1
	if err := s.addLocked(&identity{uniqueID: uuid.UUID{0: 1}}, e0); err != nil {
		t.Fatal(err)
	}
	key := s.byID[uuid.UUID{0: 1}]
	lv, err := c.TemplateLevelsAt(1, calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	match := rule.at(1).Match
	if !(lv.Strong > match) {
		t.Fatalf("strong %v not above the match threshold %v", lv.Strong, match)
	}
	// A capture at cosine x to the enrolment vector.
	at := func(x float32) []float32 {
		v := make([]float32, dim)
		v[0], v[1] = x, float32(math.Sqrt(1-float64(x)*float64(x)))
		return v
	}
	mid := (lv.Strong + lv.Novel) / 2
	for _, tt := range []struct {
		name string
		best float32
		v    []float32
		ok   bool
	}{
		{"existing but below strong", below(lv.Strong), at(mid), false},
		{"strong and novel", mid, at(mid), true},
		{"strong but a near-copy", lv.Novel, at(lv.Novel), false},
	} {
		p, ok, err := s.templatePositionLocked(s.ids[key], tt.v, tt.best)
		if err != nil || ok != tt.ok || ok && p != 1 {
			t.Fatalf("%s: position %d %v %v, want kept %v", tt.name, p, ok, err, tt.ok)
		}
	}
	// Where the rule has no strong level, nothing is kept however strong:
	// a template epsilon no score up to 1 meets (the tail never reaches
	// 1e-300 below 1).
	strict := calib.DefaultPolicy()
	strict.TemplateEpsilon = 1e-300
	if pol, err = RulePolicy(withK, c, strict); err != nil {
		t.Fatal(err)
	}
	if s.rule, err = newThresholdRule(pol, &c, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.templatePositionLocked(s.ids[key], at(mid), 1); ok {
		t.Fatal("kept a template where the rule has no level")
	}
}

// below is the next float32 below x.
func below(x float32) float32 { return math.Nextafter32(x, -2) }
