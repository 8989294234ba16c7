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
	"github.com/google/uuid"
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
	// OpAddTemplate keeps a further vector (template) of an enrolled
	// identity at position Template (1 … [MaxTemplates]−1), replacing the
	// template kept there, if any. Position 0 is the enrolment vector,
	// which only OpAdd sets and only OpDelete removes. OpDelete removes
	// every template of the identity.
	OpAddTemplate Op = "add_template"
)

// MaxTemplates bounds the vectors one identity keeps (its enrolment
// vector and up to MaxTemplates−1 templates): a bound of the journal
// format. The policy's K (wire.Policy.MaxTemplates) is at most this.
const MaxTemplates = 8

// Entry is one change to the gallery, as the journal stores it.
type Entry struct {
	Op       Op     `cbor:"op"`
	UniqueID string `cbor:"unique_id"`
	Entropy  []byte `cbor:"entropy"`
	Vector   []byte `cbor:"vector"` // little-endian float32
	// Template is the position an OpAddTemplate writes (1 … MaxTemplates−1);
	// 0 and absent from the encoding for every other op.
	Template int `cbor:"template,omitempty"`
	// Engine names the face engine Vector belongs to when it is not the
	// log's current engine (an engine migration, migration.go); OpMigrate
	// and OpMigrateEnd name the engine they start or complete. Empty (and
	// absent from the encoding) otherwise.
	Engine string `cbor:"engine,omitempty"`
	// Dim is the vector dimension of the engine an OpMigrate starts.
	Dim int `cbor:"dim,omitempty"`
}

// ErrBadEntry reports a journal entry of the wrong shape: an unknown op, a
// unique ID that is not a UUID, entropy or a vector of the wrong length, a
// template position out of range, or fields an op does not carry.
var ErrBadEntry = errors.New("enclave: malformed journal entry")

// maxEntryDim bounds the dimension an [OpMigrate] may name.
const maxEntryDim = 4096

// CheckEntry checks the shape of e as the log stores it, for vectors of dim
// dimensions — the dimension of the engine e's vector belongs to: the
// log's current engine, or for an entry naming Engine (during a migration,
// migration.go) the migration's. It does not check whether e fits the
// gallery (an add of an enrolled identity has the right shape). Unique IDs
// must be in canonical UUID text form. The error wraps [ErrBadEntry].
func CheckEntry(e Entry, dim int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadEntry, e.Op, fmt.Sprintf(format, args...))
	}
	switch e.Op {
	case OpNone:
		if e.UniqueID != "" || len(e.Entropy) != 0 || len(e.Vector) != 0 || e.Template != 0 || e.Engine != "" || e.Dim != 0 {
			return bad("carries data")
		}
		return nil
	case OpMigrate:
		switch {
		case e.UniqueID != "" || len(e.Entropy) != 0 || len(e.Vector) != 0 || e.Template != 0:
			return bad("carries data")
		case e.Engine == "":
			return bad("names no engine")
		case e.Dim <= 0 || e.Dim > maxEntryDim:
			return bad("dimension %d outside 1…%d", e.Dim, maxEntryDim)
		}
		return nil
	case OpMigrateEnd:
		switch {
		case e.UniqueID != "" || len(e.Entropy) != 0 || len(e.Vector) != 0 || e.Template != 0 || e.Dim != 0:
			return bad("carries data")
		case e.Engine == "":
			return bad("names no engine")
		}
		return nil
	}
	if !canonicalUUID(e.UniqueID) {
		return bad("unique id is not a canonical UUID")
	}
	if e.Dim != 0 {
		return bad("carries a dimension")
	}
	switch e.Op {
	case OpAdd:
		switch {
		case len(e.Entropy) != 32:
			return bad("entropy of %d bytes", len(e.Entropy))
		case len(e.Vector) != 4*dim:
			return bad("vector of %d bytes, want %d", len(e.Vector), 4*dim)
		case e.Template != 0:
			return bad("template position %d", e.Template)
		}
	case OpAddTemplate:
		switch {
		case len(e.Entropy) != 0:
			return bad("carries entropy")
		case e.Engine != "":
			return bad("names engine %q (templates are kept under the log's current engine only)", e.Engine)
		case len(e.Vector) != 4*dim:
			return bad("vector of %d bytes, want %d", len(e.Vector), 4*dim)
		case e.Template < 1 || e.Template >= MaxTemplates:
			return bad("template position %d outside 1…%d", e.Template, MaxTemplates-1)
		}
	case OpEngineVector:
		switch {
		case len(e.Entropy) != 0:
			return bad("carries entropy")
		case e.Engine == "":
			return bad("names no engine")
		case len(e.Vector) != 4*dim:
			return bad("vector of %d bytes, want %d", len(e.Vector), 4*dim)
		case e.Template != 0:
			return bad("template position %d", e.Template)
		}
	case OpDelete:
		if len(e.Entropy) != 0 || len(e.Vector) != 0 || e.Template != 0 || e.Engine != "" {
			return bad("carries data")
		}
	default:
		return fmt.Errorf("%w: unknown op %q", ErrBadEntry, e.Op)
	}
	return nil
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

// canonicalUUID reports whether s is a UUID in its canonical text form
// (36 characters, lower-case hex, hyphens at 8, 13, 18 and 23), the only
// form the journal stores, so that the text round-trips through 16 bytes.
// parseUniqueID parses e's unique ID. The gallery keeps unique IDs as 16
// bytes and answers them in canonical form (lowercase, hyphenated), so an
// ID in any other form would come back changed: it is refused as
// [ErrBadEntry].
func parseUniqueID(e Entry) (uuid.UUID, error) {
	if !canonicalUUID(e.UniqueID) {
		return uuid.UUID{}, fmt.Errorf("%w: %s: unique id is not a canonical UUID", ErrBadEntry, e.Op)
	}
	u, err := uuid.Parse(e.UniqueID)
	if err != nil || u.String() != e.UniqueID {
		return uuid.UUID{}, fmt.Errorf("%w: %s: unique id is not a canonical UUID", ErrBadEntry, e.Op)
	}
	return u, nil
}

func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	if _, err := uuid.Parse(s); err != nil {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}
