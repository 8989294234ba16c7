package vectors

import (
	"math"
	"slices"
)

// better is the result order: higher score first, then lower slot.
func better(a, b Match) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.Slot < b.Slot)
}

// topK keeps the k best matches seen so far in a binary heap whose root is
// the worst kept match.
type topK struct {
	k int
	h []Match
}

func newTopK(k int) *topK { return &topK{k: k, h: make([]Match, 0, min(k, 1024))} }

// threshold is the lowest score that can still enter: -Inf until k matches
// are kept. A score equal to it enters only with a lower slot.
func (t *topK) threshold() float32 {
	if len(t.h) < t.k {
		return float32(math.Inf(-1))
	}
	return t.h[0].Score
}

func (t *topK) full() bool { return len(t.h) >= t.k }

func (t *topK) push(m Match) {
	if len(t.h) < t.k {
		t.h = append(t.h, m)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !better(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !better(m, t.h[0]) {
		return
	}
	t.h[0] = m
	for i, n := 0, len(t.h); ; {
		w, l, r := i, 2*i+1, 2*i+2
		if l < n && better(t.h[w], t.h[l]) {
			w = l
		}
		if r < n && better(t.h[w], t.h[r]) {
			w = r
		}
		if w == i {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// sorted returns the kept matches best first.
func (t *topK) sorted() []Match {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b Match) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return out
}
