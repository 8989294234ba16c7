package vectors

import (
	"errors"
	"fmt"
	"math"
)

// Outcome is the decision about one (fused) face vector against everyone
// enrolled.
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

// Decision is an [Outcome] and, for [OutcomeExisting], the matched identity
// (the [Match.Slot] of the winning entry, in the caller's numbering).
type Decision struct {
	Outcome Outcome
	Slot    Slot
	Best    float32 // best score, for tests and calibration; never logged with an identity
}

// Decide applies the decision rule with thresholds th to matches, which
// hold the best score per identity (Slot = the identity in the caller's
// numbering, at most one entry per identity; best first, though unsorted
// input is tolerated):
//
//   - existing: best ≥ th.Match AND the second best < th.Match − th.Margin;
//   - new: best < th.New (or no identities at all);
//   - ambiguous: everything else, including two identities that both match.
//
// The rule never picks among several matching identities (the idOS
// prototype's "oldest wins" would hand one person's entropy to another).
// A score that is not a number is ambiguous.
//
// A caller that keeps several vectors (templates) per identity must reduce
// them to the best score per identity first: two entries of one identity
// would count as two identities and make a returning person ambiguous.
func Decide(th Thresholds, matches []Match) Decision {
	if len(matches) == 0 {
		return Decision{Outcome: OutcomeNew, Best: float32(math.Inf(-1))}
	}
	best := matches[0]
	for _, m := range matches {
		if m.Score != m.Score { // NaN
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
	case best.Score >= th.Match && second < th.Match-th.Margin:
		return Decision{Outcome: OutcomeExisting, Slot: best.Slot, Best: best.Score}
	case best.Score < th.New:
		return Decision{Outcome: OutcomeNew, Best: best.Score}
	}
	return Decision{Outcome: OutcomeAmbiguous, Best: best.Score}
}

// ErrThresholds reports thresholds that cannot be applied: they must satisfy
// -1 < New ≤ Match ≤ 1 and 0 ≤ Margin < 2.
var ErrThresholds = errors.New("vectors: thresholds out of range")

// Check returns an error wrapping [ErrThresholds] unless
// -1 < New ≤ Match ≤ 1 and 0 ≤ Margin < 2 (NaN fails).
func (th Thresholds) Check() error {
	switch {
	case !(th.New > -1 && th.New <= th.Match && th.Match <= 1):
		return fmt.Errorf("%w: must satisfy -1 < new (%v) ≤ match (%v) ≤ 1", ErrThresholds, th.New, th.Match)
	case !(th.Margin >= 0 && th.Margin < 2):
		return fmt.Errorf("%w: margin %v", ErrThresholds, th.Margin)
	}
	return nil
}
