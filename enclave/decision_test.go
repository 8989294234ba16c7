package enclave

import (
	"math"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// TestDecideSlots: the enclave's Decide applies the policy's thresholds
// through vectors.Decide and answers in the index's slot numbering (the rule
// itself is tested in package vectors).
func TestDecideSlots(t *testing.T) {
	p := wire.Policy{MatchThreshold: 0.6, NewThreshold: 0.4, Margin: 0.1}
	tests := []struct {
		name    string
		matches []Match
		want    Outcome
		slot    int
	}{
		{"empty", nil, OutcomeNew, 0},
		{"match", []Match{{70000, 0.8}, {1, 0.3}}, OutcomeExisting, 70000},
		{"runner-up inside margin", []Match{{4, 0.8}, {2, 0.5}}, OutcomeAmbiguous, 0},
		{"grey zone", []Match{{4, 0.5}}, OutcomeAmbiguous, 0},
		{"far", []Match{{4, 0.39}}, OutcomeNew, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(p, tt.matches)
			if d.Outcome != tt.want || d.Slot != tt.slot {
				t.Fatalf("got %v slot %d, want %v slot %d", d.Outcome, d.Slot, tt.want, tt.slot)
			}
		})
	}
}

func TestExactIndex(t *testing.T) {
	x := NewExactIndex(4)
	s0, _ := x.Add([]float32{1, 0, 0, 0})
	s1, _ := x.Add([]float32{0, 1, 0, 0})
	if _, err := x.Add([]float32{1}); err == nil {
		t.Fatal("wrong dimension accepted")
	}
	m, err := x.Search([]float32{0.6, 0.8, 0, 0}, 2)
	if err != nil || len(m) != 2 || m[0].Slot != s1 || m[1].Slot != s0 {
		t.Fatalf("%v %v", m, err)
	}
	if err := x.Remove(s1); err != nil {
		t.Fatal(err)
	}
	if err := x.Remove(s1); err == nil {
		t.Fatal("removed twice")
	}
	if m, _ := x.Search([]float32{0, 1, 0, 0}, 5); len(m) != 1 || x.Len() != 1 {
		t.Fatalf("%v", m)
	}
	if s, _ := x.Add([]float32{0, 0, 1, 0}); s != s1 {
		t.Fatalf("free slot not reused: %d", s)
	}
}

// TestGalleryIndexMatchesExact compares the production index with the plain
// reference on random vectors, with removals.
func TestGalleryIndexMatchesExact(t *testing.T) {
	for _, typ := range []vectors.GalleryType{vectors.GalleryFloat32, vectors.GalleryInt8} {
		t.Run(typ.String(), func(t *testing.T) {
			const dim = 32
			g, err := NewGalleryIndex(dim, vectors.GalleryOptions{Type: typ, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			ref := NewExactIndex(dim)
			for i := range 300 {
				v := personVector(i+1, dim)
				a, err1 := g.Add(v)
				b, err2 := ref.Add(v)
				if err1 != nil || err2 != nil || a != b {
					t.Fatalf("add %d: %d %d %v %v", i, a, b, err1, err2)
				}
			}
			for s := 0; s < 300; s += 7 {
				if err := g.Remove(s); err != nil {
					t.Fatal(err)
				}
				_ = ref.Remove(s)
			}
			if err := g.Remove(0); err == nil {
				t.Fatal("removed twice")
			}
			for q := range 20 {
				qv := personVector(q*13+2, dim)
				got, err := g.Search(qv, 2)
				want, _ := ref.Search(qv, 2)
				if err != nil || len(got) != 2 || got[0].Slot != want[0].Slot || got[1].Slot != want[1].Slot ||
					math.Abs(float64(got[0].Score-want[0].Score)) > 1e-5 {
					t.Fatalf("query %d: %v vs %v (%v)", q, got, want, err)
				}
			}
			if g.Len() != ref.Len() {
				t.Fatal("len")
			}
		})
	}
}
