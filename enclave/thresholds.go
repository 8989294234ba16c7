package enclave

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
)

// ErrRule reports a threshold rule that does not fit its curve or engine.
var ErrRule = errors.New("enclave: threshold rule")

// RulePolicy returns p with its decision thresholds derived from the gallery
// size by curve c under cp ([wire.ThresholdRule], package vectors/calib):
// the fixed thresholds are cleared, the margin is the curve's, and the rule
// names the curve's SHA-256, cp's bounds and the capacity they give. When p
// keeps templates, their levels follow the gallery size as well: the rule
// carries cp.TemplateEpsilon (required then) and p's fixed template levels
// are cleared. The curve must be the one measured for p's engine and
// weights.
func RulePolicy(p wire.Policy, c calib.Curve, cp calib.Policy) (wire.Policy, error) {
	if err := cp.Check(); err != nil {
		return wire.Policy{}, fmt.Errorf("%w: %w", ErrRule, err)
	}
	model := c.ModelSHA256()
	if c.Engine() != p.Engine || !bytes.Equal(model[:], p.ModelSHA256) {
		return wire.Policy{}, fmt.Errorf("%w: curve measured for %s %x, policy runs %s %x", ErrRule, c.Engine(), model, p.Engine, p.ModelSHA256)
	}
	sum := c.SHA256()
	p.MatchThreshold, p.NewThreshold, p.Margin = 0, 0, c.Margin()
	p.Rule = &wire.ThresholdRule{
		CurveSHA256:   sum[:],
		Epsilon:       cp.Epsilon,
		MaxNewRefused: cp.MaxNewRefused,
		MaxDuplicate:  cp.MaxDuplicate,
		Capacity:      int64(c.Capacity(cp)),
	}
	if templatesK(p) > 1 {
		// The template levels follow the gallery size too: fixed ones would
		// fall below the rule's match threshold as the gallery grows, and a
		// capture would become a template at the first existing match.
		if cp.TemplateEpsilon == 0 {
			return wire.Policy{}, fmt.Errorf("%w: the policy keeps %d templates per identity; the rule needs a template epsilon", ErrRule, p.MaxTemplates)
		}
		p.Rule.TemplateEpsilon = cp.TemplateEpsilon
		p.TemplateMatch, p.TemplateNovel = 0, 0
	}
	return p, nil
}

// withShippedRule is [DefaultPolicy]'s choice: the gallery-size rule under
// [calib.DefaultPolicy] when a curve ships for e's weights
// ([calib.ForEngine]) and is not provisional, p's fixed thresholds
// otherwise. A provisional curve (made from a development slice) is shown by
// the tools but not run on: it would replace measured fixed thresholds with
// figures extrapolated from a few thousand pairs.
func withShippedRule(e vectors.Engine, p wire.Policy) wire.Policy {
	c, ok := calib.ForEngine(e.ID())
	if !ok || c.Source().Provisional || c.ModelSHA256() != e.ModelSHA256() {
		return p
	}
	rp, err := RulePolicy(p, c, calib.DefaultPolicy())
	if err != nil {
		return p
	}
	return rp
}

// capacityState is where the gallery stands against the rule's capacity.
type capacityState int

const (
	withinCapacity capacityState = iota
	// matchOnly: over capacity. Nobody is answered new; a capture is
	// existing only at the match threshold for the gallery's size, which
	// still keeps N × FMR ≤ ε, so returning people keep their wallets.
	matchOnly
	// refuseAll: over capacity with no match threshold either: every
	// decision is ambiguous.
	refuseAll
)

func (st capacityState) String() string {
	switch st {
	case withinCapacity:
		return "within capacity"
	case matchOnly:
		return "over capacity: new identities refused, returning people answered"
	case refuseAll:
		return "over capacity: every decision refused"
	}
	return fmt.Sprintf("capacityState(%d)", int(st))
}

// thresholdRule derives the thresholds from the number of vectors in the
// index at each decision. Thresholds are computed for the gallery size
// rounded up to a power of two (capped at the capacity while within it):
// stricter than the exact size on both sides of the rule (a higher match
// threshold; a new threshold whose refusal and duplicate bounds are met at
// the larger size, hence at the exact one), and recomputed only when that
// bucket changes.
type thresholdRule struct {
	curve    calib.Curve
	policy   calib.Policy
	capacity int
	log      *slog.Logger

	mu     sync.Mutex
	bucket int // the size th holds thresholds for; 0: none yet
	th     vectors.Thresholds
	state  capacityState
	// levels are the template levels at bucket (levelsOK false: no
	// capture becomes a template there, or the policy keeps none).
	levels   calib.TemplateLevels
	levelsOK bool
}

// newThresholdRule checks p's rule against its curve (curve, or the one
// shipped for p's engine when curve is nil); nil, nil when p has no rule.
func newThresholdRule(p wire.Policy, curve *calib.Curve, log *slog.Logger) (*thresholdRule, error) {
	r := p.Rule
	if r == nil {
		if curve != nil {
			return nil, fmt.Errorf("%w: a curve is configured but the policy has fixed thresholds", ErrRule)
		}
		return nil, nil
	}
	var c calib.Curve
	if curve != nil {
		c = *curve
	} else {
		var ok bool
		if c, ok = calib.ForEngine(p.Engine); !ok {
			return nil, fmt.Errorf("%w: no curve ships for engine %q", ErrRule, p.Engine)
		}
	}
	sum, model := c.SHA256(), c.ModelSHA256()
	cp := calib.Policy{Epsilon: r.Epsilon, MaxNewRefused: r.MaxNewRefused, MaxDuplicate: r.MaxDuplicate, TemplateEpsilon: r.TemplateEpsilon}
	switch {
	case !bytes.Equal(r.CurveSHA256, sum[:]):
		return nil, fmt.Errorf("%w: names curve %x, the curve for %s is %x", ErrRule, r.CurveSHA256, p.Engine, sum)
	case c.Engine() != p.Engine || !bytes.Equal(model[:], p.ModelSHA256):
		return nil, fmt.Errorf("%w: curve measured for %s %x, policy runs %s %x", ErrRule, c.Engine(), model, p.Engine, p.ModelSHA256)
	case p.MatchThreshold != 0 || p.NewThreshold != 0:
		return nil, fmt.Errorf("%w: fixed thresholds %v/%v set beside the rule", ErrRule, p.MatchThreshold, p.NewThreshold)
	case p.Margin != c.Margin():
		return nil, fmt.Errorf("%w: margin %v, the curve's is %v", ErrRule, p.Margin, c.Margin())
	case templatesK(p) > 1 && r.TemplateEpsilon == 0:
		return nil, fmt.Errorf("%w: the policy keeps %d templates per identity but the rule has no template epsilon", ErrRule, p.MaxTemplates)
	case templatesK(p) <= 1 && r.TemplateEpsilon != 0:
		return nil, fmt.Errorf("%w: a template epsilon set for a policy that keeps no templates", ErrRule)
	case p.TemplateMatch != 0 || p.TemplateNovel != 0:
		return nil, fmt.Errorf("%w: fixed template levels %v/%v set beside the rule", ErrRule, p.TemplateMatch, p.TemplateNovel)
	}
	if err := cp.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRule, err)
	}
	if got := c.Capacity(cp); int64(got) != r.Capacity {
		return nil, fmt.Errorf("%w: capacity %d, the curve gives %d", ErrRule, r.Capacity, got)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("decision thresholds follow the gallery size", "curve_sha256", fmt.Sprintf("%x", sum), "epsilon", cp.Epsilon,
		"max_new_refused", cp.MaxNewRefused, "max_duplicate", cp.MaxDuplicate, "template_epsilon", cp.TemplateEpsilon,
		"capacity", r.Capacity, "provisional_curve", c.Source().Provisional)
	return &thresholdRule{curve: c, policy: cp, capacity: int(r.Capacity), log: log}, nil
}

// bucketOf is the gallery size thresholds are computed for at n vectors:
// the next power of two ≥ n, but no more than capacity while n is within it.
func bucketOf(n, capacity int) int {
	if n < 1 {
		n = 1
	}
	b := n
	if n&(n-1) != 0 {
		b = 1 << bits.Len(uint(n))
	}
	if n <= capacity {
		b = min(b, capacity)
	}
	return b
}

// at returns the thresholds for a search against n vectors, and logs when
// the gallery passes the capacity (or comes back within it).
func (r *thresholdRule) at(n int) vectors.Thresholds {
	if n < 1 {
		// An empty gallery: every capture is new whatever the thresholds
		// (there is nobody to match), and no capacity to pass.
		return vectors.Thresholds{Match: float32(math.Inf(1)), New: float32(math.Inf(-1)), Margin: r.curve.Margin()}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updateLocked(n)
	return r.th
}

// templateLevels returns the template levels for a search against n ≥ 1
// vectors ([calib.Curve.TemplateLevelsAt] at the same bucket as the
// thresholds); ok is false when no capture may become a template there.
func (r *thresholdRule) templateLevels(n int) (lv calib.TemplateLevels, ok bool) {
	if n < 1 {
		return calib.TemplateLevels{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updateLocked(n)
	return r.levels, r.levelsOK
}

// updateLocked brings the thresholds and template levels to n's bucket.
// Called with r.mu held.
func (r *thresholdRule) updateLocked(n int) {
	b := bucketOf(n, r.capacity)
	if b == r.bucket {
		return
	}
	margin := r.curve.Margin()
	state := withinCapacity
	th, err := r.curve.ThresholdsAt(b, r.policy)
	if err != nil {
		// No guessing: nobody is answered new. Returning people are
		// answered only at a match threshold that keeps the ε bound.
		state, th = refuseAll, vectors.Thresholds{Match: float32(math.Inf(1)), New: float32(math.Inf(-1)), Margin: margin}
		if tm, _, err := r.curve.MatchAt(b, r.policy); err == nil {
			state, th = matchOnly, vectors.Thresholds{Match: tm, New: float32(math.Inf(-1)), Margin: margin}
		}
	}
	if state != r.state || r.bucket == 0 && state != withinCapacity {
		if state == withinCapacity {
			r.log.Info("gallery back within the capacity of the threshold rule", "capacity", r.capacity)
		} else {
			r.log.Warn("gallery over the capacity of the threshold rule: "+state.String(), "capacity", r.capacity)
		}
	}
	r.levels, r.levelsOK = calib.TemplateLevels{}, false
	if r.policy.TemplateEpsilon > 0 {
		lv, err := r.curve.TemplateLevelsAt(b, r.policy)
		r.levels, r.levelsOK = lv, err == nil
	}
	r.bucket, r.th, r.state = b, th, state
}

// decideLocked applies the decision rule to matches (the best score per
// identity): the policy's fixed thresholds, or the rule's at the number of
// vectors the search compared against. Called with s.mu held.
func (s *Service) decideLocked(matches []Match) Decision {
	if s.rule == nil {
		return Decide(s.policy, matches)
	}
	return decideWith(s.rule.at(s.index.Len()), matches)
}

// decideWith is [vectors.Decide] in the index's slot numbering.
func decideWith(th vectors.Thresholds, matches []Match) Decision {
	vm := make([]vectors.Match, len(matches))
	for i, m := range matches {
		vm[i] = vectors.Match{Slot: vectors.Slot(m.Slot), Score: m.Score}
	}
	d := vectors.Decide(th, vm)
	return Decision{Outcome: d.Outcome, Slot: int(d.Slot), Best: d.Best}
}
