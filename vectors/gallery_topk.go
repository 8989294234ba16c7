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
	slices.SortFunc(out, cmpMatch)
	return out
}

// candidates keeps the r best matches seen so far for the int8 scan, where
// r (the re-rank depth, 256 by default) is large and a heap costs O(log r)
// per entering match. Matches at or above the threshold are appended; when
// 2r have gathered, the r best are selected in linear time and the
// threshold rises to the worst of them. The matches kept at the end are the
// r best under the result order (score, then slot) — exactly what a topK of
// size r keeps — because nothing below the threshold can be among them.
type candidates struct {
	r   int
	thr float32
	buf []Match
}

func newCandidates(r int) *candidates {
	return &candidates{r: r, thr: float32(math.Inf(-1)), buf: make([]Match, 0, 2*r)}
}

// threshold is the lowest score that can still be among the r best.
func (c *candidates) threshold() float32 { return c.thr }

func (c *candidates) push(m Match) {
	if m.Score < c.thr {
		return
	}
	c.buf = append(c.buf, m)
	if len(c.buf) >= 2*c.r {
		c.shrink()
	}
}

// shrink keeps the r best and raises the threshold to the worst kept score.
func (c *candidates) shrink() {
	selectBest(c.buf, c.r)
	c.buf = c.buf[:c.r]
	thr := c.buf[0].Score
	for _, m := range c.buf[1:] {
		thr = min(thr, m.Score)
	}
	c.thr = thr
}

// best returns the r best matches pushed so far (all of them if fewer), in
// no particular order.
func (c *candidates) best() []Match {
	if len(c.buf) > c.r {
		c.shrink()
	}
	return c.buf
}

// selectBest reorders m so that m[:r] holds its r best matches under the
// result order, in no particular order (quickselect; the order is total,
// so the set is unique).
func selectBest(m []Match, r int) {
	lo, hi := 0, len(m)
	for r > lo && r < hi {
		if hi-lo <= 16 {
			slices.SortFunc(m[lo:hi], cmpMatch)
			return
		}
		// Median of three as the pivot, moved to the end.
		mid := lo + (hi-lo)/2
		if better(m[mid], m[lo]) {
			m[mid], m[lo] = m[lo], m[mid]
		}
		if better(m[hi-1], m[lo]) {
			m[hi-1], m[lo] = m[lo], m[hi-1]
		}
		if better(m[hi-1], m[mid]) {
			m[hi-1], m[mid] = m[mid], m[hi-1]
		}
		m[mid], m[hi-1] = m[hi-1], m[mid]
		p := m[hi-1]
		i := lo
		for j := lo; j < hi-1; j++ {
			if better(m[j], p) {
				m[i], m[j] = m[j], m[i]
				i++
			}
		}
		m[i], m[hi-1] = m[hi-1], m[i]
		// m[lo:i] are better than the pivot at i, m[i+1:hi] worse.
		if i < r {
			lo = i + 1
		} else {
			hi = i
		}
	}
}

func cmpMatch(a, b Match) int {
	if better(a, b) {
		return -1
	}
	if better(b, a) {
		return 1
	}
	return 0
}
