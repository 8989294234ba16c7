package enclave

import (
	"context"
	"sync"
	"sync/atomic"
)

// framePool runs the frames of every request on at most size workers at
// once, whatever the number of requests: the one place frames are
// decoded, so the decoded pixels in memory are bounded by size frames.
// A request's frames are independent until liveness, so they run in
// parallel; a worker is a goroutine started per frame only when a slot is
// free, so there are never more than size of them.
type framePool struct {
	slots chan struct{}
}

func newFramePool(size int) *framePool {
	return &framePool{slots: make(chan struct{}, max(size, 1))}
}

// size is the number of workers.
func (p *framePool) size() int { return cap(p.slots) }

// each runs f(0), …, f(n-1) on the pool, starting them in index order, and
// returns the error of the lowest index that failed — what running them
// one after the other would return. Once frame i has failed, frames after
// i that have not started are skipped; frames before it all run. It
// returns ctx's error if ctx ends while waiting for a worker (the frames
// already started finish first).
func (p *framePool) each(ctx context.Context, n int, f func(i int) error) error {
	errs := make([]error, n)
	var failed atomic.Int64 // lowest failed index; n when none
	failed.Store(int64(n))
	var wg sync.WaitGroup
	var ctxErr error
	for i := 0; i < n; i++ {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
		if ctxErr != nil {
			break
		}
		if int64(i) > failed.Load() {
			<-p.slots
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-p.slots; wg.Done() }()
			if err := f(i); err != nil {
				errs[i] = err
				for {
					cur := failed.Load()
					if int64(i) >= cur || failed.CompareAndSwap(cur, int64(i)) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctxErr
}
