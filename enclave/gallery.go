package enclave

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/facesign/facesign/vectors"
)

// Index is the 1:N search the pipeline decides on: every vector the
// identities keep (enrolment vectors and templates), addressed by slot.
// Implementations are safe for concurrent use.
type Index interface {
	// Add stores a copy of v (L2-normalised, Dim long) and returns its
	// slot; the caller may reuse v afterwards.
	Add(v []float32) (int, error)
	// Remove frees slot.
	Remove(slot int) error
	// Search returns up to k matches, best first, one per slot.
	Search(q []float32, k int) ([]Match, error)
	// Vector returns a copy of the vector in slot.
	Vector(slot int) ([]float32, error)
	// Len is the number of stored vectors.
	Len() int
}

var _ Index = (*ExactIndex)(nil)

// ErrNoSlot reports a slot that holds no vector.
var ErrNoSlot = errors.New("enclave: no vector in slot")

// ExactIndex is the plain, obviously-correct exhaustive cosine search: the
// reference any faster index is compared against.
type ExactIndex struct {
	dim  int
	mu   sync.RWMutex
	vecs [][]float32 // nil = free slot
	free []int
	n    int
}

// NewExactIndex makes an empty index of dim-dimensional vectors.
func NewExactIndex(dim int) *ExactIndex { return &ExactIndex{dim: dim} }

// Add implements [Index].
func (x *ExactIndex) Add(v []float32) (int, error) {
	if len(v) != x.dim {
		return 0, fmt.Errorf("%w: dimension %d, index holds %d", vectors.ErrEngineMismatch, len(v), x.dim)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	c := slices.Clone(v)
	x.n++
	if k := len(x.free); k > 0 {
		s := x.free[k-1]
		x.free = x.free[:k-1]
		x.vecs[s] = c
		return s, nil
	}
	x.vecs = append(x.vecs, c)
	return len(x.vecs) - 1, nil
}

// Remove implements [Index].
func (x *ExactIndex) Remove(slot int) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if slot < 0 || slot >= len(x.vecs) || x.vecs[slot] == nil {
		return fmt.Errorf("%w %d", ErrNoSlot, slot)
	}
	clear(x.vecs[slot])
	x.vecs[slot] = nil
	x.free = append(x.free, slot)
	x.n--
	return nil
}

// Vector implements [Index].
func (x *ExactIndex) Vector(slot int) ([]float32, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if slot < 0 || slot >= len(x.vecs) || x.vecs[slot] == nil {
		return nil, fmt.Errorf("%w %d", ErrNoSlot, slot)
	}
	return slices.Clone(x.vecs[slot]), nil
}

// Search implements [Index].
func (x *ExactIndex) Search(q []float32, k int) ([]Match, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("%w: dimension %d, index holds %d", vectors.ErrEngineMismatch, len(q), x.dim)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Match
	for s, v := range x.vecs {
		if v == nil {
			continue
		}
		out = append(out, Match{Slot: s, Score: exactScore(v, q)})
	}
	sortMatches(out)
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// exactScore is the cosine of two L2-normalised vectors, their dot product,
// summed in float64: the reference score every index is compared against.
func exactScore(v, q []float32) float32 {
	var d float64
	for i := range v {
		d += float64(v[i]) * float64(q[i])
	}
	return float32(d)
}

// sortMatches orders matches best first; equal scores by slot, so the order
// is deterministic.
func sortMatches(m []Match) {
	slices.SortStableFunc(m, func(a, b Match) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return a.Slot - b.Slot
	})
}

// Len implements [Index].
func (x *ExactIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

var _ Index = (*GalleryIndex)(nil)

// galleryOptions is how the service's own galleries (the engine's and a
// migration's next one) store vectors: int8 codes scanned, re-ranked
// against float32 copies, so every search returns exactly what a float32
// scan returns (certified, docs/search.md) while reading a quarter of the
// bytes. At 10⁶ × 704-d a float32 scan reads 2.8 GB per search and was a
// quarter of the served enclave's CPU under load (docs/engine-perf.md); the
// price is memory, 5·D + 4 bytes per vector instead of 4·D. The re-rank
// depth is 1024 rather than the gallery's default 256: at 704-d the int8
// bound ε is wide, and with 256 candidates 4 in 10 real-face searches at
// 10⁶ failed the certificate and scanned the gallery a second time (the
// benchmark's second-passes metric); 1024 candidates cost about 2 ms more
// to re-score and needed none, for K = 9 to 14 results.
var galleryOptions = vectors.GalleryOptions{Type: vectors.GalleryInt8, Rerank: 1024}

// GalleryIndex is the production [Index]: a [vectors.Gallery] (exact
// float32 or int8-with-certified-re-rank scan across cores) whose concurrent
// searches are coalesced into one pass over the gallery ([vectors.Coalescer]).
type GalleryIndex struct {
	g *vectors.Gallery
	c *vectors.Coalescer
}

// NewGalleryIndex wraps a new gallery of dim-dimensional vectors.
func NewGalleryIndex(dim int, opts vectors.GalleryOptions) (*GalleryIndex, error) {
	g, err := vectors.NewGallery(dim, opts)
	if err != nil {
		return nil, err
	}
	c, err := vectors.NewCoalescer(g, 0)
	if err != nil {
		return nil, err
	}
	return &GalleryIndex{g: g, c: c}, nil
}

// Add implements [Index].
func (x *GalleryIndex) Add(v []float32) (int, error) {
	s, err := x.g.Add(v)
	if err != nil {
		return 0, err
	}
	return int(s), nil
}

// Remove implements [Index].
func (x *GalleryIndex) Remove(slot int) error {
	if slot < 0 || int64(slot) > math.MaxUint32 {
		return fmt.Errorf("%w %d", ErrNoSlot, slot)
	}
	if err := x.g.Remove(vectors.Slot(slot)); err != nil {
		return fmt.Errorf("%w %d: %w", ErrNoSlot, slot, err)
	}
	return nil
}

// Search implements [Index].
func (x *GalleryIndex) Search(q []float32, k int) ([]Match, error) {
	ms, err := x.c.Search(q, k)
	if err != nil {
		return nil, err
	}
	out := make([]Match, len(ms))
	for i, m := range ms {
		out[i] = Match{Slot: int(m.Slot), Score: m.Score}
	}
	return out, nil
}

// Len implements [Index].
func (x *GalleryIndex) Len() int { return x.g.Len() }

// Stats returns the gallery's search counters.
func (x *GalleryIndex) Stats() vectors.GalleryStats { return x.g.Stats() }

// Vector implements [Index].
func (x *GalleryIndex) Vector(slot int) ([]float32, error) {
	if slot < 0 || int64(slot) > math.MaxUint32 {
		return nil, fmt.Errorf("%w %d", ErrNoSlot, slot)
	}
	v, err := x.g.Vector(vectors.Slot(slot))
	if err != nil {
		return nil, fmt.Errorf("%w %d: %w", ErrNoSlot, slot, err)
	}
	return v, nil
}
