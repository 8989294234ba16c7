package calib

import (
	"fmt"
	"math"

	"github.com/facesign/facesign/vectors"
)

// Policy is the rule that turns a [Curve] and a gallery size into
// thresholds (package doc: what each setting protects).
type Policy struct {
	// Epsilon bounds the chance that a search by someone not enrolled
	// clears the match threshold against any of the N enrolled vectors:
	// N × FMR(match) ≤ Epsilon. Default 1e-6.
	Epsilon float64
	// MaxNewRefused bounds the expected share of new people refused as
	// ambiguous because some enrolled vector scores at or above the new
	// threshold: 1 − (1 − FMR(new))^N ≤ MaxNewRefused. Default 0.01.
	MaxNewRefused float64
	// MaxDuplicate bounds the share of returning people whose genuine score
	// falls below the new threshold — who would be minted a second identity
	// when nobody else scores above it: FNMR(new) ≤ MaxDuplicate. Default
	// 0.01.
	MaxDuplicate float64
	// TemplateEpsilon bounds the chance that a search by someone not
	// enrolled reaches the strong-match level a capture needs to become a
	// template of the identity it matched (docs/templates.md): N ×
	// FMR(strong) ≤ TemplateEpsilon ([Curve.TemplateLevelsAt]). A planted
	// template turns one lucky false match into a face that keeps matching,
	// so the bound sits below Epsilon: default Epsilon/100. 0: the policy
	// keeps no templates by this rule.
	TemplateEpsilon float64
}

// Policy defaults.
const (
	DefaultEpsilon       = 1e-6
	DefaultMaxNewRefused = 0.01
	DefaultMaxDuplicate  = 0.01
	// DefaultTemplateEpsilon: a stranger's capture becomes someone's
	// template a hundred times more rarely than it is handed a wallet.
	DefaultTemplateEpsilon = DefaultEpsilon / 100
)

// DefaultPolicy is the policy the service runs unless configured otherwise.
func DefaultPolicy() Policy {
	return Policy{Epsilon: DefaultEpsilon, MaxNewRefused: DefaultMaxNewRefused, MaxDuplicate: DefaultMaxDuplicate,
		TemplateEpsilon: DefaultTemplateEpsilon}
}

// Check returns an error wrapping [ErrPolicy] unless 0 < Epsilon < 1,
// 0 < MaxNewRefused < 1, 0 < MaxDuplicate < 1 and TemplateEpsilon is 0 or
// in (0, Epsilon].
func (p Policy) Check() error {
	in := func(x float64) bool { return x > 0 && x < 1 }
	switch {
	case !in(p.Epsilon):
		return fmt.Errorf("%w: epsilon %v not in (0, 1)", ErrPolicy, p.Epsilon)
	case !in(p.MaxNewRefused):
		return fmt.Errorf("%w: max new refused %v not in (0, 1)", ErrPolicy, p.MaxNewRefused)
	case !in(p.MaxDuplicate):
		return fmt.Errorf("%w: max duplicate %v not in (0, 1)", ErrPolicy, p.MaxDuplicate)
	case p.TemplateEpsilon != 0 && !(p.TemplateEpsilon > 0 && p.TemplateEpsilon <= p.Epsilon):
		return fmt.Errorf("%w: template epsilon %v not 0 or in (0, epsilon %v]", ErrPolicy, p.TemplateEpsilon, p.Epsilon)
	}
	return nil
}

// Operating is what the curve predicts at gallery size N under a policy:
// the thresholds and the error rates they give.
type Operating struct {
	N          int
	Thresholds vectors.Thresholds
	// MatchFMR is FMR at the match threshold (N × MatchFMR ≤ Epsilon);
	// MatchExtrapolated: read from the tail model.
	MatchFMR          float64
	MatchExtrapolated bool
	// NewFMR is FMR at the new threshold; NewExtrapolated: from the tail
	// model.
	NewFMR          float64
	NewExtrapolated bool
	// NewRefused = 1 − (1 − NewFMR)^N: the expected share of new people
	// refused as ambiguous.
	NewRefused float64
	// Duplicate = FNMR(New): the share of returning people whose own
	// score falls below the new threshold.
	Duplicate float64
	// NotRecognised = FNMR(Match): the share of returning people not
	// answered existing (ambiguous, or a second identity).
	NotRecognised float64
}

// matchAt is the lowest threshold t in [-1, 1] with n·FMR(t) ≤ ε, if any.
func (c Curve) matchAt(n int, eps float64) (float32, bool) {
	return lowest(func(t float32) bool {
		f, _ := c.FMR(t)
		return float64(n)*f <= eps
	})
}

// newAt is the lowest threshold t in [-1, 1] whose expected share of new
// people refused, 1 − (1 − FMR(t))^n, is at most rho.
func (c Curve) newAt(n int, rho float64) (float32, bool) {
	// 1 − (1 − f)^n ≤ ρ  ⇔  f ≤ 1 − (1 − ρ)^(1/n)
	limit := -math.Expm1(math.Log1p(-rho) / float64(n))
	return lowest(func(t float32) bool {
		f, _ := c.FMR(t)
		return f <= limit
	})
}

// lowest returns the lowest float32 t in [-1, 1] at which ok holds, for an
// ok that is false below some point and true from it on.
func lowest(ok func(float32) bool) (float32, bool) {
	if !ok(1) {
		return 0, false
	}
	if ok(-1) {
		return -1, true
	}
	lo, hi := key(-1), key(1) // ok(lo) false, ok(hi) true
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(unkey(mid)) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return unkey(hi), true
}

// key maps float32 to integers in the same order (-0 and +0 apart, which
// the search does not mind).
func key(f float32) int64 {
	b := int64(math.Float32bits(f))
	if b&(1<<31) != 0 {
		return -(b &^ (1 << 31))
	}
	return b
}

func unkey(k int64) float32 {
	if k < 0 {
		return math.Float32frombits(uint32(-k) | 1<<31)
	}
	return math.Float32frombits(uint32(k))
}

// At returns the thresholds and predicted rates for a gallery of n enrolled
// vectors under p (n < 1 counts as 1; a caller keeping several templates
// per identity passes the number of vectors a search compares against).
// The rule:
//
//   - match = the lowest t with n × FMR(t) ≤ p.Epsilon;
//   - new = the lowest t whose expected share of new people refused,
//     1 − (1 − FMR(t))^n, is at most p.MaxNewRefused (lowest, because every
//     step up lets more returning people fall below it: package doc);
//   - margin = the curve's calibrated margin;
//
// and it holds only when new < match − margin and FNMR(new) ≤
// p.MaxDuplicate. Otherwise At returns an error wrapping [ErrOverCapacity].
func (c Curve) At(n int, p Policy) (Operating, error) {
	if !c.ok() {
		return Operating{}, fmt.Errorf("%w: zero curve", ErrCurve)
	}
	if err := p.Check(); err != nil {
		return Operating{}, err
	}
	n = max(n, 1)
	tm, ok := c.matchAt(n, p.Epsilon)
	if !ok {
		return Operating{}, fmt.Errorf("%w: at %d, no threshold keeps %d × FMR ≤ %g", ErrOverCapacity, n, n, p.Epsilon)
	}
	tn, ok := c.newAt(n, p.MaxNewRefused)
	if !ok {
		return Operating{}, fmt.Errorf("%w: at %d, no new threshold refuses at most %g of new people", ErrOverCapacity, n, p.MaxNewRefused)
	}
	margin := c.file.Margin
	if !(tn < tm-margin) {
		return Operating{}, fmt.Errorf("%w: at %d, new threshold %.4f is not below match %.4f − margin %.4f", ErrOverCapacity, n, tn, tm, margin)
	}
	o := Operating{N: n, Thresholds: vectors.Thresholds{Match: tm, New: tn, Margin: margin}}
	o.MatchFMR, o.MatchExtrapolated = c.FMR(tm)
	o.NewFMR, o.NewExtrapolated = c.FMR(tn)
	o.NewRefused = -math.Expm1(float64(n) * math.Log1p(-o.NewFMR))
	o.Duplicate = c.FNMR(tn)
	o.NotRecognised = c.FNMR(tm)
	if !(o.Duplicate <= p.MaxDuplicate) {
		return Operating{}, fmt.Errorf("%w: at %d, %.3g of returning people score below the new threshold %.4f (policy: at most %g)", ErrOverCapacity, n, o.Duplicate, tn, p.MaxDuplicate)
	}
	return o, nil
}

// ThresholdsAt returns the decision thresholds for a gallery of n enrolled
// vectors under p ([Curve.At]), or an error wrapping [ErrOverCapacity] when
// none satisfy p at n.
func (c Curve) ThresholdsAt(n int, p Policy) (vectors.Thresholds, error) {
	o, err := c.At(n, p)
	if err != nil {
		return vectors.Thresholds{}, err
	}
	return o.Thresholds, nil
}

// MatchAt returns the match threshold alone for a gallery of n enrolled
// vectors: the lowest t with max(n, 1) × FMR(t) ≤ p.Epsilon, and whether it
// is extrapolated. Above [Curve.Capacity] it still bounds the chance of
// handing a stranger someone's wallet, which lets a service keep answering
// returning people while it refuses to enrol new ones. The error wraps
// [ErrOverCapacity] when no threshold up to 1 is strict enough.
func (c Curve) MatchAt(n int, p Policy) (float32, bool, error) {
	if !c.ok() {
		return 0, false, fmt.Errorf("%w: zero curve", ErrCurve)
	}
	if err := p.Check(); err != nil {
		return 0, false, err
	}
	n = max(n, 1)
	tm, ok := c.matchAt(n, p.Epsilon)
	if !ok {
		return 0, false, fmt.Errorf("%w: at %d, no threshold keeps %d × FMR ≤ %g", ErrOverCapacity, n, n, p.Epsilon)
	}
	_, ex := c.FMR(tm)
	return tm, ex, nil
}

// maxGallery bounds the capacity search.
const maxGallery = 1 << 40

// Capacity is the largest gallery size n at which [Curve.At] finds
// thresholds under p, found by bisection over n (0 when even n = 1 fails,
// or when the curve or policy is unusable). The conditions tighten as n
// grows — both thresholds rise, FNMR at the new threshold with them — so
// At fails above the capacity; below it At is computed afresh at every n
// and refuses wherever a non-monotone stretch of the measured curve would
// break a condition.
func (c Curve) Capacity(p Policy) int {
	ok := func(n int) bool { _, err := c.At(n, p); return err == nil }
	if !ok(1) {
		return 0
	}
	lo, hi := 1, 2
	for ok(hi) {
		if hi >= maxGallery {
			return hi
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TemplateLevels are the template rule's levels at one gallery size: a
// capture that matched an identity becomes one of its templates only when
// its best score reaches Strong and it scores below Novel against every
// vector the identity keeps (docs/templates.md).
type TemplateLevels struct {
	Strong, Novel float32
	// Extrapolated: FMR at Strong comes from the curve's tail model.
	Extrapolated bool
}

// TemplateLevelsAt returns the template levels for a gallery of n enrolled
// vectors under p: Strong = the lowest t with max(n, 1) × FMR(t) ≤
// p.TemplateEpsilon — at or above the match threshold at n, since
// TemplateEpsilon ≤ Epsilon — and Novel = Strong + (1 − Strong)/2, the
// near-copy level halfway from Strong to 1 (a capture that close to a kept
// vector adds no view). Like the match threshold, Strong rises with n, so
// the chance that a stranger plants a template stays bounded however large
// the gallery grows. The error wraps [ErrPolicy] when p keeps no templates
// (TemplateEpsilon 0) and [ErrOverCapacity] when no threshold up to 1 is
// strict enough: then no capture becomes a template.
func (c Curve) TemplateLevelsAt(n int, p Policy) (TemplateLevels, error) {
	if !c.ok() {
		return TemplateLevels{}, fmt.Errorf("%w: zero curve", ErrCurve)
	}
	if err := p.Check(); err != nil {
		return TemplateLevels{}, err
	}
	if p.TemplateEpsilon == 0 {
		return TemplateLevels{}, fmt.Errorf("%w: no template epsilon: the policy keeps no templates", ErrPolicy)
	}
	n = max(n, 1)
	strong, ok := c.matchAt(n, p.TemplateEpsilon)
	if !ok {
		return TemplateLevels{}, fmt.Errorf("%w: at %d, no strong-match level keeps %d × FMR ≤ %g: no templates", ErrOverCapacity, n, n, p.TemplateEpsilon)
	}
	_, ex := c.FMR(strong)
	return TemplateLevels{Strong: strong, Novel: strong + (1-strong)/2, Extrapolated: ex}, nil
}
