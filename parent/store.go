package parent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// A Store keeps the enclave's sealed log records durably. Records are opaque
// to the parent: it cannot read them, and the enclave checks every byte it
// gets back (sequence, hash chain, seal), so a Store only has to be durable
// and honest about conflicts — it is trusted for availability, never for
// confidentiality or integrity.
type Store interface {
	// Put stores rec under seq and returns only once the record is durable
	// (on a directory: file and directory fsynced). Putting the same bytes
	// under the same seq again succeeds (an idempotent retry); different
	// bytes under an existing seq fail with [ErrConflict] and change nothing.
	Put(ctx context.Context, seq uint64, rec []byte) error
	// Scan calls fn for every stored record with sequence ≥ from, in
	// ascending order, stopping at the first error fn returns.
	Scan(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error
}

// ErrConflict reports a Put of different bytes under a sequence number that
// already holds a record.
var ErrConflict = errors.New("parent: log record exists with different content")

// ErrRecordTooLarge reports a record over the store's size limit.
var ErrRecordTooLarge = errors.New("parent: log record too large")

// DirStore is a [Store] on a local directory: one file per record named by
// its zero-padded sequence number. Writes go to a temporary file that is
// fsynced, hard-linked into place (never overwriting) and followed by an
// fsync of the directory, so an acknowledged record survives a crash. The
// hard link is the conditional create: it fails when the name exists, so
// several processes may share one directory (the simulator's fleet, where
// every parent writes the one log) and of two writers of one sequence
// number exactly one succeeds; the other gets [ErrConflict] (or nil, for
// the same bytes).
type DirStore struct {
	dir string
	mu  sync.Mutex // serialises Put so a conflict check and its link are atomic
}

var _ Store = (*DirStore)(nil)

const recordSuffix = ".rec"

// OpenDirStore opens (creating if needed, mode 0700) a directory store.
func OpenDirStore(dir string) (*DirStore, error) {
	if dir == "" {
		return nil, errors.New("parent: empty store directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("parent: open store: %w", err)
	}
	// Temporary files of an interrupted Put were never acknowledged; those
	// of another live parent sharing the directory are left alone.
	removeStaleTemps(dir, ".tmp-")
	return &DirStore{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *DirStore) Dir() string { return s.dir }

func (s *DirStore) name(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, recordSuffix))
}

// Put implements [Store].
func (s *DirStore) Put(ctx context.Context, seq uint64, rec []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	final := s.name(seq)
	if old, err := os.ReadFile(final); err == nil {
		if bytes.Equal(old, rec) {
			return nil
		}
		return fmt.Errorf("%w (seq %d)", ErrConflict, seq)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("parent: store put: %w", err)
	}
	f, err := os.CreateTemp(s.dir, tempPattern(".tmp-"))
	if err != nil {
		return fmt.Errorf("parent: store put: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful link this only drops the second name
	if _, err := f.Write(rec); err != nil {
		f.Close()
		return fmt.Errorf("parent: store put: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("parent: store put: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("parent: store put: %w", err)
	}
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Another process sharing the directory created it first.
			return s.compare(final, seq, rec)
		}
		return fmt.Errorf("parent: store put: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("parent: store put: fsync directory: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Scan implements [Store].
func (s *DirStore) Scan(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error {
	entries, err := os.ReadDir(s.dir) // sorted by name = by sequence (zero-padded)
	if err != nil {
		return fmt.Errorf("parent: store scan: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		num, ok := strings.CutSuffix(name, recordSuffix)
		if !ok || len(num) != 20 {
			continue
		}
		seq, err := strconv.ParseUint(num, 10, 64)
		if err != nil || seq < from {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return fmt.Errorf("parent: store scan: %w", err)
		}
		if err := fn(seq, rec); err != nil {
			return err
		}
	}
	return nil
}

// compare settles a Put that found seq taken: the same bytes are an
// idempotent retry, anything else a conflict.
func (s *DirStore) compare(final string, seq uint64, rec []byte) error {
	old, err := os.ReadFile(final)
	if err != nil {
		return fmt.Errorf("parent: store put: %w", err)
	}
	if !bytes.Equal(old, rec) {
		return fmt.Errorf("%w (seq %d)", ErrConflict, seq)
	}
	return nil
}
