package enclave

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/facesign/facesign/wire"
)

// One gallery, several enclaves (docs/fleet.md).
//
// Several enclaves may share one log. Each appends optimistically at the
// sequence number after the last record it has seen; the store creates a
// record only where none exists (S3 If-None-Match: *, a hard link on a
// directory), so of two enclaves racing for one number exactly one wins.
// The loser's write changed nothing: it reads the records it missed
// ([Follower.CatchUp]), applies them to its gallery, decides the request
// again on the gallery as it now is, and appends at the next number.
//
// Every face request writes one record, logins included. A request is
// therefore answered only after its record took the sequence number right
// after every record its decision saw: a login answered after a delete was
// acknowledged sees that delete (the delete's number was taken, so the
// login's write at or below it failed and the login caught up). The
// staleness of any answer is zero records; docs/fleet.md states the bound
// and what it rests on.

// Errors of journals that share a log.
var (
	// ErrLogConflict reports a [Log.Put] at a sequence number that holds a
	// different record: another writer took it. Nothing was written.
	ErrLogConflict = errors.New("enclave: log record exists with other content")
	// ErrJournalBehind reports an append that lost its sequence number to
	// another writer: nothing was written and the journal is unchanged.
	// Catch up ([Follower.CatchUp]) and decide again.
	ErrJournalBehind = errors.New("enclave: journal behind the shared log")
	// ErrJournalUnacked reports an entry that is durable in the log (it is
	// part of the state from now on: apply it) but whose acknowledgement
	// could not be completed (the rollback counter did not move). The
	// request must not be answered with it; a retry finds it applied.
	ErrJournalUnacked = errors.New("enclave: journal entry durable but not acknowledged")
)

// A Follower is a [Journal] over a log that other writers append to too.
// CatchUp reads the records after the journal's view, checks them as
// Replay does, and feeds each entry to apply in log order; it returns how
// many records it read. Entries' slices are apply's own. An error other
// than a context or store error (a record that does not verify, an entry
// that does not fit the gallery) means the enclave must stop serving.
//
// Position reports the journal's view: next is the number of records it
// has applied (the next sequence number it would write); acked is the
// number of records known to be acknowledged (covered by the rollback
// counter), which may be ahead of next when other writers moved on.
type Follower interface {
	Journal
	CatchUp(ctx context.Context, apply func(Entry) error) (int, error)
	Position() (next, acked uint64)
}

var _ Follower = (*SealedJournal)(nil)

// CatchUp implements [Follower]: it reads and opens the records after the
// journal's view, in order. SealedJournal has no hash chain and no counter:
// see it for what it does not detect.
func (j *SealedJournal) CatchUp(ctx context.Context, apply func(Entry) error) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ready {
		return 0, ErrNotReplayed
	}
	n := 0
	err := j.log.Read(ctx, j.next, func(seq uint64, rec []byte) error {
		if seq != j.next {
			return fmt.Errorf("%w: record %d where %d was expected", ErrJournalCorrupt, seq, j.next)
		}
		e, err := j.open(seq, rec)
		if err != nil {
			return err
		}
		if err := apply(e); err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrJournalCorrupt, seq, err)
		}
		if j.next == math.MaxUint64 {
			return fmt.Errorf("%w: sequence overflow", ErrJournalCorrupt)
		}
		j.next++
		n++
		return nil
	})
	return n, err
}

// Position implements [Follower]: without a counter, every record the
// journal has seen counts as acknowledged.
func (j *SealedJournal) Position() (next, acked uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.next, j.next
}

// open checks and decodes record seq.
func (j *SealedJournal) open(seq uint64, rec []byte) (Entry, error) {
	if len(rec) != j.RecordSize() {
		return Entry{}, fmt.Errorf("%w: record %d is %d bytes, want %d", ErrJournalCorrupt, seq, len(rec), j.RecordSize())
	}
	ns := j.aead.NonceSize()
	plain, err := j.aead.Open(nil, rec[:ns], rec[ns:], j.aad(seq))
	if err != nil {
		return Entry{}, fmt.Errorf("%w: record %d does not open", ErrJournalCorrupt, seq)
	}
	var e Entry
	err = wire.UnmarshalPadded(plain, &e)
	clear(plain)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: record %d: %v", ErrJournalCorrupt, seq, err)
	}
	return e, nil
}
