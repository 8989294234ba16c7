package enclave

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/facesign/facesign/wire"
)

// Op is what one journal entry does to the gallery.
type Op string

const (
	// OpAdd enrols an identity.
	OpAdd Op = "add"
	// OpDelete removes an identity and its entropy.
	OpDelete Op = "delete"
	// OpNone changes nothing: the write every request makes when nothing
	// changed, so the parent sees one write per request whatever happened.
	OpNone Op = "none"
)

// Entry is one change to the gallery, as the journal stores it.
type Entry struct {
	Op       Op     `cbor:"op"`
	UniqueID string `cbor:"unique_id"`
	Entropy  []byte `cbor:"entropy"`
	Vector   []byte `cbor:"vector"` // little-endian float32
}

// A Journal is the enclave's durable, sealed record of gallery changes.
// Append returns only once the entry is durable (write-ahead: the enclave
// answers after it). Replay feeds every stored entry, in order, to apply.
//
// Both enclave binaries use enclave/state.Journal (hash-chained log,
// snapshots, KMS-wrapped data key, rollback counter; wired by
// enclave/stateboot). [SealedJournal], with a data key the caller keeps,
// remains for tests and for simulator runs without sealed state. A journal
// that also has ReplayShared(ctx, apply) is replayed through it at boot
// (see enclave/state).
type Journal interface {
	Append(ctx context.Context, e Entry) error
	Replay(ctx context.Context, apply func(Entry) error) error
}

var _ Journal = (*SealedJournal)(nil)

// A Log stores opaque sealed records by sequence number: the parent's
// storage, seen from the enclave. Nothing it returns is trusted.
type Log interface {
	// Put stores rec at seq and returns once it is durable. Storing the same
	// bytes twice is not an error; different bytes at a used seq is
	// [ErrLogConflict] and changes nothing (the store creates a record only
	// where none exists, which is what lets several enclaves share a log).
	Put(ctx context.Context, seq uint64, rec []byte) error
	// Read calls fn for each record with sequence ≥ from, in increasing order.
	Read(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error
}

// Journal errors.
var (
	// ErrJournalCorrupt reports a record that does not open, or a gap or
	// reorder in the sequence: the enclave stops rather than skip it.
	ErrJournalCorrupt = errors.New("enclave: journal corrupt")
	// ErrJournalWrite reports a write the parent did not acknowledge.
	ErrJournalWrite = errors.New("enclave: journal write not acknowledged")
	// ErrNotReplayed reports an append before Replay ran.
	ErrNotReplayed = errors.New("enclave: journal appended before replay")
)

const journalAAD = "facesign-journal-v1"

// SealedJournal seals each entry with AES-256-GCM under a data key that
// never leaves the enclave and stores it at the next sequence number. Every
// entry is padded to one size for the vector dimension, so records of all
// kinds (add, delete, none) are indistinguishable to the parent.
//
// The AAD binds the sequence number, so records cannot be moved; gaps and
// reorders are detected on replay. What it does NOT detect: the parent
// serving an older prefix of the log (rollback) or truncating its tail —
// that needs the hash chain and external counter of issue 6.
type SealedJournal struct {
	log   Log
	aead  cipher.AEAD
	rand  io.Reader
	size  int // padded plaintext size
	mu    sync.Mutex
	next  uint64
	ready bool
}

// NewSealedJournal makes a journal over log sealing with the 32-byte dataKey,
// nonces from rand, for vectors of dim dimensions.
func NewSealedJournal(log Log, dataKey []byte, rand io.Reader, dim int) (*SealedJournal, error) {
	if len(dataKey) != 32 {
		return nil, fmt.Errorf("enclave: data key must be 32 bytes, got %d", len(dataKey))
	}
	if dim <= 0 || dim > 4096 {
		return nil, fmt.Errorf("enclave: vector dimension %d out of range", dim)
	}
	b, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	// op (≤7) + uuid (36) + entropy (32) + vector (4·dim) + CBOR headers.
	size := 64 + 36 + 32 + 4*dim + 16
	return &SealedJournal{log: log, aead: a, rand: rand, size: size}, nil
}

// RecordSize is the size of every sealed record this journal writes.
func (j *SealedJournal) RecordSize() int { return j.aead.NonceSize() + j.size + j.aead.Overhead() }

func (j *SealedJournal) aad(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(journalAAD), seq)
}

// Append implements [Journal]. Appends are serialised; a failed write
// leaves the sequence number unused, so the next append retries it.
func (j *SealedJournal) Append(ctx context.Context, e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ready {
		return ErrNotReplayed
	}
	plain, err := wire.Marshal(e)
	if err != nil {
		return err
	}
	if len(plain) > j.size {
		return fmt.Errorf("enclave: journal entry of %d bytes exceeds %d", len(plain), j.size)
	}
	padded := make([]byte, j.size)
	copy(padded, plain)
	clear(plain)
	nonce := make([]byte, j.aead.NonceSize(), j.RecordSize())
	if _, err := io.ReadFull(j.rand, nonce); err != nil {
		return fmt.Errorf("enclave: journal nonce: %w", err)
	}
	rec := j.aead.Seal(nonce, nonce, padded, j.aad(j.next))
	clear(padded)
	if err := j.log.Put(ctx, j.next, rec); err != nil {
		if errors.Is(err, ErrLogConflict) { // another writer took it: see fleet.go
			return fmt.Errorf("%w: seq %d: %w", ErrJournalBehind, j.next, err)
		}
		return fmt.Errorf("%w: seq %d: %w", ErrJournalWrite, j.next, err)
	}
	j.next++
	return nil
}

// Replay implements [Journal]. It must run once, before the first Append.
func (j *SealedJournal) Replay(ctx context.Context, apply func(Entry) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	next := uint64(0)
	err := j.log.Read(ctx, 0, func(seq uint64, rec []byte) error {
		if seq != next {
			return fmt.Errorf("%w: record %d where %d was expected", ErrJournalCorrupt, seq, next)
		}
		e, err := j.open(seq, rec)
		if err != nil {
			return err
		}
		if err := apply(e); err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrJournalCorrupt, seq, err)
		}
		if next == math.MaxUint64 {
			return fmt.Errorf("%w: sequence overflow", ErrJournalCorrupt)
		}
		next++
		return nil
	})
	if err != nil {
		return err
	}
	j.next = next
	j.ready = true
	return nil
}

// MemLog is an in-memory [Log] for tests and tools. It records every Put so
// tests can look at exactly what the parent would see.
type MemLog struct {
	mu   sync.Mutex
	recs [][]byte
	puts int
	// Fail, when set, makes Put return it (a parent that does not acknowledge).
	Fail error
}

var _ Log = (*MemLog)(nil)

// Put implements [Log].
func (m *MemLog) Put(_ context.Context, seq uint64, rec []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	switch {
	case seq < uint64(len(m.recs)):
		if string(m.recs[seq]) != string(rec) {
			return fmt.Errorf("%w: memlog seq %d", ErrLogConflict, seq)
		}
	case seq == uint64(len(m.recs)):
		m.recs = append(m.recs, append([]byte(nil), rec...))
	default:
		return fmt.Errorf("memlog: seq %d leaves a gap after %d", seq, len(m.recs))
	}
	m.puts++
	return nil
}

// Read implements [Log].
func (m *MemLog) Read(_ context.Context, from uint64, fn func(uint64, []byte) error) error {
	m.mu.Lock()
	recs := append([][]byte(nil), m.recs...)
	m.mu.Unlock()
	for i := from; i < uint64(len(recs)); i++ {
		if err := fn(i, recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// Records returns copies of the stored records.
func (m *MemLog) Records() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, len(m.recs))
	for i, r := range m.recs {
		out[i] = append([]byte(nil), r...)
	}
	return out
}

// Puts is the number of acknowledged Put calls.
func (m *MemLog) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

// Set replaces the record at seq (tests: a parent that tampers).
func (m *MemLog) Set(seq int, rec []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[seq] = append([]byte(nil), rec...)
}
