package state

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/facesign/facesign/enclave"
)

// One log, several enclaves (docs/fleet.md).
//
// Any enclave may append. The store is the sequencer: a record is created
// only where none exists, so of several enclaves writing one sequence
// number one wins; the others get [enclave.ErrJournalBehind], catch up
// ([Journal.CatchUp]) and decide again. The rollback counter is the
// acknowledger: an appended record counts once the counter's [Head] — the
// number of records and the chain hash of the last — moved past it on
// this enclave's chain. Each move is conditional on the head before it, so
// the counter's history is one chain, and a parent that shows enclaves
// different logs (a fork) can get at most one branch acknowledged: an
// enclave on another branch finds the counter's hash off its chain and
// stops with [ErrForked].

// ErrForked reports a counter head that is not on the chain this enclave
// has read: the parent showed it a log other than the one the counter
// acknowledges. The enclave must stop (it wraps [enclave.ErrJournalCorrupt]).
var ErrForked = fmt.Errorf("%w: the rollback counter acknowledges another history (a forked log)", enclave.ErrJournalCorrupt)

// ErrNotAcked reports a snapshot asked for while the journal's view runs
// ahead of the rollback counter.
var ErrNotAcked = errors.New("state: view not acknowledged yet")

// maxUnacked bounds how many records the journal's view may run ahead of
// the counter it has verified (the chain hashes it keeps to check the
// counter against). An honest deployment stays far below it: every append
// moves the counter.
const maxUnacked = 1 << 20

var _ enclave.Follower = (*Journal)(nil)

// headAtLocked returns the chain hash after the first n records, if the
// journal still keeps it (n between the verified counter and next).
func (j *Journal) headAtLocked(n uint64) ([32]byte, bool) {
	if n < j.hashBase || n-j.hashBase >= uint64(len(j.hashes)) {
		return [32]byte{}, false
	}
	return j.hashes[n-j.hashBase], true
}

// resetHashesLocked starts the kept chain at the journal's head.
func (j *Journal) resetHashesLocked() {
	j.hashBase = j.next
	j.hashes = append(j.hashes[:0], j.head)
}

// pushHeadLocked records the new head after next moved by one.
func (j *Journal) pushHeadLocked() {
	j.hashes = append(j.hashes, j.head)
	if len(j.hashes) > maxUnacked {
		j.hashes = j.hashes[1:]
		j.hashBase++
	}
}

// setAckedLocked records a counter head verified on this chain and drops
// the hashes before it.
func (j *Journal) setAckedLocked(h Head) {
	j.acked = h
	j.seen = max(j.seen, h.N)
	if h.N > j.hashBase {
		drop := min(h.N-j.hashBase, uint64(len(j.hashes)))
		j.hashes = j.hashes[drop:]
		j.hashBase += drop
	}
}

// ackLocked makes the counter acknowledge the journal's view (j.next
// records ending in j.head). It returns nil once the counter's head is on
// this chain at or past next; an error wrapping
// [enclave.ErrJournalUnacked] when the counter could not be moved or read
// (the records stay durable: a later append acknowledges them); and
// [ErrForked] or [ErrRollback] when the counter acknowledges another
// history or went back.
func (j *Journal) ackLocked(ctx context.Context) error {
	counter := j.opts.Counter.(HeadCounter)
	for range 16 {
		if j.acked.N == j.next {
			return nil
		}
		want := Head{N: j.next, Hash: j.head}
		err := counter.AdvanceHead(ctx, j.acked, want)
		if err == nil {
			j.setAckedLocked(want)
			return nil
		}
		if !errors.Is(err, ErrCounterConflict) {
			return fmt.Errorf("%w: moving the rollback counter to %d: %w", enclave.ErrJournalUnacked, j.next, err)
		}
		cur, err := counter.LoadHead(ctx)
		if err != nil {
			return fmt.Errorf("%w: reading the rollback counter: %w", enclave.ErrJournalUnacked, err)
		}
		j.seen = max(j.seen, cur.N)
		switch {
		case cur.N < j.acked.N:
			return fmt.Errorf("%w: %w: the counter went back from %d to %d", enclave.ErrJournalCorrupt, ErrRollback, j.acked.N, cur.N)
		case cur.N <= j.next:
			// Another writer moved it, not yet past this view: check it is
			// on this chain and try again from there.
			h, ok := j.headAtLocked(cur.N)
			if !ok {
				return fmt.Errorf("%w: counter at %d, no chain hash kept there", enclave.ErrJournalUnacked, cur.N)
			}
			if cur.Bound() && h != cur.Hash {
				return fmt.Errorf("%w (at record %d)", ErrForked, cur.N)
			}
			if !cur.Bound() && cur == j.acked {
				// Unbound and unchanged: the conflict was not about n.
				return fmt.Errorf("%w: the counter refused %d → %d", enclave.ErrJournalUnacked, cur.N, j.next)
			}
			j.acked = cur // bound: verified; unbound: advanced without a hash by an older writer
			if cur.Bound() {
				j.setAckedLocked(cur)
			}
		default:
			// Others acknowledged records after this view: this view's
			// records are acknowledged if the counter's chain runs
			// through them.
			return j.verifyCoveredLocked(ctx, cur)
		}
	}
	return fmt.Errorf("%w: the rollback counter kept moving", enclave.ErrJournalUnacked)
}

// verifyCoveredLocked checks that cur, a counter head past the journal's
// view, extends this view: it hashes the records from next up to cur.N
// onto the journal's head and compares. The records are not applied (the
// next catch-up does that).
func (j *Journal) verifyCoveredLocked(ctx context.Context, cur Head) error {
	if !cur.Bound() {
		return fmt.Errorf("%w: counter at %d binds no chain hash: the records before it cannot be checked (%w)",
			enclave.ErrJournalUnacked, cur.N, ErrCounterConflict)
	}
	h := j.head
	next := j.next
	err := j.opts.Log.Read(ctx, j.next, func(seq uint64, rec []byte) error {
		if seq != next {
			return fmt.Errorf("%w: record %d where %d was expected", ErrCorrupt, seq, next)
		}
		h = sha256.Sum256(append(h[:], rec...))
		next++
		if next == cur.N {
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
	case errors.Is(err, ErrCorrupt):
		return err
	case err != nil:
		return fmt.Errorf("%w: reading the records the counter acknowledged: %w", enclave.ErrJournalUnacked, err)
	default:
		return fmt.Errorf("%w: the counter acknowledged %d records, the log holds %d", enclave.ErrJournalUnacked, cur.N, next)
	}
	if h != cur.Hash {
		return fmt.Errorf("%w (at record %d)", ErrForked, cur.N)
	}
	return nil
}

// CatchUp implements [enclave.Follower]: it reads the records after the
// journal's view, checks each as Replay does (sequence, seal, chain, that
// it fits the live state), applies it, and hands its entry to apply, in
// order. Entries' slices are apply's own. It returns the number of records
// read; an error wrapping [enclave.ErrJournalCorrupt] (a record that does
// not verify, or an apply that failed) means the enclave must stop, since
// its gallery may no longer match the journal; any other error (the store,
// ctx) leaves both consistent at the last record applied.
func (j *Journal) CatchUp(ctx context.Context, apply func(enclave.Entry) error) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ready {
		return 0, ErrNotReplayed
	}
	return j.catchUpLocked(ctx, apply)
}

func (j *Journal) catchUpLocked(ctx context.Context, apply func(enclave.Entry) error) (int, error) {
	n := 0
	var plain []byte
	defer func() { clear(plain) }()
	err := j.opts.Log.Read(ctx, j.next, func(seq uint64, rec []byte) error {
		if seq != j.next {
			return fmt.Errorf("%w: %w: record %d where %d was expected (gap, reorder or duplicate)", enclave.ErrJournalCorrupt, ErrCorrupt, seq, j.next)
		}
		var e enclave.Entry
		var err error
		e, plain, err = j.openRecord(seq, rec, j.head, plain)
		if err != nil {
			return fmt.Errorf("%w: %w", enclave.ErrJournalCorrupt, err)
		}
		if err := j.applyLive(e); err != nil {
			return fmt.Errorf("%w: %w: record %d: %v", enclave.ErrJournalCorrupt, ErrCorrupt, seq, err)
		}
		j.head = sha256.Sum256(append(j.head[:], rec...))
		j.next++
		j.pushHeadLocked()
		n++
		if err := apply(j.withEntropy(e)); err != nil {
			return fmt.Errorf("%w: applying record %d: %w", enclave.ErrJournalCorrupt, seq, err)
		}
		return nil
	})
	if n > 0 {
		j.log.Info("caught up", "records", n, "next", j.next)
	}
	return n, err
}

// Position implements [enclave.Follower]: next is the number of records
// the journal has applied, acked the highest counter value it has seen
// (which may run ahead of next while other enclaves write).
func (j *Journal) Position() (next, acked uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.next, max(j.seen, j.acked.N)
}

// Poll reads the rollback counter (without holding the journal while it
// does) and reports how many acknowledged records the journal has not
// applied yet: a follower catches up when it is positive. A counter head
// within the journal's view is checked against its chain (and then counts
// as acknowledged): a head off the chain is [ErrForked], a counter below
// what was acknowledged before is [ErrRollback].
func (j *Journal) Poll(ctx context.Context) (behind uint64, err error) {
	// The read runs without the journal, so appends may move the counter
	// meanwhile: only a value below what was acknowledged before the read
	// began shows the counter went back.
	j.mu.Lock()
	before := j.acked.N
	j.mu.Unlock()
	h, err := j.opts.Counter.(HeadCounter).LoadHead(ctx)
	if err != nil {
		return 0, fmt.Errorf("state: reading the rollback counter: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seen = max(j.seen, h.N)
	switch {
	case h.N < before:
		return 0, fmt.Errorf("%w: %w: the counter went back from %d to %d", enclave.ErrJournalCorrupt, ErrRollback, before, h.N)
	case h.N < j.acked.N:
		return 0, nil // an append moved it after the read
	case h.N > j.next:
		return h.N - j.next, nil
	case h.Bound():
		mine, ok := j.headAtLocked(h.N)
		if ok && mine != h.Hash {
			return 0, fmt.Errorf("%w (at record %d)", ErrForked, h.N)
		}
		if ok {
			j.setAckedLocked(h)
		}
	}
	return 0, nil
}
