package vectors

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCandidatesEqualTopK feeds the same stream to candidates and to the
// heap (with many tied scores) and expects the same r best; the stream is
// filtered by each one's threshold the way the scan's masks filter it.
func TestCandidatesEqualTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, size := range []int{1, 2, 3, 10, 256} {
		for _, n := range []int{0, 1, size - 1, size, size + 1, 3 * size, 5000} {
			for _, levels := range []int{3, 1000, 1 << 30} {
				t.Run(fmt.Sprintf("r=%d/n=%d/levels=%d", size, n, levels), func(t *testing.T) {
					c, h := newCandidates(size), newTopK(size)
					for _, s := range r.Perm(n) { // slots in random order
						m := Match{Slot: Slot(s), Score: float32(r.IntN(levels)) / float32(levels)}
						if m.Score >= c.threshold() {
							c.push(m)
						}
						if m.Score >= h.threshold() {
							h.push(m)
						}
					}
					got := slices.Clone(c.best())
					slices.SortFunc(got, cmpMatch)
					if want := h.sorted(); !slices.Equal(got, want) {
						t.Fatalf("candidates kept %v, heap %v", got, want)
					}
				})
			}
		}
	}
}

func TestSelectBest(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	for i := 0; i < 300; i++ {
		n := r.IntN(200)
		m := make([]Match, n)
		for j := range m {
			m[j] = Match{Slot: Slot(r.IntN(50)), Score: float32(r.IntN(7))}
		}
		want := slices.Clone(m)
		slices.SortFunc(want, cmpMatch)
		k := 0
		if n > 0 {
			k = r.IntN(n + 1)
		}
		selectBest(m, k)
		got := slices.Clone(m[:k])
		slices.SortFunc(got, cmpMatch)
		if !slices.Equal(got, want[:k]) {
			t.Fatalf("n=%d k=%d: selected %v, want %v", n, k, got, want[:k])
		}
	}
}
