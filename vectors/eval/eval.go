package eval

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// ErrTooFewPairs reports a dataset without both genuine and impostor pairs.
var ErrTooFewPairs = errors.New("eval: need at least one genuine and one impostor pair")

// FPIRTarget is the false-positive identification rate the gallery estimate
// is made for.
const FPIRTarget = 0.003

// FARTargets are the false-accept rates TAR is reported at, coarsest
// first ([Dist] relies on the first being the coarsest).
var FARTargets = []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6}

// Summary describes one score distribution.
type Summary struct {
	N                       int
	Mean, Std               float64
	Min, P01, P50, P99, Max float64
}

// OperatingPoint is TAR at one FAR target.
type OperatingPoint struct {
	TargetFAR float64
	// Measurable is false when the impostor pair count is below 1/TargetFAR:
	// the data cannot resolve that FAR and the other fields are bounds at the
	// highest impostor score.
	Measurable bool
	// LowConfidence is true when fewer than 10/TargetFAR impostor pairs back it.
	LowConfidence bool
	Threshold     float64 // lowest threshold with empirical FAR ≤ target
	FAR, TAR      float64 // achieved at Threshold
}

// Gallery is the largest-gallery estimate for FPIR 0.3 %.
type Gallery struct {
	Threshold float64
	// MeasuredFMR is the empirical FMR at Threshold; when it is 0,
	// UpperFMR = 3/M (95 % bound) is used instead.
	MeasuredFMR, UpperFMR float64
	// N is FPIRTarget / max(MeasuredFMR, UpperFMR): supported by the data.
	N float64
	// GaussFMR and GaussN extrapolate with a normal fit of the impostor scores.
	GaussFMR, GaussN float64
}

// Report is the result of [Analyze].
type Report struct {
	Genuine, Impostor Summary
	EER, EERThreshold float64
	Points            []OperatingPoint
	// MatchThreshold and NewThreshold are the recommended decision thresholds.
	MatchThreshold, NewThreshold float64
	// MatchFAR is the FAR target MatchThreshold was chosen for.
	MatchFAR float64
	Gallery  Gallery
	// Exact is false when the EER and the impostor p1/median were read from
	// a histogram ([Dist.Report] on more impostor pairs than it keeps).
	Exact bool
}

func summarize(s []float64) Summary {
	sum := Summary{N: len(s)}
	if len(s) == 0 {
		return sum
	}
	var m, v float64
	for _, x := range s {
		m += x
	}
	m /= float64(len(s))
	for _, x := range s {
		v += (x - m) * (x - m)
	}
	if len(s) > 1 {
		v /= float64(len(s) - 1)
	}
	sum.Mean, sum.Std = m, math.Sqrt(v)
	sum.Min, sum.Max = s[0], s[len(s)-1]
	sum.P01, sum.P50, sum.P99 = quantile(s, 0.01), quantile(s, 0.5), quantile(s, 0.99)
	return sum
}

// quantile of sorted s with linear interpolation.
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// FMR is the share of impostor scores ≥ t (sorted ascending input).
func FMR(impostor []float64, t float64) float64 {
	i := sort.SearchFloat64s(impostor, t) // first ≥ t
	return float64(len(impostor)-i) / float64(len(impostor))
}

// FNMR is the share of genuine scores < t (sorted ascending input).
func FNMR(genuine []float64, t float64) float64 {
	return float64(sort.SearchFloat64s(genuine, t)) / float64(len(genuine))
}

// thresholdAtFAR returns the lowest threshold among the observed scores (and
// just above the highest impostor) whose FMR ≤ far.
func thresholdAtFAR(impostor []float64, far float64) float64 {
	m := len(impostor)
	allowed := int(math.Floor(far * float64(m))) // false matches tolerated
	if allowed >= m {
		return impostor[0]
	}
	// Accept scores strictly above impostor[m-allowed-1].
	return math.Nextafter(impostor[m-allowed-1], math.Inf(1))
}

// Analyze computes the report from genuine and impostor scores (any order;
// the slices are not modified).
func Analyze(genuine, impostor []float64) (Report, error) {
	if len(genuine) == 0 || len(impostor) == 0 {
		return Report{}, ErrTooFewPairs
	}
	for _, s := range [][]float64{genuine, impostor} {
		for _, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return Report{}, fmt.Errorf("eval: score %v is not finite", x)
			}
		}
	}
	g := append([]float64(nil), genuine...)
	im := append([]float64(nil), impostor...)
	sort.Float64s(g)
	sort.Float64s(im)
	r := Report{Genuine: summarize(g), Impostor: summarize(im), Exact: true}

	// EER: scan candidate thresholds (all observed scores), minimise |FMR−FNMR|.
	cands := append(append([]float64{}, g...), im...)
	sort.Float64s(cands)
	best := math.Inf(1)
	for _, t := range cands {
		fm, fn := FMR(im, t), FNMR(g, t)
		if d := math.Abs(fm - fn); d < best {
			best, r.EER, r.EERThreshold = d, (fm+fn)/2, t
		}
	}

	m := float64(len(im))
	for _, far := range FARTargets {
		p := OperatingPoint{TargetFAR: far, Measurable: m*far >= 1, LowConfidence: m*far < 10}
		p.Threshold = thresholdAtFAR(im, far)
		p.FAR, p.TAR = FMR(im, p.Threshold), 1-FNMR(g, p.Threshold)
		r.Points = append(r.Points, p)
	}

	// Match threshold: the finest measurable FAR target (at least 1e-2).
	r.MatchFAR = FARTargets[0]
	for _, far := range FARTargets {
		if m*far >= 1 {
			r.MatchFAR = far
		}
	}
	r.MatchThreshold = thresholdAtFAR(im, r.MatchFAR)
	r.NewThreshold = math.Min(quantile(g, 0.01), r.MatchThreshold)

	r.Gallery = galleryAt(im, r.Impostor, r.MatchThreshold)
	return r, nil
}

// GalleryAt estimates the largest gallery for FPIR 0.3 % at threshold t
// from the impostor scores of r (see the package documentation).
func (r Report) GalleryAt(impostor []float64, t float64) Gallery {
	im := append([]float64(nil), impostor...)
	sort.Float64s(im)
	return galleryAt(im, r.Impostor, t)
}

func galleryAt(im []float64, s Summary, t float64) Gallery {
	gl := Gallery{Threshold: t, MeasuredFMR: FMR(im, t)}
	fmr := gl.MeasuredFMR
	if fmr == 0 {
		gl.UpperFMR = 3 / float64(len(im))
		fmr = gl.UpperFMR
	}
	gl.N = FPIRTarget / fmr
	if s.Std > 0 {
		gl.GaussFMR = 0.5 * math.Erfc((t-s.Mean)/s.Std/math.Sqrt2)
		if gl.GaussFMR > 0 {
			gl.GaussN = FPIRTarget / gl.GaussFMR
		} else {
			gl.GaussN = math.Inf(1)
		}
	}
	return gl
}

// WriteText prints the estimate for people.
func (g Gallery) WriteText(w io.Writer, impostorPairs int) error {
	var err error
	if g.MeasuredFMR > 0 {
		_, err = fmt.Fprintf(w, "gallery for FPIR %.1f%% at t=%.4f: measured FMR %.2e -> N ~ %.3g\n", 100*FPIRTarget, g.Threshold, g.MeasuredFMR, g.N)
	} else {
		_, err = fmt.Fprintf(w, "gallery for FPIR %.1f%% at t=%.4f: no impostor pair reached it; FMR <= %.2e (95%%, 3/%d) -> N >= ~%.3g supported by the data\n",
			100*FPIRTarget, g.Threshold, g.UpperFMR, impostorPairs, g.N)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "  normal-tail extrapolation (not a measurement): FMR ~ %.2e -> N ~ %.3g\n", g.GaussFMR, g.GaussN)
	return err
}

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	pr := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	for _, s := range []struct {
		name string
		s    Summary
	}{{"genuine ", r.Genuine}, {"impostor", r.Impostor}} {
		pr("%s pairs %6d  mean %.4f  sd %.4f  min %.4f  p1 %.4f  median %.4f  p99 %.4f  max %.4f\n",
			s.name, s.s.N, s.s.Mean, s.s.Std, s.s.Min, s.s.P01, s.s.P50, s.s.P99, s.s.Max)
	}
	if r.Exact {
		pr("EER %.4f at threshold %.4f\n", r.EER, r.EERThreshold)
	} else {
		pr("EER %.4f at threshold %.4f (impostor side from a histogram: EER and impostor p1/median within one bin of 3e-05)\n", r.EER, r.EERThreshold)
	}
	for _, p := range r.Points {
		switch {
		case !p.Measurable:
			pr("TAR at FAR %.0e: not measurable (%d impostor pairs < %.0f); above the highest impostor (t=%.4f) TAR is %.4f\n",
				p.TargetFAR, r.Impostor.N, 1/p.TargetFAR, p.Threshold, p.TAR)
		case p.LowConfidence:
			pr("TAR at FAR %.0e: %.4f at threshold %.4f (achieved FAR %.2e; low confidence: %d impostor pairs < %.0f)\n",
				p.TargetFAR, p.TAR, p.Threshold, p.FAR, r.Impostor.N, 10/p.TargetFAR)
		default:
			pr("TAR at FAR %.0e: %.4f at threshold %.4f (achieved FAR %.2e)\n", p.TargetFAR, p.TAR, p.Threshold, p.FAR)
		}
	}
	pr("recommended match threshold %.4f (FAR target %.0e), new-person threshold %.4f (99%% of genuine pairs score above)\n",
		r.MatchThreshold, r.MatchFAR, r.NewThreshold)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return r.Gallery.WriteText(w, r.Impostor.N)
}
