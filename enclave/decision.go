package enclave

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// The decision rule lives in package vectors ([vectors.Decide]) so that the
// evaluation (vectors/eval) measures the very code the enclave runs.
type Outcome = vectors.Outcome

const (
	OutcomeNew       = vectors.OutcomeNew
	OutcomeExisting  = vectors.OutcomeExisting
	OutcomeAmbiguous = vectors.OutcomeAmbiguous
)

// Match is one index hit: the identity's slot and its cosine score.
type Match struct {
	Slot  int
	Score float32
}

// policyThresholds is the decision part of policy p.
func policyThresholds(p wire.Policy) vectors.Thresholds {
	return vectors.Thresholds{Match: p.MatchThreshold, New: p.NewThreshold, Margin: p.Margin}
}

// Decision is a [vectors.Decision] in the index's slot numbering.
type Decision struct {
	Outcome Outcome
	Slot    int     // for [OutcomeExisting]: the matched index slot
	Best    float32 // best score, for tests and calibration; never logged with an identity
}

// Decide applies [vectors.Decide] with the thresholds of policy p to
// matches (the best score per identity, at most one entry per identity).
// The slot of an existing decision is the index slot it names.
func Decide(p wire.Policy, matches []Match) Decision {
	var buf [2 * MaxTemplates]vectors.Match
	vm := buf[:0]
	for _, m := range matches {
		vm = append(vm, vectors.Match{Slot: vectors.Slot(m.Slot), Score: m.Score})
	}
	d := vectors.Decide(policyThresholds(p), vm)
	return Decision{Outcome: d.Outcome, Slot: int(d.Slot), Best: d.Best}
}

// checkThresholds validates the decision part of a policy.
func checkThresholds(p wire.Policy) error {
	if err := policyThresholds(p).Check(); err != nil {
		return fmt.Errorf("enclave: policy: %w", err)
	}
	return nil
}
