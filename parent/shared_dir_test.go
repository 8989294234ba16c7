package parent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/facesign/facesign/parent"
)

// TestDirStoreShared: several stores opened on one directory (the parents
// of a simulator fleet, each its own process) race to create the same
// sequence numbers: each number ends with exactly one record, every writer
// but its winner gets ErrConflict, and a winner's retry is idempotent.
func TestDirStoreShared(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const writers, seqs = 4, 40
	stores := make([]*parent.DirStore, writers)
	for i := range stores {
		s, err := parent.OpenDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	wins := make([][]bool, writers)
	var wg sync.WaitGroup
	for w, s := range stores {
		wins[w] = make([]bool, seqs)
		wg.Go(func() {
			for seq := range uint64(seqs) {
				rec := []byte(fmt.Sprintf("writer %d record %d", w, seq))
				err := s.Put(ctx, seq, rec)
				switch {
				case err == nil:
					wins[w][seq] = true
					if err := s.Put(ctx, seq, rec); err != nil {
						t.Errorf("idempotent retry: %v", err)
					}
				case !errors.Is(err, parent.ErrConflict):
					t.Errorf("writer %d seq %d: %v", w, seq, err)
				}
			}
		})
	}
	wg.Wait()
	got := map[uint64]string{}
	if err := stores[0].Scan(ctx, 0, func(seq uint64, rec []byte) error { got[seq] = string(rec); return nil }); err != nil {
		t.Fatal(err)
	}
	for seq := range uint64(seqs) {
		n := 0
		for w := range writers {
			if wins[w][seq] {
				n++
				if got[seq] != fmt.Sprintf("writer %d record %d", w, seq) {
					t.Fatalf("seq %d holds %q, its winner was %d", seq, got[seq], w)
				}
			}
		}
		if n != 1 {
			t.Fatalf("seq %d: %d winners", seq, n)
		}
	}
}

// TestDirStoreTempsOfLiveWriters: opening a shared directory removes the
// temporary files of writers that are gone, never those of a live one.
func TestDirStoreTempsOfLiveWriters(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, ".tmp-"+strconv.Itoa(os.Getpid())+"-123")
	dead := filepath.Join(dir, ".tmp-2147483646-456") // no such process
	legacy := filepath.Join(dir, ".tmp-789")          // before writer ids
	for _, f := range []string{live, dead, legacy} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := parent.OpenDirStore(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("a live writer's temporary file was removed: %v", err)
	}
	for _, f := range []string{dead, legacy} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s survived: %v", filepath.Base(f), err)
		}
	}
}
