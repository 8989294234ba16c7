package enclave

import (
	"fmt"
	"math"

	"github.com/facesign/facesign/wire"
)

// Outcome is the decision about one fused face vector against the gallery.
type Outcome int

const (
	// OutcomeNew: every enrolled identity scores below the new-person threshold.
	OutcomeNew Outcome = iota + 1
	// OutcomeExisting: one identity clears the match threshold and every other
	// identity is clearly below it.
	OutcomeExisting
	// OutcomeAmbiguous: anything else. The request is refused; nobody's
	// entropy is handed out.
	OutcomeAmbiguous
)

func (o Outcome) String() string {
	switch o {
	case OutcomeNew:
		return "new"
	case OutcomeExisting:
		return "existing"
	case OutcomeAmbiguous:
		return "ambiguous"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Match is one gallery hit: the identity's slot and its cosine score.
type Match struct {
	Slot  int
	Score float32
}

// Decision is an [Outcome] and, for [OutcomeExisting], the matched slot.
type Decision struct {
	Outcome Outcome
	Slot    int
	Best    float32 // best score, for tests and calibration; never logged with an identity
}

// Decide applies the policy's decision rule to matches, which hold the best
// score per identity, best first (at most one entry per identity):
//
//   - existing: best ≥ MatchThreshold AND the second best < MatchThreshold − Margin;
//   - new: best < NewThreshold (or no identities at all);
//   - ambiguous: everything else, including two identities that both match.
//
// The rule never picks among several matching identities (the idOS
// prototype's "oldest wins" would hand one person's entropy to another).
// A score that is not a number is ambiguous.
func Decide(p wire.Policy, matches []Match) Decision {
	if len(matches) == 0 {
		return Decision{Outcome: OutcomeNew, Best: float32(math.Inf(-1))}
	}
	best := matches[0]
	for _, m := range matches {
		if isNaN(m.Score) {
			return Decision{Outcome: OutcomeAmbiguous, Best: best.Score}
		}
		if m.Score > best.Score {
			best = m // tolerate unsorted input
		}
	}
	second := float32(math.Inf(-1))
	for _, m := range matches {
		if m.Slot != best.Slot && m.Score > second {
			second = m.Score
		}
	}
	switch {
	case best.Score >= p.MatchThreshold && second < p.MatchThreshold-p.Margin:
		return Decision{Outcome: OutcomeExisting, Slot: best.Slot, Best: best.Score}
	case best.Score < p.NewThreshold:
		return Decision{Outcome: OutcomeNew, Best: best.Score}
	}
	return Decision{Outcome: OutcomeAmbiguous, Best: best.Score}
}

func isNaN(f float32) bool { return f != f }

// checkThresholds validates the decision part of a policy.
func checkThresholds(p wire.Policy) error {
	switch {
	case !(p.NewThreshold > -1 && p.NewThreshold <= p.MatchThreshold && p.MatchThreshold <= 1):
		return fmt.Errorf("enclave: policy thresholds must satisfy -1 < new (%v) ≤ match (%v) ≤ 1", p.NewThreshold, p.MatchThreshold)
	case !(p.Margin >= 0 && p.Margin < 2):
		return fmt.Errorf("enclave: policy margin %v out of range", p.Margin)
	}
	return nil
}
