package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrFolds reports pair scores that cannot be cross-validated.
var ErrFolds = errors.New("eval: bad fold data")

// PairScore is one protocol pair's score. Scored is false when either image
// gave no vector (no usable face): the pair cannot be decided and counts as
// an error of its fold (the LFW protocol scores every listed pair).
type PairScore struct {
	Fold   int
	Same   bool
	Scored bool
	Score  float64
}

// FoldResult is one fold of [KFold]: the threshold chosen on the other
// folds and the accuracy it gives on this one.
type FoldResult struct {
	Threshold float64 `json:"threshold"`
	// Correct of Total pairs were classified right; Unscored of them had no
	// score and count as wrong.
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	Unscored int     `json:"unscored"`
	Accuracy float64 `json:"accuracy"`
}

// KFoldResult is the cross-validated verification accuracy.
type KFoldResult struct {
	Folds []FoldResult
	// Mean and Std (sample standard deviation, n−1) of the fold accuracies;
	// StdErr = Std/√folds, the "standard error of the mean" LFW's protocol
	// asks papers to report.
	Mean, Std, StdErr float64
	Pairs, Unscored   int
}

// KFold runs the LFW View 2 protocol on ps: for every fold, the threshold
// that classifies the scored pairs of all other folds best (same person iff
// score ≥ threshold; see [BestThreshold]) is applied to this fold's pairs,
// unscored pairs counting as errors. folds is the number of folds; every
// fold must hold at least one pair and ps at least one scored pair outside
// every fold.
func KFold(ps []PairScore, folds int) (KFoldResult, error) {
	if folds < 2 {
		return KFoldResult{}, fmt.Errorf("%w: %d folds, need at least 2", ErrFolds, folds)
	}
	r := KFoldResult{Folds: make([]FoldResult, folds), Pairs: len(ps)}
	for _, p := range ps {
		if p.Fold < 0 || p.Fold >= folds {
			return KFoldResult{}, fmt.Errorf("%w: fold %d of %d", ErrFolds, p.Fold, folds)
		}
		if p.Scored && (math.IsNaN(p.Score) || math.IsInf(p.Score, 0)) {
			return KFoldResult{}, fmt.Errorf("%w: score %v is not finite", ErrFolds, p.Score)
		}
		r.Folds[p.Fold].Total++
		if !p.Scored {
			r.Folds[p.Fold].Unscored++
			r.Unscored++
		}
	}
	for k := range r.Folds {
		if r.Folds[k].Total == 0 {
			return KFoldResult{}, fmt.Errorf("%w: fold %d has no pairs", ErrFolds, k)
		}
	}
	train := make([]PairScore, 0, len(ps))
	for k := range r.Folds {
		train = train[:0]
		for _, p := range ps {
			if p.Fold != k && p.Scored {
				train = append(train, p)
			}
		}
		if len(train) == 0 {
			return KFoldResult{}, fmt.Errorf("%w: no scored pair outside fold %d", ErrFolds, k)
		}
		f := &r.Folds[k]
		f.Threshold = BestThreshold(train)
		for _, p := range ps {
			if p.Fold == k && p.Scored && (p.Score >= f.Threshold) == p.Same {
				f.Correct++
			}
		}
		f.Accuracy = float64(f.Correct) / float64(f.Total)
		r.Mean += f.Accuracy
	}
	r.Mean /= float64(folds)
	for _, f := range r.Folds {
		r.Std += (f.Accuracy - r.Mean) * (f.Accuracy - r.Mean)
	}
	r.Std = math.Sqrt(r.Std / float64(folds-1))
	r.StdErr = r.Std / math.Sqrt(float64(folds))
	return r, nil
}

// BestThreshold returns the threshold t that classifies the most pairs of
// ps right under "same person iff score ≥ t" (Scored is ignored: pass
// scored pairs only). The candidates are one per distinct decision: below
// every score, the midpoint between each two neighbouring distinct scores,
// and just above the highest. Ties go to the lowest candidate. ps must not
// be empty.
func BestThreshold(ps []PairScore) float64 {
	s := slices.Clone(ps)
	slices.SortFunc(s, func(a, b PairScore) int { return cmpFloat(a.Score, b.Score) })
	// Start with every pair accepted: the genuine ones are right.
	correct := 0
	for _, p := range s {
		if p.Same {
			correct++
		}
	}
	best, bestT := correct, s[0].Score
	for i := 0; i < len(s); {
		// Move the threshold above the value s[i].Score: its pairs flip.
		v := s[i].Score
		for ; i < len(s) && s[i].Score == v; i++ {
			if s[i].Same {
				correct--
			} else {
				correct++
			}
		}
		if correct > best {
			best = correct
			if i < len(s) {
				bestT = midAbove(v, s[i].Score)
			} else {
				bestT = math.Nextafter(v, math.Inf(1))
			}
		}
	}
	return bestT
}

// midAbove is the midpoint of lo < hi, nudged to hi when rounding would put
// it on lo (so that a score equal to lo stays rejected).
func midAbove(lo, hi float64) float64 {
	m := lo + (hi-lo)/2
	if m <= lo {
		return hi
	}
	return m
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
