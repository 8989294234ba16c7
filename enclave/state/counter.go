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
}

var _ Counter = (*MemCounter)(nil)

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
