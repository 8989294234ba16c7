package eval

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// TestTailPoints: on normal impostor scores (a tail lighter than
// exponential), a curve fitted on 20,000 pairs is compared with 2·10⁶ fresh
// ones at the FMR levels those measure with at least ten pairs; the
// measured FMR sits on its target, the ratio is predicted / measured, and
// where the fit extrapolates it overstates FMR, as the tail model promises.
func TestTailPoints(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	draw := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = 0.1 * r.NormFloat64()
		}
		return s
	}
	gen := make([]float64, 500)
	for i := range gen {
		gen[i] = 0.7 + 0.05*r.NormFloat64()
	}
	info := EngineInfo{Name: "test", ModelSHA256: strings.Repeat("ab", 32), Dim: 8}
	c, err := BuildCurve(info, &vectors.Thresholds{Match: 0.5, New: 0.3, Margin: 0.05}, DistOf(gen, draw(20_000)), calib.Source{Dataset: "synthetic", Command: "go test"})
	if err != nil {
		t.Fatal(err)
	}
	report := DistOf(gen, draw(2_000_000))
	pts := tailPoints(c, report)
	if len(pts) != 3 || pts[0].TargetFMR != 1e-3 || pts[2].TargetFMR != 1e-5 {
		t.Fatalf("points %+v", pts)
	}
	for _, p := range pts {
		if p.MeasuredPairs < 10 || p.MeasuredFMR < p.TargetFMR || p.MeasuredFMR > 1.01*p.TargetFMR ||
			p.Ratio != p.PredictedFMR/p.MeasuredFMR {
			t.Fatalf("point %+v", p)
		}
		if p.Extrapolated && !(p.Ratio > 1) {
			t.Fatalf("an extrapolated normal tail understated: %+v", p)
		}
	}
	if !pts[2].Extrapolated {
		t.Fatalf("1e-5 from 20,000 pairs not extrapolated: %+v", pts[2])
	}
}

// TestCapImages: people are cut to their first vectors; 0 changes nothing.
func TestCapImages(t *testing.T) {
	v := func(n int) []vectors.FaceVector { return make([]vectors.FaceVector, n) }
	in := [][]vectors.FaceVector{v(1), v(6), v(4)}
	if got := capImages(in, 0); len(got[1]) != 6 {
		t.Fatal("cap 0 cut")
	}
	got := capImages(in, 4)
	if len(got[0]) != 1 || len(got[1]) != 4 || len(got[2]) != 4 || len(in[1]) != 6 {
		t.Fatalf("capped %d %d %d, input %d", len(got[0]), len(got[1]), len(got[2]), len(in[1]))
	}
}

// TestTailPeople: a person with many images beside a look-alike makes most
// of the impostor tail, and tailPeople says so; its count of pairs at the
// threshold is the distribution's.
func TestTailPeople(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const dim = 16
	unit := func(base []float32, noise float64) vectors.FaceVector {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64() * noise)
			if base != nil {
				v[i] += base[i]
			}
		}
		vectors.Normalize(v)
		return vectors.FaceVector{Engine: "t", Values: v}
	}
	face := unit(nil, 1).Values
	var people [][]vectors.FaceVector
	names := []string{"Big", "LookAlike"}
	big := make([]vectors.FaceVector, 300)
	for i := range big {
		big[i] = unit(face, 0.15)
	}
	people = append(people, big, []vectors.FaceVector{unit(face, 0.15), unit(face, 0.15)})
	for i := range 600 {
		people = append(people, []vectors.FaceVector{unit(nil, 1), unit(nil, 1)})
		names = append(names, fmt.Sprintf("p%03d", i))
	}
	d, err := distOf(people)
	if err != nil {
		t.Fatal(err)
	}
	tp := tailPeople(people, names, d)
	if tp == nil || len(tp.Top) == 0 {
		t.Fatalf("tail people %+v", tp)
	}
	if top := tp.Top[0]; top.A != "Big" || top.B != "LookAlike" || top.Pairs*2 < tp.Pairs {
		t.Fatalf("top pair %+v of %d", top, tp.Pairs)
	}
	k := int64(TailPeopleTarget * float64(d.N))
	if k < 10 || tp.Threshold != d.Top[k-1] || tp.Pairs < k-1 || tp.Pairs > k+2 { // float32 sums in another order
		t.Fatalf("%d pairs at %v, the distribution's %d-th score is %v", tp.Pairs, tp.Threshold, k, d.Top[k-1])
	}
	if tailPeople(people[2:4], names[2:4], DistOf(nil, []float64{0.1})) != nil {
		t.Fatal("tail people from fewer than ten pairs")
	}
}
