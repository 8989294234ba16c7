package state

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/wire"
)

var (
	// ErrCorrupt reports a log that does not verify: a record that does not
	// open, a broken hash chain, a gap, a reorder, a duplicate, a header
	// that does not match. The enclave must stop.
	ErrCorrupt = errors.New("state: log corrupt")
	// ErrSnapshot reports a snapshot that does not open or does not match
	// the log. The enclave must stop.
	ErrSnapshot = errors.New("state: snapshot corrupt")
	// ErrRollback reports a log shorter than the rollback counter: the
	// parent served an older (or no) state.
	ErrRollback = errors.New("state: rollback detected")
	// ErrWrite reports a write the parent did not acknowledge; nothing was
	// answered, and the same sequence number is used again.
	ErrWrite = errors.New("state: write not acknowledged")
	// ErrNotReplayed reports an Append before Replay.
	ErrNotReplayed = errors.New("state: append before replay")
	// ErrOptions reports an incomplete configuration.
	ErrOptions = errors.New("state: invalid options")
	// ErrEngine reports a log whose vectors this enclave's engine does not
	// make (another engine, and no migration to this one).
	ErrEngine = errors.New("state: the log is not of this enclave's engine")
)

// Format names the log format in every header.
const Format = "facesign-state-v1"

// SnapshotStore keeps sealed snapshots for the enclave (the parent's
// storage, seen from inside). Nothing it returns is trusted.
type SnapshotStore interface {
	// PutSnapshot stores the snapshot covering records [0, seq) and returns
	// once it is durable.
	PutSnapshot(ctx context.Context, seq uint64, r io.Reader) error
	// LatestSnapshot opens the snapshot with the highest seq, or returns
	// [ErrNoSnapshot].
	LatestSnapshot(ctx context.Context) (seq uint64, r io.ReadCloser, err error)
}

// ErrNoSnapshot is returned by a [SnapshotStore] that holds none.
var ErrNoSnapshot = errors.New("state: no snapshot")

// Options configures a [Journal].
type Options struct {
	Log       enclave.Log    // the record log (required)
	Snapshots SnapshotStore  // where snapshots go; nil disables them
	Keys      kms.KeyService // wraps and unwraps the data key (required)
	Counter   Counter        // the rollback counter (required)
	Rand      io.Reader      // nonces and the log id (required)
	Dim       int            // vector dimension of this enclave's engine (required)
	// Engine names this enclave's engine; a new log records it in its
	// header, and an engine migration (migration.go) changes it.
	Engine string
	// SnapshotEvery is the number of records between snapshots (default
	// 10000). Snapshots run in the background after an Append.
	SnapshotEvery int
	Logger        *slog.Logger
}

// header is record 0, in the clear.
type header struct {
	Format     string `cbor:"format"`
	LogID      []byte `cbor:"log_id"`
	WrappedKey []byte `cbor:"wrapped_key"`
	Dim        int    `cbor:"dim"`
	EntrySize  int    `cbor:"entry_size"`
	// Engine names the engine the log was made for (absent in logs made
	// before it was recorded).
	Engine string `cbor:"engine,omitempty"`
}

// Journal is the sealed, hash-chained, snapshotted log of gallery changes.
// It implements enclave.Journal.
type Journal struct {
	opts      Options
	entrySize int
	log       *slog.Logger

	mu         sync.Mutex
	ready      bool
	aead       cipher.AEAD
	logID      []byte
	next       uint64   // next sequence number = records in the log
	head       [32]byte // chain hash of record next-1
	live       *liveSet[[16]byte]
	tpl        *liveSet[tplKey] // the identities' further templates, under the log's current engine
	engine     string           // the log's current engine ("" in logs made before engines were recorded)
	dim        int              // its vector dimension
	mig        *migration       // an engine migration in progress (migration.go)
	headerHash [32]byte         // SHA-256 of record 0
	dropped    int              // identities the last completed migration dropped
	lastSnap   uint64
	snapping   bool
	snapWG     sync.WaitGroup

	// Several writers (fleet.go): the counter head verified on this chain,
	// the highest counter value seen, and the chain hashes from the
	// verified head to next (hashes[i] is the head after hashBase+i records).
	acked    Head
	seen     uint64
	hashBase uint64
	hashes   [][32]byte
}

var _ enclave.Journal = (*Journal)(nil)

// New checks opts and returns a journal; call Replay before Append.
func New(opts Options) (*Journal, error) {
	switch {
	case opts.Log == nil, opts.Keys == nil, opts.Counter == nil, opts.Rand == nil:
		return nil, fmt.Errorf("%w: log, keys, counter and randomness are required", ErrOptions)
	}
	if _, ok := opts.Counter.(HeadCounter); !ok {
		return nil, fmt.Errorf("%w: the counter must bind the log head (state.HeadCounter)", ErrOptions)
	}
	switch {
	case opts.Dim <= 0 || opts.Dim > 4096:
		return nil, fmt.Errorf("%w: dimension %d", ErrOptions, opts.Dim)
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = 10000
	}
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Journal{opts: opts, entrySize: 128 + 4*opts.Dim, log: l, live: newLiveSet(opts.Dim), tpl: newTemplateSet(opts.Dim), engine: opts.Engine, dim: opts.Dim}, nil
}

func (j *Journal) recordSize() int { return 12 + 32 + j.entrySize + 16 }

// recordAAD is the additional data of record seq: the format, the log's
// id and the sequence number.
func (j *Journal) recordAAD(seq uint64) []byte {
	return j.appendRecordAAD(make([]byte, 0, len(Format)+len("/record")+len(j.logID)+8), seq)
}

func (j *Journal) appendRecordAAD(b []byte, seq uint64) []byte {
	b = append(append(append(b, Format...), "/record"...), j.logID...)
	return binary.BigEndian.AppendUint64(b, seq)
}

// errStop ends a Log.Read early.
var errStop = errors.New("stop")

// Replay implements enclave.Journal: it loads the latest snapshot, replays
// the log after it, checks the rollback counter and feeds every live entry
// to apply, in slot order. Each entry's slices are apply's own. On an empty
// log it makes the data key and writes the header. On an error nothing is
// kept: the journal is as New left it.
func (j *Journal) Replay(ctx context.Context, apply func(enclave.Entry) error) error {
	return j.replayRetry(ctx, apply, false)
}

// errHeaderRace reports that another enclave wrote the header of an empty
// log first; boot reads that log instead.
var errHeaderRace = errors.New("state: another enclave created the log")

// replayRetry is replay, once more if another enclave created the log
// between this one finding it empty and writing its own header.
func (j *Journal) replayRetry(ctx context.Context, apply func(enclave.Entry) error, shared bool) error {
	err := j.replay(ctx, apply, shared)
	if errors.Is(err, errHeaderRace) {
		j.log.Info("another enclave created the log; booting on it")
		err = j.replay(ctx, apply, shared)
	}
	return err
}

// ReplayShared is [Journal.Replay] for an apply that copies what it keeps:
// every entry's Entropy and Vector alias one scratch buffer that the next
// entry overwrites (apply may still clear or modify them; the journal's
// own copy is not touched). The UniqueID strings are apply's to keep. It
// saves boot one short-lived copy of the whole gallery.
func (j *Journal) ReplayShared(ctx context.Context, apply func(enclave.Entry) error) error {
	return j.replayRetry(ctx, apply, true)
}

func (j *Journal) replay(ctx context.Context, apply func(enclave.Entry) error, shared bool) (err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ready {
		return fmt.Errorf("%w: replay ran already", ErrOptions)
	}
	defer func() {
		if err != nil { // a refused replay keeps nothing
			j.aead, j.logID, j.next, j.head = nil, nil, 0, [32]byte{}
			j.live, j.tpl = newLiveSet(j.opts.Dim), newTemplateSet(j.opts.Dim)
			j.engine, j.dim, j.mig, j.dropped, j.entrySize = j.opts.Engine, j.opts.Dim, nil, 0, 128+4*j.opts.Dim
			j.acked, j.seen, j.hashBase, j.hashes = Head{}, 0, 0, nil
		}
	}()
	start := time.Now()
	ctr, err := j.opts.Counter.(HeadCounter).LoadHead(ctx)
	if err != nil {
		return fmt.Errorf("state: reading the rollback counter: %w", err)
	}
	counter := ctr.N
	// The chain hash after ctr.N records, seen on the way (header,
	// snapshot head, or a replayed record), checked against a bound head.
	var atCounter *[32]byte
	var tail [][32]byte // the heads after atCounter
	seeHead := func() {
		switch {
		case j.next == counter && atCounter == nil:
			h := j.head
			atCounter = &h
		case j.next > counter && atCounter != nil:
			tail = append(tail, j.head)
		}
	}
	var hdrRec []byte
	err = j.opts.Log.Read(ctx, 0, func(seq uint64, rec []byte) error {
		if seq != 0 {
			return fmt.Errorf("%w: the log starts at record %d, not at its header", ErrCorrupt, seq)
		}
		hdrRec = rec
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if hdrRec == nil {
		if counter != 0 {
			return fmt.Errorf("%w: the log is empty but %d records were acknowledged", ErrRollback, counter)
		}
		return j.create(ctx)
	}
	if err := j.openHeader(ctx, hdrRec); err != nil {
		return err
	}
	j.next, j.head = 1, sha256.Sum256(hdrRec)
	j.headerHash = j.head
	seeHead()

	snapshot := false
	if j.opts.Snapshots != nil {
		if snapshot, err = j.loadSnapshot(ctx); err != nil {
			return err
		}
	}
	// After a snapshot covering [0, next), read from record next-1: it must
	// hash to the snapshot's head, so a snapshot cannot stand for another
	// history. One pass over the log does the check and the replay.
	if snapshot && j.next > counter {
		// Snapshots are taken only of acknowledged views (fleet.go), so
		// the counter has reached every snapshot's head.
		return fmt.Errorf("%w: a snapshot covers %d records but the counter acknowledged %d", ErrRollback, j.next, counter)
	}
	seeHead()
	from := j.next
	if snapshot {
		from--
	}
	checked := !snapshot
	n := 0
	h := sha256.New()
	var plain []byte // one buffer for every record
	err = j.opts.Log.Read(ctx, from, func(seq uint64, rec []byte) error {
		if !checked {
			if seq != from {
				return fmt.Errorf("%w: record %d where %d was expected", ErrCorrupt, seq, from)
			}
			checked = true
			return j.checkSnapshotHead(seq, rec)
		}
		if seq != j.next {
			return fmt.Errorf("%w: record %d where %d was expected (gap, reorder or duplicate)", ErrCorrupt, seq, j.next)
		}
		var e enclave.Entry
		var err error
		e, plain, err = j.openRecord(seq, rec, j.head, plain)
		if err != nil {
			return err
		}
		if err := j.applyLive(e); err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrCorrupt, seq, err)
		}
		h.Reset()
		h.Write(j.head[:])
		h.Write(rec)
		h.Sum(j.head[:0])
		j.next++
		seeHead()
		n++
		if n%100000 == 0 {
			j.log.Info("replaying log", "records", n)
		}
		return nil
	})
	clear(plain)
	if err != nil {
		return err
	}
	if !checked {
		return fmt.Errorf("%w: the snapshot covers %d records but the log is shorter", ErrRollback, j.next)
	}
	if j.next < counter {
		return fmt.Errorf("%w: the log holds %d records but %d were acknowledged", ErrRollback, j.next, counter)
	}
	if ctr.Bound() && (atCounter == nil || *atCounter != ctr.Hash) {
		return fmt.Errorf("%w: the log is not the history the counter acknowledged at record %d", ErrRollback, counter)
	}
	j.acked, j.seen = ctr, counter
	j.hashBase, j.hashes = j.next, [][32]byte{j.head}
	if atCounter != nil {
		// From the counter's head on, so ackLocked can check heads other
		// writers set in between.
		j.hashBase, j.hashes = counter, append([][32]byte{*atCounter}, tail...)
	}
	if j.next > counter {
		// Records became durable but their writer stopped before moving
		// the counter: they were never answered; acknowledge them now. If
		// the counter cannot be moved (other enclaves are writing, or it
		// is unreachable), the next append does it.
		if err := j.ackLocked(ctx); err != nil && !errors.Is(err, enclave.ErrJournalUnacked) {
			return fmt.Errorf("state: moving the rollback counter: %w", err)
		} else if err != nil {
			j.log.Warn("rollback counter not moved at boot; the next append moves it", "error", err)
		}
	}
	if j.opts.Dim != j.dim && (j.mig == nil || j.mig.dim != j.opts.Dim) {
		return fmt.Errorf("%w: the log holds %d-dimensional vectors (engine %q), this enclave's engine makes %d", ErrEngine, j.dim, j.engine, j.opts.Dim)
	}
	if err := j.feedMigrationStart(apply); err != nil {
		return err
	}
	if err := j.feed(apply, shared); err != nil {
		return err
	}
	if err := j.feedMigration(apply); err != nil {
		return err
	}
	j.lastSnap = j.next
	j.ready = true
	j.log.Info("state loaded", "identities", j.live.len(), "templates", j.tpl.len(), "records", j.next, "replayed", n, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// feedBatch is how many entries share one allocation in [Journal.feed].
const feedBatch = 256

// feed hands every live entry to apply: every identity (OpAdd), in slot
// order, then every further template (OpAddTemplate), in slot order, so
// each template comes after its identity. Entries are staged feedBatch at
// a time: their ids share one string and, unless shared, their entropy and
// vectors one allocation (each slice capped to its own bytes); when
// shared, one scratch buffer serves every batch.
func (j *Journal) feed(apply func(enclave.Entry) error, shared bool) error {
	err := feedSet(j.live, shared, func(id string, b []byte) enclave.Entry {
		return enclave.Entry{Op: enclave.OpAdd, UniqueID: id, Entropy: b[:entropySize:entropySize], Vector: b[entropySize:]}
	}, apply)
	if err != nil {
		return err
	}
	return feedSet(j.tpl, shared, func(id string, b []byte) enclave.Entry {
		return enclave.Entry{Op: enclave.OpAddTemplate, UniqueID: id, Template: int(b[0]), Vector: b[1:]}
	}, apply)
}

// feedSet hands every live slot of s to apply as the entry mk makes of its
// id text and the slot's bytes after the 16-byte id.
func feedSet[K comparable](s *liveSet[K], shared bool, mk func(id string, b []byte) enclave.Entry, apply func(enclave.Entry) error) error {
	const idText = 36
	payload := s.stride - idSize
	var (
		arena []byte
		text  = make([]byte, 0, feedBatch*idText)
		k     int
	)
	if shared {
		arena = make([]byte, feedBatch*payload)
		defer clear(arena)
	}
	flush := func() error {
		if k == 0 {
			return nil
		}
		ids := string(text)
		for i := range k {
			p := arena[i*payload : (i+1)*payload : (i+1)*payload]
			if err := apply(mk(ids[i*idText:(i+1)*idText], p)); err != nil {
				return err
			}
		}
		if shared {
			clear(arena[:k*payload])
		} else {
			arena = nil
		}
		text, k = text[:0], 0
		return nil
	}
	err := s.each(func(b []byte) error {
		if arena == nil {
			arena = make([]byte, feedBatch*payload)
		}
		text = appendUUID(text, b[:idSize])
		copy(arena[k*payload:], b[idSize:])
		if k++; k == feedBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// appendUUID appends the canonical text form of the 16-byte id.
func appendUUID(dst, id []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

func (j *Journal) create(ctx context.Context) error {
	logID := make([]byte, 16)
	if _, err := io.ReadFull(j.opts.Rand, logID); err != nil {
		return err
	}
	key, wrapped, err := j.opts.Keys.GenerateDataKey(ctx)
	if err != nil {
		return fmt.Errorf("state: making the data key: %w", err)
	}
	h := header{Format: Format, LogID: logID, WrappedKey: wrapped, Dim: j.opts.Dim, EntrySize: j.entrySize, Engine: j.opts.Engine}
	rec, err := wire.Marshal(h)
	if err != nil {
		return err
	}
	if err := j.useKey(key, logID); err != nil {
		return err
	}
	if err := j.opts.Log.Put(ctx, 0, rec); err != nil {
		if errors.Is(err, enclave.ErrLogConflict) {
			// Another enclave created the log first: boot on its header.
			return fmt.Errorf("%w: header: %w", errHeaderRace, err)
		}
		return fmt.Errorf("%w: header: %w", ErrWrite, err)
	}
	j.next, j.head = 1, sha256.Sum256(rec)
	j.headerHash = j.head
	if err := j.opts.Counter.(HeadCounter).AdvanceHead(ctx, Head{}, Head{N: 1, Hash: j.head}); err != nil {
		return fmt.Errorf("state: moving the rollback counter: %w", err)
	}
	j.acked, j.seen = Head{N: 1, Hash: j.head}, 1
	j.resetHashesLocked()
	j.lastSnap = 1
	j.ready = true
	j.log.Info("state created", "dim", j.opts.Dim)
	return nil
}

func (j *Journal) openHeader(ctx context.Context, rec []byte) error {
	var h header
	if err := wire.Unmarshal(rec, &h); err != nil {
		return fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	switch {
	case h.Format != Format:
		return fmt.Errorf("%w: header format %q", ErrCorrupt, h.Format)
	case len(h.LogID) != 16:
		return fmt.Errorf("%w: header log id", ErrCorrupt)
	case h.Dim <= 0 || h.Dim > maxDim || h.EntrySize < 128+4*h.Dim || h.EntrySize > migrationOverhead+4*maxDim:
		return fmt.Errorf("%w: header dimension %d, entry size %d", ErrCorrupt, h.Dim, h.EntrySize)
	}
	// The log's engine and record size; whether this enclave's engine can
	// serve it is checked once replay knows about migrations.
	j.dim, j.entrySize, j.engine = h.Dim, h.EntrySize, h.Engine
	j.live, j.tpl = newLiveSet(h.Dim), newTemplateSet(h.Dim)
	key, err := j.opts.Keys.Decrypt(ctx, h.WrappedKey)
	if errors.Is(err, kms.ErrDenied) {
		return fmt.Errorf("state: unwrapping the data key: %w", err)
	}
	if err != nil {
		return fmt.Errorf("%w: the header's data key does not unwrap: %w", ErrCorrupt, err)
	}
	return j.useKey(key, h.LogID)
}

func (j *Journal) useKey(key, logID []byte) error {
	defer clear(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return err
	}
	j.aead, j.logID = a, logID
	return nil
}

// openRecord opens record seq, checks that it follows prev, and decodes
// it; buf is scratch for the plaintext (grown if needed and returned).
func (j *Journal) openRecord(seq uint64, rec []byte, prev [32]byte, buf []byte) (enclave.Entry, []byte, error) {
	if len(rec) != j.recordSize() {
		return enclave.Entry{}, buf, fmt.Errorf("%w: record %d is %d bytes, want %d", ErrCorrupt, seq, len(rec), j.recordSize())
	}
	var aad [64]byte
	plain, err := j.aead.Open(buf[:0], rec[:12], rec[12:], j.appendRecordAAD(aad[:0], seq))
	if err != nil {
		return enclave.Entry{}, buf, fmt.Errorf("%w: record %d does not open (tampered, moved, or sealed under another key)", ErrCorrupt, seq)
	}
	defer clear(plain)
	if string(plain[:32]) != string(prev[:]) {
		return enclave.Entry{}, plain, fmt.Errorf("%w: record %d does not follow record %d (hash chain broken)", ErrCorrupt, seq, seq-1)
	}
	var e enclave.Entry
	if err := wire.UnmarshalPadded(plain[32:], &e); err != nil {
		return enclave.Entry{}, plain, fmt.Errorf("%w: record %d: %v", ErrCorrupt, seq, err)
	}
	return e, plain, nil
}

func (j *Journal) applyLive(e enclave.Entry) error { return j.applyEntry(e) }

func (j *Journal) sealEntry(e enclave.Entry) ([]byte, error) {
	plain, err := wire.Marshal(e)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	if len(plain) > j.entrySize {
		return nil, fmt.Errorf("state: entry of %d bytes exceeds %d", len(plain), j.entrySize)
	}
	out := make([]byte, j.entrySize)
	copy(out, plain)
	return out, nil
}

// Append implements enclave.Journal: it seals e as the next record, waits
// for the parent's durable acknowledgement and moves the rollback counter.
// With other writers on the log (fleet.go) it may also return
// [enclave.ErrJournalBehind] (another enclave took the sequence number;
// nothing changed: catch up and decide again) or
// [enclave.ErrJournalUnacked] (the record is durable and applied, but the
// counter could not be moved: do not answer with it). An error wrapping
// [enclave.ErrJournalCorrupt] ([ErrForked]) or [ErrRollback] means the
// enclave must stop.
func (j *Journal) Append(ctx context.Context, e enclave.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ready {
		return ErrNotReplayed
	}
	if err := j.checkEntry(e); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	body, err := j.sealEntry(e)
	if err != nil {
		return err
	}
	plain := append(append(make([]byte, 0, 32+len(body)), j.head[:]...), body...)
	clear(body)
	nonce := make([]byte, 12, j.recordSize())
	if _, err := io.ReadFull(j.opts.Rand, nonce); err != nil {
		return err
	}
	seq := j.next
	rec := j.aead.Seal(nonce, nonce, plain, j.recordAAD(seq))
	clear(plain)
	if err := j.opts.Log.Put(ctx, seq, rec); err != nil {
		if errors.Is(err, enclave.ErrLogConflict) {
			// Another enclave wrote seq first (fleet.go): nothing changed.
			return fmt.Errorf("%w: record %d: %w", enclave.ErrJournalBehind, seq, err)
		}
		return fmt.Errorf("%w: record %d: %w", ErrWrite, seq, err)
	}
	// Durable: the record is part of the log whatever happens next.
	_ = j.applyLive(e) // checked above
	j.head = sha256.Sum256(append(j.head[:], rec...))
	j.next = seq + 1
	j.pushHeadLocked()
	if err := j.ackLocked(ctx); err != nil {
		return err
	}
	// Snapshots only of acknowledged views: the counter has reached every
	// snapshot's head, which boot relies on.
	if j.opts.Snapshots != nil && j.opts.SnapshotEvery > 0 && !j.snapping && j.acked.N == j.next && j.next-j.lastSnap >= uint64(j.opts.SnapshotEvery) {
		j.startSnapshotLocked()
	}
	return nil
}

// Len reports the number of live identities and of log records.
func (j *Journal) Len() (identities int, records uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.live.len(), j.next
}

// Templates reports the number of further templates kept (beyond each
// identity's enrolment vector).
func (j *Journal) Templates() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.tpl.len()
}

// Close waits for a background snapshot to finish.
func (j *Journal) Close() { j.snapWG.Wait() }
