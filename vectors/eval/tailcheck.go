package eval

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// Out-of-sample checks of the calibration curve's tail model.
//
// A curve measured on m impostor pairs reads FMR below about 10/m from its
// tail model (vectors/calib), and the service's thresholds sit there. The
// check fits curves on the calibration part and on thinner subsets of its
// people — every 4th and every 16th, about 1/16 and 1/256 of its impostor
// pairs, so their tail models reach one and two decades further below what
// their own pairs measure — and compares each curve's FMR with the FMR the
// identity-disjoint reported part measures at the same thresholds. A ratio
// above 1 means the model overstated FMR there (the safe side: a higher
// match threshold, a lower capacity); below 1, understated.

// TailTargets are the reported part's FMR levels the check compares at,
// each only where the reported part has at least calib.MinCount impostor
// pairs at or above it.
var TailTargets = []float64{1e-3, 1e-4, 1e-5, 1e-6, 1e-7}

// tailStrides thin the calibration part: every stride-th person.
var tailStrides = []int{1, 4, 16}

// TailMaxImages caps the images per person in the check's second pass (both
// parts): all-pairs FMR weights a person by their number of images, so one
// person with hundreds of photos and a look-alike (LFW: George W Bush, 530
// photos, and his brother Jeb) can make most of a part's impostor tail,
// which no other part predicts. The service holds at most a few vectors per
// identity; the capped pass weighs people more as its gallery does.
const TailMaxImages = 4

// TailCheckJSON is one fit's comparison with the reported part.
type TailCheckJSON struct {
	// Fit says which people of the calibration part the curve was built
	// from; People and ImpostorPairs how many. MaxImages, when set, capped
	// every person of both parts at that many images (their first).
	Fit           string `json:"fit"`
	MaxImages     int    `json:"max_images_per_person,omitempty"`
	People        int    `json:"people"`
	ImpostorPairs int64  `json:"impostor_pairs"`
	// Error says why no curve could be built from them.
	Error  string          `json:"error,omitempty"`
	Points []TailPointJSON `json:"points,omitempty"`
}

// TailPointJSON compares one threshold.
type TailPointJSON struct {
	TargetFMR float64 `json:"target_fmr"`
	// Threshold is the reported part's impostor score at TargetFMR;
	// MeasuredFMR the share of its impostor pairs at or above it
	// (MeasuredPairs of them).
	Threshold     float32 `json:"threshold"`
	MeasuredPairs int64   `json:"measured_pairs"`
	MeasuredFMR   float64 `json:"measured_fmr"`
	// PredictedFMR is the fitted curve's FMR at Threshold; Extrapolated:
	// read from its tail model. Ratio = PredictedFMR / MeasuredFMR.
	PredictedFMR float64 `json:"predicted_fmr"`
	Extrapolated bool    `json:"extrapolated"`
	Ratio        float64 `json:"ratio"`
}

// tailCheck builds a curve from every stride-th person of cal for each of
// tailStrides and compares it with the reported part rep; calDist and
// repDist are the two parts' distributions. Then the same with every
// person of both parts capped at [TailMaxImages] images.
func tailCheck(info EngineInfo, fixed *vectors.Thresholds, cal, rep [][]vectors.FaceVector, calDist, repDist Dist) ([]TailCheckJSON, error) {
	subs := make([][][]vectors.FaceVector, len(tailStrides))
	for si, stride := range tailStrides {
		for i := 0; i < len(cal); i += stride {
			subs[si] = append(subs[si], cal[i])
		}
	}
	var out []TailCheckJSON
	for _, maxImages := range []int{0, TailMaxImages} {
		report := repDist
		if maxImages > 0 {
			var err error
			if report, err = distOf(capImages(rep, maxImages)); err != nil {
				return nil, err
			}
		}
		for si, stride := range tailStrides {
			sub := subs[si]
			d := calDist
			if stride > 1 || maxImages > 0 {
				var err error
				if d, err = distOf(capImages(sub, maxImages)); err != nil {
					return nil, err
				}
			}
			out = append(out, tailCompare(info, fixed, stride, maxImages, len(sub), d, report))
		}
	}
	return out, nil
}

// capImages returns vecs with every person cut to their first max vectors
// (max 0: unchanged).
func capImages(vecs [][]vectors.FaceVector, max int) [][]vectors.FaceVector {
	if max == 0 {
		return vecs
	}
	out := make([][]vectors.FaceVector, len(vecs))
	for i, v := range vecs {
		out[i] = v[:min(len(v), max)]
	}
	return out
}

// tailCompare fits a curve on d (people of the calibration part, every
// stride-th) and compares it with report.
func tailCompare(info EngineInfo, fixed *vectors.Thresholds, stride, maxImages, people int, d, report Dist) TailCheckJSON {
	tc := TailCheckJSON{Fit: "every person of the calibration part", MaxImages: maxImages, People: people, ImpostorPairs: d.N}
	if stride > 1 {
		tc.Fit = fmt.Sprintf("every %dth person of the calibration part", stride)
	}
	c, err := BuildCurve(info, fixed, d, calib.Source{Dataset: "tail check", Split: tc.Fit, Command: "facesign eval"})
	if err != nil {
		tc.Error = err.Error()
	} else {
		tc.Points = tailPoints(c, report)
	}
	return tc
}

// tailPoints compares c's FMR with report's measured FMR at each of
// [TailTargets] that report measures.
func tailPoints(c calib.Curve, report Dist) []TailPointJSON {
	var pts []TailPointJSON
	for _, target := range TailTargets {
		t, ok := scoreAtFMR(report, target)
		if !ok {
			continue
		}
		n, _ := report.ImpostorsAtLeast(float64(t))
		measured := n / float64(report.N)
		pred, ex := c.FMR(t)
		pts = append(pts, TailPointJSON{TargetFMR: target, Threshold: t, MeasuredPairs: int64(n), MeasuredFMR: measured,
			PredictedFMR: pred, Extrapolated: ex, Ratio: pred / measured})
	}
	return pts
}

// scoreAtFMR is d's k-th highest impostor score, k = ⌊target · N⌋: the
// threshold at which d measures FMR target; false unless at least
// calib.MinCount pairs lie there and the score is among those d keeps
// exactly.
func scoreAtFMR(d Dist, target float64) (float32, bool) {
	k := int64(target * float64(d.N))
	if k < calib.MinCount || k > int64(len(d.Top)) {
		return 0, false
	}
	return d.Top[k-1], true
}

// TailPeopleTarget is the reported part's FMR level at which [tailPeople]
// names the people behind its impostor pairs.
const TailPeopleTarget = 1e-5

// TailPeopleJSON names the pairs of people behind the reported part's
// impostor pairs at or above Threshold (its score at TargetFMR): Pairs of
// them in all, the person pairs with the most in Top (at most 5).
type TailPeopleJSON struct {
	TargetFMR float64          `json:"target_fmr"`
	Threshold float32          `json:"threshold"`
	Pairs     int64            `json:"pairs"`
	Top       []PersonPairJSON `json:"top"`
}

// PersonPairJSON is two people and how many impostor pairs of their images
// score at or above the threshold.
type PersonPairJSON struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Pairs int64  `json:"pairs"`
}

// tailPeople counts, for every pair of people of rep (names[i] is rep[i]'s
// folder), the pairs of their images scoring at or above report's score at
// [TailPeopleTarget]: one person photographed hundreds of times beside a
// look-alike can make most of an all-pairs tail (docs/engine-lfw.md). Nil
// when report measures fewer than ten pairs there.
func tailPeople(rep [][]vectors.FaceVector, names []string, report Dist) *TailPeopleJSON {
	t, ok := scoreAtFMR(report, TailPeopleTarget)
	if !ok {
		return nil
	}
	type key struct{ a, b int }
	workers := max(1, runtime.GOMAXPROCS(0))
	counts := make([]map[key]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		counts[w] = map[key]int64{}
		wg.Go(func() {
			for i := w; i < len(rep); i += workers {
				for j := i + 1; j < len(rep); j++ {
					for _, x := range rep[i] {
						for _, y := range rep[j] {
							if dot32(x.Values, y.Values) >= t {
								counts[w][key{i, j}]++
							}
						}
					}
				}
			}
		})
	}
	wg.Wait()
	out := &TailPeopleJSON{TargetFMR: TailPeopleTarget, Threshold: t}
	for _, m := range counts {
		for kk, n := range m {
			out.Pairs += n
			out.Top = append(out.Top, PersonPairJSON{A: names[kk.a], B: names[kk.b], Pairs: n})
		}
	}
	slices.SortFunc(out.Top, func(x, y PersonPairJSON) int {
		return cmp.Or(cmp.Compare(y.Pairs, x.Pairs), cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B))
	})
	out.Top = out.Top[:min(len(out.Top), 5)]
	return out
}

// dot32 is the inner product of two vectors of one length in float32, as
// [AllPairs] scores them: the threshold is one of the distribution's
// float32 scores, and vectors.Cosine, which sums in float64, can put the
// pair that gave it just below (on LFW it counts 235 of the 236 pairs).
func dot32(a, b []float32) float32 {
	var s float32
	for i, x := range a[:len(b)] {
		s += x * b[i]
	}
	return s
}
