package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
)

// randomLabelled makes n unit vectors of dim values for people of sizes
// 1..maxPer, each person's vectors spread around a centre (so genuine
// scores are high).
func randomLabelled(rng *rand.Rand, n, dim, maxPer int, spread float64) Labelled {
	l := Labelled{Dim: dim}
	centre := make([]float64, dim)
	p, left := -1, 0
	for range n {
		if left == 0 {
			p++
			left = 1 + rng.IntN(maxPer)
			for k := range centre {
				centre[k] = rng.NormFloat64()
			}
		}
		left--
		v := make([]float32, dim)
		for k := range v {
			v[k] = float32(centre[k] + spread*rng.NormFloat64())
		}
		vectors.Normalize(v)
		l.Values = append(l.Values, v...)
		l.Person = append(l.Person, p)
	}
	return l
}

// TestAllPairsTwin: the blocked GEMM path and the plain double loop see the
// same pairs with the same scores (to float32 rounding).
func TestAllPairsTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ n, dim, per int }{{2, 3, 1}, {7, 5, 3}, {300, 16, 6}, {600, 33, 9}} {
		l := randomLabelled(rng, tc.n, tc.dim, tc.per, 0.6)
		fast, err := AllPairs(l)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := AllPairsReference(l)
		if err != nil {
			t.Fatal(err)
		}
		gen, imp := l.pairCounts()
		if int64(len(fast.Genuine)) != gen || fast.N != imp || ref.N != imp || len(ref.Genuine) != len(fast.Genuine) {
			t.Fatalf("n=%d: pairs %d/%d %d/%d, want %d/%d", tc.n, len(fast.Genuine), fast.N, len(ref.Genuine), ref.N, gen, imp)
		}
		near := func(a, b []float32, what string) {
			t.Helper()
			if len(a) != len(b) {
				t.Fatalf("n=%d %s: %d and %d", tc.n, what, len(a), len(b))
			}
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-5 {
					t.Fatalf("n=%d %s[%d]: %v vs %v", tc.n, what, i, a[i], b[i])
				}
			}
		}
		near(fast.Genuine, ref.Genuine, "genuine")
		near(fast.Top, ref.Top, "top")
		if math.Abs(fast.Sum-ref.Sum) > 1e-4*float64(imp) || math.Abs(float64(fast.Max-ref.Max)) > 1e-5 || math.Abs(float64(fast.Min-ref.Min)) > 1e-5 {
			t.Fatalf("n=%d: sums %v %v", tc.n, fast.Sum, ref.Sum)
		}
		// Histograms agree up to scores moving to a neighbouring bin.
		var cf, cr, worst int64
		for b := range fast.Hist {
			cf += fast.Hist[b]
			cr += ref.Hist[b]
			worst = max(worst, cf-cr, cr-cf)
		}
		if cf != imp || worst > 2 {
			t.Fatalf("n=%d: histograms hold %d, cumulative counts differ by %d", tc.n, cf, worst)
		}
	}
}

// TestDistReportMatchesAnalyze: on scores it keeps entirely, Dist.Report is
// Analyze; above that it keeps exact thresholds and TARs.
func TestDistReportMatchesAnalyze(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{40, 400} { // 400 vectors: 79,000+ impostor pairs > exactImpostors
		l := randomLabelled(rng, n, 12, 5, 0.7)
		d, err := AllPairsReference(l)
		if err != nil {
			t.Fatal(err)
		}
		// The reference scores as plain slices, rounded like Dist's.
		var g, im []float64
		for i := range l.Person {
			for j := i + 1; j < len(l.Person); j++ {
				var s float64
				for k := range l.Dim {
					s += float64(l.Values[i*l.Dim+k]) * float64(l.Values[j*l.Dim+k])
				}
				if l.Person[i] == l.Person[j] {
					g = append(g, float64(float32(s)))
				} else {
					im = append(im, float64(float32(s)))
				}
			}
		}
		want, err := Analyze(g, im)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Report()
		if err != nil {
			t.Fatal(err)
		}
		exact := len(im) <= exactImpostors
		if got.Exact != exact || d.Exact() != exact {
			t.Fatalf("n=%d: exact %v, want %v", n, got.Exact, exact)
		}
		if n == 400 && exact {
			t.Fatal("the large case must exercise the histogram")
		}
		for i, p := range got.Points {
			if p != want.Points[i] {
				t.Fatalf("n=%d point %d: %+v, want %+v", n, i, p, want.Points[i])
			}
		}
		if got.MatchThreshold != want.MatchThreshold || got.NewThreshold != want.NewThreshold || got.MatchFAR != want.MatchFAR || got.Genuine != want.Genuine {
			t.Fatalf("n=%d: %+v\nwant %+v", n, got, want)
		}
		if got.Gallery.MeasuredFMR != want.Gallery.MeasuredFMR || got.Gallery.N != want.Gallery.N || math.Abs(got.Gallery.GaussFMR-want.Gallery.GaussFMR) > 1e-9 {
			t.Fatalf("n=%d: gallery %+v, want %+v", n, got.Gallery, want.Gallery)
		}
		gi, wi := got.Impostor, want.Impostor
		if gi.N != wi.N || gi.Min != wi.Min || gi.Max != wi.Max || gi.P99 != wi.P99 || math.Abs(gi.Mean-wi.Mean) > 1e-12 || math.Abs(gi.Std-wi.Std) > 1e-9 {
			t.Fatalf("n=%d: impostor %+v, want %+v", n, gi, wi)
		}
		tol := 0.0
		if !exact {
			tol = 2.0 / HistBins // one bin
		}
		if math.Abs(gi.P50-wi.P50) > tol || math.Abs(gi.P01-wi.P01) > tol {
			t.Fatalf("n=%d: impostor p1/median %v %v, want %v %v", n, gi.P01, gi.P50, wi.P01, wi.P50)
		}
		if exact && (got.EER != want.EER || got.EERThreshold != want.EERThreshold) {
			t.Fatalf("n=%d: EER %v at %v, want %v at %v", n, got.EER, got.EERThreshold, want.EER, want.EERThreshold)
		}
		if !exact && math.Abs(got.EER-want.EER) > 0.002 {
			t.Fatalf("n=%d: EER %v, want %v", n, got.EER, want.EER)
		}
		// FMR at any threshold: exact above the kept top, within one bin's
		// count below it.
		slices.Sort(im)
		for _, th := range []float64{-0.5, 0, 0.2, 0.5, float64(d.Top[len(d.Top)-1]) + 1e-7, 0.9} {
			fm, ex := d.FMR(th)
			ref := FMR(im, th)
			if ex && fm != ref || !ex && math.Abs(fm-ref)*float64(len(im)) > float64(d.Hist[binOf(float32(th))]) {
				t.Fatalf("n=%d: FMR(%v) = %v (exact %v), want %v", n, th, fm, ex, ref)
			}
		}
	}
}

// TestTARAtFAR: a constructed distribution with known answers. 200,000
// impostor scores evenly over [-0.5, 0.5) and 1,000 genuine over
// [0.4, 0.9): at FAR 1e-3 the 200 highest impostors may pass, so the
// threshold sits just above the 201st highest.
func TestTARAtFAR(t *testing.T) {
	const m = 200_000
	im := make([]float64, m)
	for i := range im {
		im[i] = -0.5 + float64(i)/m
	}
	g := make([]float64, 1000)
	for i := range g {
		g[i] = 0.4 + 0.5*float64(i)/1000
	}
	d := DistOf(g, im)
	r, err := d.Report()
	if err != nil {
		t.Fatal(err)
	}
	for i, far := range FARTargets {
		p := r.Points[i]
		allowed := int(math.Floor(far * m))
		thr := math.Nextafter(float64(float32(im[m-allowed-1])), math.Inf(1))
		tar := 0
		for _, s := range g {
			if float64(float32(s)) >= thr {
				tar++
			}
		}
		if p.Threshold != thr || math.Abs(p.TAR-float64(tar)/1000) > 1e-12 || p.FAR > far {
			t.Fatalf("FAR %v: %+v, want threshold %v TAR %v", far, p, thr, float64(tar)/1000)
		}
		if p.Measurable != (m*far >= 1) || p.LowConfidence != (m*far < 10) {
			t.Fatalf("FAR %v flags %+v", far, p)
		}
	}
	// At 1e-3 the threshold is just above 0.499 (the 201st highest
	// impostor), so TAR = (0.9 − 0.499)/0.5 ≈ 0.802.
	if math.Abs(r.Points[1].TAR-0.802) > 0.002 {
		t.Fatalf("TAR at 1e-3 = %v", r.Points[1].TAR)
	}
}

func TestLabel(t *testing.T) {
	v := func(e string, xs ...float32) vectors.FaceVector { return vectors.FaceVector{Engine: e, Values: xs} }
	l, err := Label([][]vectors.FaceVector{{v("e", 1, 0)}, {}, {v("e", 0, 1), v("e", 0.6, 0.8)}})
	if err != nil || l.Dim != 2 || !slices.Equal(l.Person, []int{0, 2, 2}) || len(l.Values) != 6 {
		t.Fatalf("%+v %v", l, err)
	}
	for _, bad := range [][][]vectors.FaceVector{
		{{v("e", 1, 0)}, {v("f", 1, 0)}},
		{{v("e", 1, 0)}, {v("e", 1, 0, 0)}},
	} {
		if _, err := Label(bad); !errors.Is(err, ErrVectors) || !errors.Is(err, vectors.ErrEngineMismatch) {
			t.Fatalf("mixed: %v", err)
		}
	}
	if _, err := AllPairs(Labelled{Dim: 2, Values: []float32{1}, Person: []int{0}}); !errors.Is(err, ErrVectors) {
		t.Fatalf("short values: %v", err)
	}
}

func TestDETAndPlot(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	d, err := AllPairs(randomLabelled(rng, 400, 12, 5, 0.7))
	if err != nil {
		t.Fatal(err)
	}
	pts := d.DET(0)
	if pts[0].FMR != 0 || pts[len(pts)-1].FMR < 0.99 {
		t.Fatalf("DET from %+v to %+v", pts[0], pts[len(pts)-1])
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].Threshold >= pts[i-1].Threshold || pts[i].FMR < pts[i-1].FMR || pts[i].FNMR > pts[i-1].FNMR {
			t.Fatalf("DET not monotone at %d: %+v after %+v", i, pts[i], pts[i-1])
		}
	}
	var labels []string
	for _, tk := range (decades{}).Ticks(2e-8, 1) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "1e-7 1e-6 1e-5 1e-4 1e-3 0.01 0.1 1" {
		t.Fatalf("ticks %s", got)
	}
	thin := d.DET(100)
	if len(thin) > 400 || thin[0] != pts[0] || thin[len(thin)-1] != pts[len(pts)-1] {
		t.Fatalf("thinned to %d points", len(thin))
	}
}
