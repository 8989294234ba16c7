// Package storetest is the conformance suite every implementation of
// [parent.Store] and [parent.SnapshotStore] must pass. The enclave relies on
// exactly these properties of the parent's storage — durability once
// acknowledged, idempotent retries, conflicts that change nothing, ordered
// scans — so a new backend is ready when it passes [Run] and
// [RunSnapshots].
//
// # Using it
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) parent.Store {
//			backing := newEmptyBacking(t)
//			return storetest.WithReopen(open(backing), func(t *testing.T) parent.Store {
//				return open(backing) // a second handle on the same data
//			})
//		})
//	}
//
// Each call of newStore must return an empty store on storage of its own.
// The durability test needs a second handle on the same storage: wrap the
// store with [WithReopen]; a store without one fails that test (it is not
// skipped). Snapshot stores must be configured with [SnapshotLimit] as their
// size limit and keep at least two snapshots.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/wire"
)

// A Reopener opens a second handle on the storage behind a store, as a
// restarted parent would.
type Reopener interface {
	Reopen(t *testing.T) parent.Store
}

// A SnapshotReopener is the [Reopener] of a snapshot store.
type SnapshotReopener interface {
	ReopenSnapshots(t *testing.T) parent.SnapshotStore
}

type reopenable struct {
	parent.Store
	reopen func(t *testing.T) parent.Store
}

func (r reopenable) Reopen(t *testing.T) parent.Store { return r.reopen(t) }

// WithReopen attaches reopen to s for the durability test.
func WithReopen(s parent.Store, reopen func(t *testing.T) parent.Store) parent.Store {
	return reopenable{Store: s, reopen: reopen}
}

type snapReopenable struct {
	parent.SnapshotStore
	reopen func(t *testing.T) parent.SnapshotStore
}

func (r snapReopenable) ReopenSnapshots(t *testing.T) parent.SnapshotStore { return r.reopen(t) }

// WithSnapshotReopen attaches reopen to s for the durability test.
func WithSnapshotReopen(s parent.SnapshotStore, reopen func(t *testing.T) parent.SnapshotStore) parent.SnapshotStore {
	return snapReopenable{SnapshotStore: s, reopen: reopen}
}

// record makes a deterministic pseudo-random record of n bytes for seq.
func record(seq uint64, n int, salt string) []byte {
	out := make([]byte, n)
	_, _ = rand.NewChaCha8(sha256.Sum256(fmt.Appendf(nil, "%s/%d", salt, seq))).Read(out)
	return out
}

func scan(t *testing.T, s parent.Store, from uint64) ([]uint64, map[uint64][]byte) {
	t.Helper()
	var seqs []uint64
	recs := map[uint64][]byte{}
	err := s.Scan(context.Background(), from, func(seq uint64, rec []byte) error {
		seqs = append(seqs, seq)
		recs[seq] = bytes.Clone(rec)
		return nil
	})
	if err != nil {
		t.Fatalf("scan from %d: %v", from, err)
	}
	return seqs, recs
}

func put(t *testing.T, s parent.Store, seq uint64, rec []byte) {
	t.Helper()
	if err := s.Put(context.Background(), seq, rec); err != nil {
		t.Fatalf("put %d: %v", seq, err)
	}
}

// Run checks that stores made by newStore behave like a [parent.Store].
func Run(t *testing.T, newStore func(t *testing.T) parent.Store) {
	ctx := context.Background()

	t.Run("empty", func(t *testing.T) {
		s := newStore(t)
		if seqs, _ := scan(t, s, 0); len(seqs) != 0 {
			t.Fatalf("a new store holds %v", seqs)
		}
	})

	t.Run("scan order and from offsets", func(t *testing.T) {
		s := newStore(t)
		stored := []uint64{0, 1, 2, 3, 5, 8, 9, 10, 11, 99, 100, 1000, 1 << 40, math.MaxUint64}
		order := slices.Clone(stored)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, seq := range order {
			put(t, s, seq, record(seq, 100, "order"))
		}
		for _, tc := range []struct {
			from uint64
			want []uint64
		}{
			{0, stored},
			{1, stored[1:]},
			{4, stored[4:]},
			{5, stored[4:]},
			{12, stored[9:]},
			{1000, stored[11:]},
			{1<<40 + 1, stored[13:]},
			{math.MaxUint64, stored[13:]},
		} {
			t.Run(fmt.Sprint("from ", tc.from), func(t *testing.T) {
				seqs, recs := scan(t, s, tc.from)
				if !slices.Equal(seqs, tc.want) {
					t.Fatalf("scan from %d = %v, want %v", tc.from, seqs, tc.want)
				}
				for _, seq := range seqs {
					if !bytes.Equal(recs[seq], record(seq, 100, "order")) {
						t.Fatalf("record %d came back different", seq)
					}
				}
			})
		}
	})

	t.Run("scan stops at the callback's error", func(t *testing.T) {
		s := newStore(t)
		for seq := range uint64(5) {
			put(t, s, seq, record(seq, 10, "stop"))
		}
		stop := errors.New("enough")
		var seen []uint64
		err := s.Scan(ctx, 0, func(seq uint64, _ []byte) error {
			seen = append(seen, seq)
			if seq == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !slices.Equal(seen, []uint64{0, 1, 2}) {
			t.Fatalf("scan returned %v after %v, want the callback's error after [0 1 2]", err, seen)
		}
	})

	t.Run("idempotent retry", func(t *testing.T) {
		s := newStore(t)
		for seq := range uint64(4) {
			put(t, s, seq, record(seq, 64, "retry"))
		}
		for range 3 {
			put(t, s, 2, record(2, 64, "retry"))
		}
		seqs, recs := scan(t, s, 0)
		if !slices.Equal(seqs, []uint64{0, 1, 2, 3}) || !bytes.Equal(recs[2], record(2, 64, "retry")) {
			t.Fatalf("after retries: %v", seqs)
		}
	})

	t.Run("conflict changes nothing", func(t *testing.T) {
		s := newStore(t)
		orig := record(7, 64, "conflict")
		put(t, s, 7, orig)
		for name, rec := range map[string][]byte{
			"other bytes":  record(7, 64, "other"),
			"one bit":      flip(orig, 100),
			"prefix":       orig[:63],
			"extension":    append(bytes.Clone(orig), 0),
			"empty":        {},
			"nil":          nil,
			"other length": record(7, 65, "conflict"),
		} {
			t.Run(name, func(t *testing.T) {
				if err := s.Put(ctx, 7, rec); !errors.Is(err, parent.ErrConflict) {
					t.Fatalf("put %s over a stored record: %v, want ErrConflict", name, err)
				}
				seqs, recs := scan(t, s, 0)
				if !slices.Equal(seqs, []uint64{7}) || !bytes.Equal(recs[7], orig) {
					t.Fatal("a conflicting put changed the store")
				}
			})
		}
	})

	t.Run("the store keeps its own copy", func(t *testing.T) {
		s := newStore(t)
		rec := record(1, 64, "copy")
		put(t, s, 1, rec)
		rec[0] ^= 0xff
		if _, recs := scan(t, s, 0); !bytes.Equal(recs[1], record(1, 64, "copy")) {
			t.Fatal("changing the caller's slice after Put changed the stored record")
		}
	})

	t.Run("large records", func(t *testing.T) {
		s := newStore(t)
		sizes := []int{0, 1, 4095, 4096, 64 << 10, wire.MaxRecordSize}
		for i, n := range sizes {
			put(t, s, uint64(i), record(uint64(i), n, "large"))
		}
		seqs, recs := scan(t, s, 0)
		if len(seqs) != len(sizes) {
			t.Fatalf("stored %d records, scanned %d", len(sizes), len(seqs))
		}
		for i, n := range sizes {
			if !bytes.Equal(recs[uint64(i)], record(uint64(i), n, "large")) {
				t.Fatalf("record of %d bytes came back as %d bytes", n, len(recs[uint64(i)]))
			}
		}
	})

	t.Run("cancelled context stores nothing", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, 0, record(0, 10, "cancel")); !errors.Is(err, context.Canceled) {
			t.Fatalf("put with a cancelled context: %v, want context.Canceled", err)
		}
		if seqs, _ := scan(t, s, 0); len(seqs) != 0 {
			t.Fatalf("a cancelled put stored %v", seqs)
		}
		put(t, s, 0, record(0, 10, "other")) // and the seq is still free
	})

	t.Run("concurrent puts", func(t *testing.T) {
		s := newStore(t)
		const writers, each = 8, 12
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					seq := uint64(i*writers + w)
					if err := s.Put(ctx, seq, record(seq, 200, "concurrent")); err != nil {
						errs <- fmt.Errorf("put %d: %w", seq, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		seqs, recs := scan(t, s, 0)
		if len(seqs) != writers*each {
			t.Fatalf("stored %d records concurrently, scanned %d", writers*each, len(seqs))
		}
		for i, seq := range seqs {
			if seq != uint64(i) || !bytes.Equal(recs[seq], record(seq, 200, "concurrent")) {
				t.Fatalf("record %d wrong after concurrent puts", i)
			}
		}
	})

	t.Run("concurrent conflicting puts: one wins", func(t *testing.T) {
		s := newStore(t)
		const writers = 6
		var wg sync.WaitGroup
		results := make([]error, writers)
		for w := range writers {
			wg.Go(func() { results[w] = s.Put(ctx, 42, record(42, 128, fmt.Sprint("writer ", w))) })
		}
		wg.Wait()
		winner := -1
		for w, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("writers %d and %d both succeeded with different bytes", winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, parent.ErrConflict):
				t.Fatalf("writer %d: %v, want nil or ErrConflict", w, err)
			}
		}
		if winner < 0 {
			t.Fatal("no writer succeeded")
		}
		if _, recs := scan(t, s, 0); !bytes.Equal(recs[42], record(42, 128, fmt.Sprint("writer ", winner))) {
			t.Fatal("the stored record is not the winner's")
		}
	})

	t.Run("durable across reopen", func(t *testing.T) {
		s := newStore(t)
		r, ok := s.(Reopener)
		if !ok {
			t.Fatalf("%T does not implement storetest.Reopener: wrap it with storetest.WithReopen", s)
		}
		for seq := range uint64(20) {
			put(t, s, seq, record(seq, 300, "durable"))
		}
		s2 := r.Reopen(t)
		seqs, recs := scan(t, s2, 0)
		if len(seqs) != 20 {
			t.Fatalf("after reopen: %d records, want 20", len(seqs))
		}
		for _, seq := range seqs {
			if !bytes.Equal(recs[seq], record(seq, 300, "durable")) {
				t.Fatalf("record %d changed across reopen", seq)
			}
		}
		// The reopened store still knows what it holds.
		put(t, s2, 5, record(5, 300, "durable"))
		if err := s2.Put(ctx, 5, record(5, 300, "changed")); !errors.Is(err, parent.ErrConflict) {
			t.Fatalf("conflict after reopen: %v", err)
		}
		put(t, s2, 20, record(20, 300, "durable"))
	})
}

func flip(b []byte, bit int) []byte {
	c := bytes.Clone(b)
	c[bit/8] ^= 1 << (bit % 8)
	return c
}

// SnapshotLimit is the size limit [RunSnapshots] expects the stores under
// test to be configured with.
const SnapshotLimit = 8 << 20

func latest(t *testing.T, s parent.SnapshotStore) (uint64, []byte) {
	t.Helper()
	seq, rc, err := s.LatestSnapshot(context.Background())
	if err != nil {
		t.Fatalf("latest snapshot: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading snapshot %d: %v", seq, err)
	}
	if int64(len(b)) != rc.Size() {
		t.Fatalf("snapshot %d: Size %d but %d bytes", seq, rc.Size(), len(b))
	}
	return seq, b
}

func putSnap(t *testing.T, s parent.SnapshotStore, seq uint64, b []byte) {
	t.Helper()
	if err := s.PutSnapshot(context.Background(), seq, bytes.NewReader(b)); err != nil {
		t.Fatalf("put snapshot %d: %v", seq, err)
	}
}

func wantLatest(t *testing.T, s parent.SnapshotStore, seq uint64, b []byte) {
	t.Helper()
	got, gb := latest(t, s)
	if got != seq || !bytes.Equal(gb, b) {
		t.Fatalf("latest = %d (%d bytes), want %d (%d bytes)", got, len(gb), seq, len(b))
	}
}

// RunSnapshots checks that stores made by newStore behave like a
// [parent.SnapshotStore] configured with [SnapshotLimit].
func RunSnapshots(t *testing.T, newStore func(t *testing.T) parent.SnapshotStore) {
	ctx := context.Background()

	t.Run("none", func(t *testing.T) {
		s := newStore(t)
		if _, _, err := s.LatestSnapshot(ctx); !errors.Is(err, parent.ErrNoSnapshot) {
			t.Fatalf("latest of an empty store: %v, want ErrNoSnapshot", err)
		}
	})

	t.Run("latest is the highest seq", func(t *testing.T) {
		s := newStore(t)
		putSnap(t, s, 5, record(5, 1000, "snap"))
		wantLatest(t, s, 5, record(5, 1000, "snap"))
		putSnap(t, s, 3, record(3, 1000, "snap")) // older, arriving late
		wantLatest(t, s, 5, record(5, 1000, "snap"))
		putSnap(t, s, 9, record(9, 10, "snap"))
		wantLatest(t, s, 9, record(9, 10, "snap"))
		putSnap(t, s, math.MaxUint64, nil)
		wantLatest(t, s, math.MaxUint64, nil)
	})

	t.Run("same seq replaces", func(t *testing.T) {
		s := newStore(t)
		putSnap(t, s, 4, record(4, 500, "first"))
		putSnap(t, s, 4, record(4, 700, "second"))
		wantLatest(t, s, 4, record(4, 700, "second"))
	})

	t.Run("large streamed snapshot", func(t *testing.T) {
		s := newStore(t)
		big := record(12, 6<<20+12345, "big")
		// A reader that hands out odd-sized pieces, like a network stream.
		if err := s.PutSnapshot(ctx, 12, iotest.HalfReader(bytes.NewReader(big))); err != nil {
			t.Fatal(err)
		}
		wantLatest(t, s, 12, big)
	})

	t.Run("bad input changes nothing", func(t *testing.T) {
		s := newStore(t)
		good := record(2, 2000, "good")
		putSnap(t, s, 2, good)
		boom := errors.New("connection reset")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			seq  uint64
			r    io.Reader
			want error
		}{
			{"seq 0", ctx, 0, bytes.NewReader(record(0, 10, "x")), parent.ErrSnapshotSeq},
			{"failing reader", ctx, 7, io.MultiReader(bytes.NewReader(record(7, 1<<20, "x")), iotest.ErrReader(boom)), boom},
			{"over the limit", ctx, 8, bytes.NewReader(record(8, SnapshotLimit+1, "x")), parent.ErrSnapshotTooLarge},
			{"cancelled", cctx, 9, bytes.NewReader(record(9, 10, "x")), context.Canceled},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.PutSnapshot(tc.ctx, tc.seq, tc.r); !errors.Is(err, tc.want) {
					t.Fatalf("put: %v, want %v", err, tc.want)
				}
				wantLatest(t, s, 2, good)
			})
		}
		if err := s.PutSnapshot(ctx, 3, bytes.NewReader(record(3, SnapshotLimit, "x"))); err != nil {
			t.Fatalf("a snapshot of exactly the limit: %v", err)
		}
	})

	t.Run("keeps at least the latest two", func(t *testing.T) {
		s := newStore(t)
		for seq := uint64(1); seq <= 6; seq++ {
			putSnap(t, s, seq*10, record(seq, 100, "keep"))
		}
		wantLatest(t, s, 60, record(6, 100, "keep"))
	})

	t.Run("readers see whole snapshots during puts", func(t *testing.T) {
		s := newStore(t)
		versions := map[string]bool{}
		var payloads [][]byte
		for v := range 6 {
			b := record(uint64(v), 256<<10+v, "version")
			payloads = append(payloads, b)
			versions[string(b)] = true
		}
		putSnap(t, s, 1, payloads[0])
		var wg sync.WaitGroup
		wg.Go(func() {
			for v := 1; v < len(payloads); v++ {
				if err := s.PutSnapshot(ctx, uint64(1+v/2), bytes.NewReader(payloads[v])); err != nil {
					t.Error(err)
				}
			}
		})
		for range 20 {
			_, b := latest(t, s)
			if !versions[string(b)] {
				t.Fatalf("a reader saw a snapshot of %d bytes that was never written whole", len(b))
			}
		}
		wg.Wait()
	})

	t.Run("durable across reopen", func(t *testing.T) {
		s := newStore(t)
		r, ok := s.(SnapshotReopener)
		if !ok {
			t.Fatalf("%T does not implement storetest.SnapshotReopener: wrap it with storetest.WithSnapshotReopen", s)
		}
		putSnap(t, s, 100, record(100, 3000, "durable"))
		s2 := r.ReopenSnapshots(t)
		wantLatest(t, s2, 100, record(100, 3000, "durable"))
	})
}
