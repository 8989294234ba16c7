package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

const osDim = 12

// unit returns Σ w_k·e_{axis_k} (the weights must have unit norm).
func unit(pairs ...float64) vectors.FaceVector {
	v := make([]float32, osDim)
	for i := 0; i < len(pairs); i += 2 {
		v[int(pairs[i])] = float32(pairs[i+1])
	}
	return vectors.FaceVector{Engine: "t", Values: v}
}

func TestOpenSet(t *testing.T) {
	s := math.Sqrt(1 - 0.7*0.7)
	e := func(i int) vectors.FaceVector { return unit(float64(i), 1) }
	vecs := [][]vectors.FaceVector{
		{e(0), e(0)},               // returning, found: existing
		{e(1)},                     // single #0: enrols
		{e(2), e(1)},               // returning, second image is single #0's face: wrong person
		{e(3)},                     // single #1: new, nobody like it: new
		{e(4), unit(4, 0.7, 5, s)}, // returning, own score 0.7: ambiguous
		{e(6)},                     // single #2: enrols
		{e(0)},                     // single #3: new, but the first person's face: wrong person
		{},                         // no usable image: left out
		{e(8)},                     // single #4: enrols
		{unit(6, 0.7, 7, s)},       // single #5: new, 0.7 with single #2: ambiguous
		{e(9), e(11)},              // returning, second image unlike the first: new
	}
	th := vectors.Thresholds{Match: 0.9, New: 0.5, Margin: 0.1}
	want := OpenSetResult{
		Gallery:    7,
		Returning:  OpenSetCounts{People: 4, Existing: 1, WrongPerson: 1, Ambiguous: 1, New: 1},
		New:        OpenSetCounts{People: 3, New: 1, WrongPerson: 1, Ambiguous: 1},
		Thresholds: th,
		Unusable:   1,
	}
	for name, run := range map[string]func([][]vectors.FaceVector, vectors.Thresholds) (OpenSetResult, error){
		"gallery": OpenSet, "reference": OpenSetReference,
	} {
		got, err := run(vecs, th)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s:\n%+v\nwant\n%+v", name, got, want)
		}
	}
	if n := GallerySize(vecs); n != 7 {
		t.Fatalf("GallerySize %d", n)
	}
	if r := want.New.Rate(want.New.WrongPerson); r != 1.0/3 {
		t.Fatalf("rate %v", r)
	}
	if (OpenSetCounts{}).Rate(3) != 0 {
		t.Fatal("rate of nobody")
	}
	// The service's over-capacity thresholds: nobody is answered new; with
	// no match threshold either, everybody is refused.
	inf := float32(math.Inf(1))
	matchOnly, err := OpenSet(vecs, vectors.Thresholds{Match: 0.9, New: -inf, Margin: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if r := matchOnly.Returning; r.Existing != 1 || r.WrongPerson != 1 || r.New != 0 || r.Ambiguous != 2 || matchOnly.New.New != 0 || matchOnly.New.WrongPerson != 1 {
		t.Fatalf("match only %+v", matchOnly)
	}
	refuseAll, err := OpenSet(vecs, vectors.Thresholds{Match: inf, New: -inf})
	if err != nil {
		t.Fatal(err)
	}
	if refuseAll.Returning.Ambiguous != 4 || refuseAll.New.Ambiguous != 3 {
		t.Fatalf("refuse all %+v", refuseAll)
	}
}

func TestOpenSetErrors(t *testing.T) {
	ok := [][]vectors.FaceVector{{unit(0, 1), unit(0, 1)}}
	th := vectors.Thresholds{Match: 0.9, New: 0.5}
	for _, tc := range []struct {
		name string
		vecs [][]vectors.FaceVector
		th   vectors.Thresholds
	}{
		{"thresholds", ok, vectors.Thresholds{Match: 0.5, New: 0.9}},
		{"margin", ok, vectors.Thresholds{Match: 0.9, New: 0.5, Margin: -0.1}},
		{"nan", ok, vectors.Thresholds{Match: float32(math.NaN()), New: 0.5}},
		{"nobody", [][]vectors.FaceVector{{}, {}}, th},
		{"nothing to search", [][]vectors.FaceVector{{unit(0, 1)}}, th},
		{"mixed engines", [][]vectors.FaceVector{{unit(0, 1), {Engine: "u", Values: unit(1, 1).Values}}}, th},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, run := range []func([][]vectors.FaceVector, vectors.Thresholds) (OpenSetResult, error){OpenSet, OpenSetReference} {
				r, err := run(tc.vecs, tc.th)
				if !errors.Is(err, ErrOpenSet) || r != (OpenSetResult{}) || tc.name == "thresholds" && !errors.Is(err, vectors.ErrThresholds) {
					t.Fatalf("err %v, result %+v", err, r)
				}
			}
		})
	}
}

// TestOpenSetTwin: the gallery search and the plain loop decide alike on
// random data.
func TestOpenSetTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	l := randomLabelled(rng, 500, 16, 3, 0.5)
	vecs := make([][]vectors.FaceVector, l.Person[len(l.Person)-1]+1)
	for i, p := range l.Person {
		vecs[p] = append(vecs[p], vectors.FaceVector{Engine: "t", Values: l.Values[i*l.Dim : (i+1)*l.Dim]})
	}
	for _, th := range []vectors.Thresholds{{Match: 0.8, New: 0.6, Margin: 0.05}, {Match: 0.6, New: 0.3}, {Match: 0.95, New: 0.95}} {
		a, err := OpenSet(vecs, th)
		if err != nil {
			t.Fatal(err)
		}
		b, err := OpenSetReference(vecs, th)
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("%+v:\n%+v\n%+v", th, a, b)
		}
		if a.Returning.People == 0 || a.New.People == 0 {
			t.Fatalf("degenerate protocol %+v", a)
		}
	}
}

func TestServiceBucket(t *testing.T) {
	for _, tc := range []struct{ n, capacity, want int }{
		{0, 100, 1}, {1, 100, 1}, {3, 100, 4}, {64, 100, 64}, {65, 100, 100}, {100, 100, 100},
		{101, 100, 128}, {3714, 5000, 4096}, {3714, 1000, 4096}, {3714, 0, 4096},
	} {
		if got := ServiceBucket(tc.n, tc.capacity); got != tc.want {
			t.Errorf("ServiceBucket(%d, %d) = %d, want %d", tc.n, tc.capacity, got, tc.want)
		}
	}
}

// TestServiceThresholds: on a curve with well separated scores, the
// service's thresholds at a size within capacity are the curve's; past it,
// nobody is new and returning people are answered at the match threshold
// alone, and with no such threshold every decision is refused.
func TestServiceThresholds(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var gen, imp []float32
	for range 2000 {
		gen = append(gen, float32(min(1, 0.8+0.05*rng.NormFloat64())))
	}
	for range 200_000 {
		imp = append(imp, float32(0.1*rng.NormFloat64()))
	}
	c, err := calib.Build(calib.Input{Engine: "t", Margin: 0.02, Scores: calib.ScoresOf(gen, imp)})
	if err != nil {
		t.Fatal(err)
	}
	p := calib.DefaultPolicy()
	capacity := c.Capacity(p)
	if capacity < 2 {
		t.Fatalf("capacity %d", capacity)
	}
	th, bucket, st := ServiceThresholds(c, capacity/2+1, p)
	want, err := c.ThresholdsAt(bucket, p)
	if err != nil || st != WithinCapacity || th != want || bucket != ServiceBucket(capacity/2+1, capacity) {
		t.Fatalf("within: %+v at %d (%v), want %+v (%v)", th, bucket, st, want, err)
	}
	over := 4 * capacity
	th, bucket, st = ServiceThresholds(c, over, p)
	tm, _, err := c.MatchAt(bucket, p)
	if err != nil || st != MatchOnly || th.Match != tm || !math.IsInf(float64(th.New), -1) || th.Margin != 0.02 || bucket < over {
		t.Fatalf("over: %+v at %d (%v), match %v (%v)", th, bucket, st, tm, err)
	}
	// 2^40 is beyond any match threshold of this curve: everything is
	// refused there.
	huge := 1 << 40
	if _, _, err := c.MatchAt(huge, p); !errors.Is(err, calib.ErrOverCapacity) {
		t.Fatalf("MatchAt(2^40): %v", err)
	}
	th, _, st = ServiceThresholds(c, huge, p)
	if st != RefuseAll || !math.IsInf(float64(th.Match), 1) || !math.IsInf(float64(th.New), -1) {
		t.Fatalf("huge: %+v (%v)", th, st)
	}
	for _, s := range []ServiceState{WithinCapacity, MatchOnly, RefuseAll, 7} {
		if s.String() == "" {
			t.Fatal("state without a name")
		}
	}
}
