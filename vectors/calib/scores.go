package calib

import (
	"fmt"
	"math"
	"slices"
)

// Bins is the number of equal histogram bins a [Curve] spreads scores over,
// covering the cosine range [-1, 1]: bin b holds scores in
// [-1 + b·2/Bins, -1 + (b+1)·2/Bins), 2/Bins = 2⁻¹² ≈ 2.4·10⁻⁴ wide.
const Bins = 1 << 13

// TopKeep is how many of the highest impostor scores a [Curve] keeps
// exactly (all of them when there are fewer).
const TopKeep = 4096

// Minimum sizes of a calibration set ([Build] fails below them with
// [ErrTooFew]): the impostor tail fit needs [MinFit]+1 exact top scores.
const (
	MinImpostors = 1000
	MinGenuine   = 50
	MinFit       = 50
)

// Scores is what [Build] reads: every pair score of a calibration set,
// held the way an all-pairs run over tens of millions of pairs can afford.
type Scores struct {
	// Genuine holds every genuine (same person) score, in any order.
	Genuine []float32
	// Impostors is the number of impostor (different people) pairs.
	Impostors int64
	// ImpostorHist counts every impostor score per bin over [-1, 1]; its
	// length is a positive multiple of [Bins] (bin b of L bins holds
	// [-1 + b·2/L, -1 + (b+1)·2/L); scores outside [-1, 1] in the end
	// bins), and the counts sum to Impostors.
	ImpostorHist []int64
	// ImpostorTop holds the highest impostor scores, descending: at least
	// [MinFit]+1 of them, and the [TopKeep] highest (or all) are kept.
	ImpostorTop []float32
}

// ScoresOf is the plain way to make [Scores] from every score of a small
// set (it keeps every impostor score).
func ScoresOf(genuine, impostor []float32) Scores {
	s := Scores{
		Genuine:      slices.Clone(genuine),
		Impostors:    int64(len(impostor)),
		ImpostorHist: make([]int64, Bins),
		ImpostorTop:  slices.Clone(impostor),
	}
	for _, x := range impostor {
		s.ImpostorHist[binOf(x, Bins)]++
	}
	slices.SortFunc(s.ImpostorTop, func(a, b float32) int { return cmpFloat32(b, a) })
	return s
}

// binOf is the bin of score x among n bins over [-1, 1].
func binOf(x float32, n int) int {
	b := int(math.Floor((float64(x) + 1) * float64(n) / 2))
	return min(max(b, 0), n-1)
}

// binLow is the lower edge of bin b of [Bins].
func binLow(b int) float64 { return -1 + float64(b)*2/Bins }

const binWidth = 2.0 / Bins

func cmpFloat32(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// check validates s and returns its impostor histogram re-binned to [Bins].
func (s Scores) check() ([]int64, error) {
	if len(s.Genuine) < MinGenuine {
		return nil, fmt.Errorf("%w: %d genuine scores, need %d", ErrTooFew, len(s.Genuine), MinGenuine)
	}
	for _, g := range s.Genuine {
		if !finite(g) {
			return nil, fmt.Errorf("%w: genuine score %v", ErrScores, g)
		}
	}
	return checkImpostors(s.Impostors, s.ImpostorHist, s.ImpostorTop)
}

// checkImpostors validates an impostor summary (see [Scores]) and returns
// its histogram re-binned to [Bins].
func checkImpostors(n int64, hist []int64, top []float32) ([]int64, error) {
	switch {
	case n < MinImpostors:
		return nil, fmt.Errorf("%w: %d impostor pairs, need %d", ErrTooFew, n, MinImpostors)
	case len(top) < MinFit+1:
		return nil, fmt.Errorf("%w: %d top impostor scores, need %d", ErrTooFew, len(top), MinFit+1)
	case len(hist) == 0 || len(hist)%Bins != 0:
		return nil, fmt.Errorf("%w: impostor histogram of %d bins is not a multiple of %d", ErrScores, len(hist), Bins)
	case int64(len(top)) > n:
		return nil, fmt.Errorf("%w: %d top impostor scores of %d pairs", ErrScores, len(top), n)
	case int64(len(top)) < min(n, TopKeep):
		return nil, fmt.Errorf("%w: %d top impostor scores, need min(pairs, %d)", ErrScores, len(top), TopKeep)
	}
	for i, x := range top {
		if !finite(x) {
			return nil, fmt.Errorf("%w: impostor score %v", ErrScores, x)
		}
		if i > 0 && x > top[i-1] {
			return nil, fmt.Errorf("%w: top impostor scores not descending at %d", ErrScores, i)
		}
	}
	group := len(hist) / Bins
	h := make([]int64, Bins)
	var total int64
	for b, c := range hist {
		if c < 0 {
			return nil, fmt.Errorf("%w: negative count in bin %d", ErrScores, b)
		}
		h[b/group] += c
		total += c
		if total < 0 {
			return nil, fmt.Errorf("%w: histogram count overflows", ErrScores)
		}
	}
	if total != n {
		return nil, fmt.Errorf("%w: histogram holds %d impostor scores, not %d", ErrScores, total, n)
	}
	// The kept scores must be the highest: the histogram may hold no more
	// scores strictly above the lowest kept score's bin than were kept,
	// and every kept score must be counted in its bin.
	low := top[len(top)-1]
	lb := binOf(low, Bins)
	var above int64
	for b := lb + 1; b < Bins; b++ {
		above += h[b]
	}
	if above > int64(len(top)) {
		return nil, fmt.Errorf("%w: %d impostor scores lie above the lowest kept one (%v) but only %d are kept", ErrScores, above, low, len(top))
	}
	kept := make([]int64, Bins)
	for _, x := range top {
		kept[binOf(x, Bins)]++
	}
	for b, k := range kept {
		if k > h[b] {
			return nil, fmt.Errorf("%w: kept impostor scores not in the histogram (bin %d)", ErrScores, b)
		}
	}
	return h, nil
}
