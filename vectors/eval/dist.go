package eval

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// ImpostorsAtLeast returns the number of impostor scores ≥ t and whether
// the count is exact. It is exact when t lies above the lowest score kept in
// [Dist.Top] (or every impostor score is kept); below that it is read from
// the histogram, interpolating linearly inside t's bin, and is off by at
// most that bin's count.
func (d Dist) ImpostorsAtLeast(t float64) (float64, bool) {
	if d.N == 0 {
		return 0, true
	}
	if int64(len(d.Top)) == d.N || t > float64(d.Top[len(d.Top)-1]) {
		return float64(sort.Search(len(d.Top), func(i int) bool { return float64(d.Top[i]) < t })), true
	}
	bt := binOf(float32(t))
	var c int64
	for b := bt + 1; b < HistBins; b++ {
		c += d.Hist[b]
	}
	frac := (binLow(bt+1) - t) / (2.0 / HistBins)
	frac = min(max(frac, 0), 1)
	return float64(c) + frac*float64(d.Hist[bt]), false
}

// FMR is the share of impostor scores ≥ t and whether it is exact (see
// [Dist.ImpostorsAtLeast]).
func (d Dist) FMR(t float64) (float64, bool) {
	c, exact := d.ImpostorsAtLeast(t)
	if d.N == 0 {
		return 0, exact
	}
	return c / float64(d.N), exact
}

// FNMR is the share of genuine scores < t (exact).
func (d Dist) FNMR(t float64) float64 {
	if len(d.Genuine) == 0 {
		return 0
	}
	i := sort.Search(len(d.Genuine), func(i int) bool { return float64(d.Genuine[i]) >= t })
	return float64(i) / float64(len(d.Genuine))
}

// thresholdAtFAR is the lowest threshold whose FMR ≤ far (see the
// package's thresholdAtFAR); far must not exceed FARTargets[0] unless every
// impostor score is kept.
func (d Dist) thresholdAtFAR(far float64) float64 {
	allowed := int64(math.Floor(far * float64(d.N)))
	if allowed >= d.N {
		return float64(d.Min)
	}
	return math.Nextafter(float64(d.Top[allowed]), math.Inf(1))
}

// impostorQuantile is the q-quantile of the impostor scores with linear
// interpolation, and whether it is exact.
func (d Dist) impostorQuantile(q float64) (float64, bool) {
	pos := q * float64(d.N-1)
	i := int64(pos)
	if i >= d.N-1 {
		return float64(d.Max), true
	}
	f := pos - float64(i)
	lo, e1 := d.impostorAt(i)
	hi, e2 := d.impostorAt(i + 1)
	return lo*(1-f) + hi*f, e1 && e2
}

// impostorAt is the impostor score of ascending rank i.
func (d Dist) impostorAt(i int64) (float64, bool) {
	if di := d.N - 1 - i; di < int64(len(d.Top)) {
		return float64(d.Top[di]), true
	}
	if i == 0 {
		return float64(d.Min), true
	}
	var below int64
	for b, c := range d.Hist {
		if below+c > i {
			w := 2.0 / HistBins
			return binLow(b) + w*(float64(i-below)+0.5)/float64(c), false
		}
		below += c
	}
	return float64(d.Max), false
}

// Exact reports whether every impostor score is kept, so that every figure
// of [Dist.Report] is exact.
func (d Dist) Exact() bool { return int64(len(d.Top)) == d.N }

// Report computes the same figures as [Analyze] from the distribution.
// They are identical to Analyze's on the same scores when [Dist.Exact];
// otherwise the TAR/FAR points, thresholds and gallery figures are still
// exact (they read the kept top and the genuine scores), while the EER and
// the impostor p1/median are read from the histogram (±1 bin, 3·10⁻⁵) and
// Report.Exact is false.
func (d Dist) Report() (Report, error) {
	if len(d.Genuine) == 0 || d.N == 0 {
		return Report{}, ErrTooFewPairs
	}
	for _, s := range []float32{d.Genuine[0], d.Genuine[len(d.Genuine)-1], d.Min, d.Max} {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return Report{}, fmt.Errorf("eval: score %v is not finite", s)
		}
	}
	g := make([]float64, len(d.Genuine))
	for i, s := range d.Genuine {
		g[i] = float64(s)
	}
	r := Report{Genuine: summarize(g), Exact: d.Exact()}
	imp := Summary{N: int(d.N), Min: float64(d.Min), Max: float64(d.Max)}
	imp.Mean = d.Sum / float64(d.N)
	if d.N > 1 {
		imp.Std = math.Sqrt(max(0, (d.SumSq-float64(d.N)*imp.Mean*imp.Mean)/float64(d.N-1)))
	}
	imp.P01, _ = d.impostorQuantile(0.01)
	imp.P50, _ = d.impostorQuantile(0.5)
	imp.P99, _ = d.impostorQuantile(0.99)
	r.Impostor = imp

	// EER over the same candidates as Analyze when exact; otherwise the
	// genuine scores, the kept top and every non-empty bin's lower edge.
	cands := slices.Clone(g)
	for _, s := range d.Top {
		cands = append(cands, float64(s))
	}
	if !r.Exact {
		for b, c := range d.Hist {
			if c > 0 {
				cands = append(cands, binLow(b))
			}
		}
	}
	slices.Sort(cands)
	best := math.Inf(1)
	for _, t := range cands {
		fm, _ := d.FMR(t)
		fn := d.FNMR(t)
		if dd := math.Abs(fm - fn); dd < best {
			best, r.EER, r.EERThreshold = dd, (fm+fn)/2, t
		}
	}

	m := float64(d.N)
	for _, far := range FARTargets {
		p := OperatingPoint{TargetFAR: far, Measurable: m*far >= 1, LowConfidence: m*far < 10}
		p.Threshold = d.thresholdAtFAR(far)
		p.FAR, _ = d.FMR(p.Threshold)
		p.TAR = 1 - d.FNMR(p.Threshold)
		r.Points = append(r.Points, p)
	}
	r.MatchFAR = FARTargets[0]
	for _, far := range FARTargets {
		if m*far >= 1 {
			r.MatchFAR = far
		}
	}
	r.MatchThreshold = d.thresholdAtFAR(r.MatchFAR)
	r.NewThreshold = math.Min(quantile(g, 0.01), r.MatchThreshold)
	r.Gallery = d.GalleryAt(r.MatchThreshold, r.Impostor)
	return r, nil
}

// GalleryAt estimates the largest gallery for FPIR 0.3 % at threshold t
// (see the package documentation); s is the impostor summary (for the
// normal-tail extrapolation).
func (d Dist) GalleryAt(t float64, s Summary) Gallery {
	gl := Gallery{Threshold: t}
	gl.MeasuredFMR, _ = d.FMR(t)
	fmr := gl.MeasuredFMR
	if fmr == 0 {
		gl.UpperFMR = 3 / float64(d.N)
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
