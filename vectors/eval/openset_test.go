package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors"
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
		{"nobody", [][]vectors.FaceVector{{}, {}}, th},
		{"nothing to search", [][]vectors.FaceVector{{unit(0, 1)}}, th},
		{"mixed engines", [][]vectors.FaceVector{{unit(0, 1), {Engine: "u", Values: unit(1, 1).Values}}}, th},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, run := range []func([][]vectors.FaceVector, vectors.Thresholds) (OpenSetResult, error){OpenSet, OpenSetReference} {
				r, err := run(tc.vecs, tc.th)
				if !errors.Is(err, ErrOpenSet) || r != (OpenSetResult{}) {
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
