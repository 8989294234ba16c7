package state

import (
	"context"
	"errors"
	"sync"
)

// A Counter is a monotonic counter outside the parent's control. The
// journal stores in it the number of log records it has acknowledged, so a
// parent that serves an older (valid) log is caught.
type Counter interface {
	// Load returns the counter's value; 0 if it was never advanced.
	Load(ctx context.Context) (uint64, error)
	// Advance moves the counter from old to new (new > old) only if it
	// still holds old, and returns [ErrCounterConflict] otherwise.
	Advance(ctx context.Context, old, new uint64) error
}

// Head is what a [HeadCounter] holds: N, the number of acknowledged log
// records, and Hash, the chain hash of the last of them (H(N−1); for N = 1
// the hash of the header). A zero Hash means the counter does not bind the
// chain at N (a counter moved by [Counter.Advance] alone, as before
// several enclaves shared a log); the journal binds it at its next advance.
type Head struct {
	N    uint64
	Hash [32]byte
}

// Bound reports whether h binds a chain hash.
func (h Head) Bound() bool { return h.Hash != [32]byte{} }

// A HeadCounter is a [Counter] that also binds the log's chain: it moves
// from one [Head] to the next only if it still holds the first, hash
// included. Because every acknowledged head extends the one before it, the
// counter's history is one chain: a parent that shows different enclaves
// different logs (a fork) cannot get both acknowledged, and an enclave
// whose view is not on the counter's chain finds out at its next write.
// Both counters of this package are HeadCounters; [Journal] requires one.
type HeadCounter interface {
	Counter
	// LoadHead returns the counter's head (N = 0 if it was never moved).
	LoadHead(ctx context.Context) (Head, error)
	// AdvanceHead moves the counter from old to new (new.N > old.N) only if
	// it holds old — the same N and, if old is bound, the same hash; if old
	// is unbound, a counter that binds no hash at old.N — and returns
	// [ErrCounterConflict] otherwise.
	AdvanceHead(ctx context.Context, old, new Head) error
}

var (
	// ErrCounterConflict reports a counter that no longer holds the value
	// the journal expected: another writer, or a counter that went back.
	ErrCounterConflict = errors.New("state: rollback counter conflict")
	// ErrCounterArgs reports an Advance that would not move forward.
	ErrCounterArgs = errors.New("state: counter can only move forward")
)

// MemCounter is a [Counter] in memory, for tests and for tools that run
// without a rollback guard. It protects against nothing across restarts.
type MemCounter struct {
	mu sync.Mutex
	n  uint64
	h  [32]byte // the chain hash bound at hn
	hn uint64   // the value h belongs to; h binds nothing when hn != n
}

var _ HeadCounter = (*MemCounter)(nil)

// Load implements [Counter].
func (c *MemCounter) Load(context.Context) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, nil
}

// Advance implements [Counter].
func (c *MemCounter) Advance(_ context.Context, old, new uint64) error {
	if new <= old {
		return ErrCounterArgs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n != old {
		return ErrCounterConflict
	}
	c.n = new
	return nil
}

// LoadHead implements [HeadCounter].
func (c *MemCounter) LoadHead(context.Context) (Head, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.headLocked(), nil
}

func (c *MemCounter) headLocked() Head {
	if c.hn == c.n && c.n > 0 {
		return Head{N: c.n, Hash: c.h}
	}
	return Head{N: c.n}
}

// AdvanceHead implements [HeadCounter].
func (c *MemCounter) AdvanceHead(_ context.Context, old, new Head) error {
	if new.N <= old.N {
		return ErrCounterArgs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headLocked() != old {
		return ErrCounterConflict
	}
	c.n, c.h, c.hn = new.N, new.Hash, new.N
	return nil
}
