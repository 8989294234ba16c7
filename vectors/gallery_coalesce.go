package vectors

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Coalescer batches concurrent searches on a [Gallery]: while one pass over
// the gallery runs, searches that arrive queue up, and when it finishes they
// are answered together by one [Gallery.SearchBatch] (one pass for all of
// them) run by the first of them. A search that arrives when nothing runs
// starts at once, so a lone request never waits for company and no timer is
// involved; under load, batches grow by themselves to the arrival rate.
//
// Results equal what Gallery.Search returns for the same query and k. A
// Coalescer is safe for concurrent use.
type Coalescer struct {
	g   *Gallery
	max int

	mu      sync.Mutex
	busy    bool
	pending []*coalesced

	nSearch, nBatch atomic.Uint64
}

type coalesced struct {
	q     []float32
	k     int
	res   []Match
	err   error
	ready chan bool // receives false when res/err are set, true when this request must run the next batch
}

// DefaultCoalesceMax is the batch size limit used when NewCoalescer gets 0.
const DefaultCoalesceMax = 64

// NewCoalescer returns a Coalescer over g that answers at most maxBatch
// queries per pass (0 means DefaultCoalesceMax).
func NewCoalescer(g *Gallery, maxBatch int) (*Coalescer, error) {
	if g == nil || maxBatch < 0 {
		return nil, fmt.Errorf("%w: coalescer needs a gallery and maxBatch ≥ 0", ErrGalleryOptions)
	}
	if maxBatch == 0 {
		maxBatch = DefaultCoalesceMax
	}
	return &Coalescer{g: g, max: maxBatch}, nil
}

// Search answers like Gallery.Search, possibly together with other
// concurrent searches. Invalid input fails at once and never joins a batch.
func (c *Coalescer) Search(q []float32, k int) ([]Match, error) {
	if err := c.g.checkQuery(q, k); err != nil {
		return nil, err
	}
	c.nSearch.Add(1)
	r := &coalesced{q: q, k: k, ready: make(chan bool, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, r)
	if c.busy {
		c.mu.Unlock()
		if lead := <-r.ready; !lead {
			return r.res, r.err
		}
		c.mu.Lock() // handed the lead: r is first in pending
	} else {
		c.busy = true
	}
	n := min(len(c.pending), c.max)
	batch := make([]*coalesced, n)
	copy(batch, c.pending)
	c.pending = append(c.pending[:0:0], c.pending[n:]...)
	c.mu.Unlock()

	c.run(batch)

	c.mu.Lock()
	if len(c.pending) > 0 {
		next := c.pending[0]
		c.mu.Unlock()
		next.ready <- true
	} else {
		c.busy = false
		c.mu.Unlock()
	}
	for _, o := range batch[1:] {
		o.ready <- false
	}
	return r.res, r.err
}

// run answers a batch with one SearchBatch at the largest k asked for; each
// request gets its own prefix (the order is total, so the top k is a prefix
// of the top K ≥ k).
func (c *Coalescer) run(batch []*coalesced) {
	c.nBatch.Add(1)
	qs := make([][]float32, len(batch))
	k := 0
	for i, r := range batch {
		qs[i] = r.q
		k = max(k, r.k)
	}
	res, err := c.g.SearchBatch(qs, k)
	for i, r := range batch {
		if err != nil {
			r.err = err
			continue
		}
		r.res = res[i][:min(r.k, len(res[i]))]
	}
}

// Stats reports how many searches the Coalescer answered and in how many
// passes over the gallery.
func (c *Coalescer) Stats() (searches, batches uint64) {
	return c.nSearch.Load(), c.nBatch.Load()
}
