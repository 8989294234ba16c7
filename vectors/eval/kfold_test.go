package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// folds builds k folds of genuine scores g and impostor scores im each.
func folds(k int, g, im []float64) []PairScore {
	var ps []PairScore
	for f := range k {
		for _, s := range g {
			ps = append(ps, PairScore{Fold: f, Same: true, Scored: true, Score: s})
		}
		for _, s := range im {
			ps = append(ps, PairScore{Fold: f, Same: false, Scored: true, Score: s})
		}
	}
	return ps
}

func TestKFold(t *testing.T) {
	sep := folds(10, []float64{0.7, 0.8, 0.9}, []float64{0.1, 0.2, 0.3})
	// Fold 0: one genuine pair scores far below everything (wrong whatever
	// the threshold); fold 1: one pair has no score (an error by protocol).
	oneLow := folds(10, []float64{0.7, 0.8, 0.9}, []float64{0.1, 0.2, 0.3})
	oneLow[0].Score = -0.5
	unscored := folds(10, []float64{0.7, 0.8, 0.9}, []float64{0.1, 0.2, 0.3})
	unscored[6].Scored = false
	// Overlap in every fold: genuine 0.5, 0.6, 0.35; impostor 0.4, 0.2, 0.1.
	// Thresholds between 0.2 and 0.35 and between 0.4 and 0.5 both get 5 of
	// 6 right; the tie goes to the lower one.
	overlap := folds(10, []float64{0.5, 0.6, 0.35}, []float64{0.4, 0.2, 0.1})

	std1 := func(a float64) float64 { // sample std of one fold at a, nine at 1
		m := (a + 9) / 10
		return math.Sqrt(((a-m)*(a-m) + 9*(1-m)*(1-m)) / 9)
	}
	for _, tc := range []struct {
		name           string
		ps             []PairScore
		mean, std      float64
		unscored       int
		fold0Threshold [2]float64 // open interval the fold-0 threshold must lie in
	}{
		{"separated", sep, 1, 0, 0, [2]float64{0.3, 0.7}},
		{"one genuine below all", oneLow, (5.0/6 + 9) / 10, std1(5.0 / 6), 0, [2]float64{0.3, 0.7}},
		{"unscored pair", unscored, (5.0/6 + 9) / 10, std1(5.0 / 6), 1, [2]float64{0.3, 0.7}},
		{"overlap", overlap, 5.0 / 6, 0, 0, [2]float64{0.2, 0.35}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := KFold(tc.ps, 10)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Mean-tc.mean) > 1e-12 || math.Abs(r.Std-tc.std) > 1e-12 || math.Abs(r.StdErr-tc.std/math.Sqrt(10)) > 1e-12 {
				t.Fatalf("mean %v std %v se %v, want %v %v", r.Mean, r.Std, r.StdErr, tc.mean, tc.std)
			}
			if r.Unscored != tc.unscored || r.Pairs != len(tc.ps) || len(r.Folds) != 10 || r.Folds[0].Total != 6 {
				t.Fatalf("%+v", r)
			}
			if th := r.Folds[0].Threshold; !(th > tc.fold0Threshold[0] && th < tc.fold0Threshold[1]) {
				t.Fatalf("fold 0 threshold %v", th)
			}
		})
	}
}

func TestKFoldErrors(t *testing.T) {
	ok := folds(2, []float64{0.9}, []float64{0.1})
	for _, tc := range []struct {
		name  string
		ps    []PairScore
		folds int
	}{
		{"one fold", ok, 1},
		{"fold out of range", append(ok[:2:2], PairScore{Fold: 2, Scored: true}), 2},
		{"empty fold", ok[:2], 2},
		{"nan", append(ok[:3:3], PairScore{Fold: 1, Scored: true, Score: math.NaN()}), 2},
		{"nothing scored outside a fold", []PairScore{{Fold: 0, Scored: true, Score: 1, Same: true}, {Fold: 1}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := KFold(tc.ps, tc.folds)
			if !errors.Is(err, ErrFolds) || r.Folds != nil {
				t.Fatalf("err %v result %+v", err, r)
			}
		})
	}
}

// bestThresholdReference tries every candidate of BestThreshold and counts
// directly.
func bestThresholdReference(ps []PairScore) float64 {
	cands := []float64{math.Inf(-1)}
	for _, p := range ps {
		cands = append(cands, p.Score, math.Nextafter(p.Score, math.Inf(1)))
	}
	best, bestT := -1, 0.0
	for _, t := range cands {
		c := 0
		for _, p := range ps {
			if (p.Score >= t) == p.Same {
				c++
			}
		}
		if c > best {
			best, bestT = c, t
		}
	}
	return bestT
}

func accuracyAt(ps []PairScore, t float64) int {
	c := 0
	for _, p := range ps {
		if (p.Score >= t) == p.Same {
			c++
		}
	}
	return c
}

func TestBestThresholdTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 200; n += 7 {
		var ps []PairScore
		for range n {
			same := rng.IntN(2) == 0
			s := float64(rng.IntN(20)) / 20 // ties on purpose
			if same {
				s += 0.3
			}
			ps = append(ps, PairScore{Same: same, Scored: true, Score: s})
		}
		got, ref := BestThreshold(ps), bestThresholdReference(ps)
		if accuracyAt(ps, got) != accuracyAt(ps, ref) {
			t.Fatalf("n=%d: threshold %v gets %d right, reference %v gets %d", n, got, accuracyAt(ps, got), ref, accuracyAt(ps, ref))
		}
	}
}
