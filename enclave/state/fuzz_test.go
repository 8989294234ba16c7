package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
)

// fuzzEnv is a log of 10 identities and 4 templates, a snapshot at 15,
// then a delete and one more template: built once.
func fuzzEnv(f *testing.F) (*env, []string) {
	f.Helper()
	e := newEnv()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		f.Fatal(err)
	}
	if err := j.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		f.Fatal(err)
	}
	entries := []enclave.Entry{}
	for i := range 10 {
		entries = append(entries, add(i))
	}
	entries = append(entries, tpl(2, 1, 21), tpl(2, 2, 22), tpl(4, 1, 41), tpl(7, 3, 73))
	for _, en := range entries {
		if err := j.Append(context.Background(), en); err != nil {
			f.Fatal(err)
		}
	}
	if err := j.Snapshot(context.Background()); err != nil {
		f.Fatal(err)
	}
	for _, en := range []enclave.Entry{del(4), tpl(2, 1, 211)} {
		if err := j.Append(context.Background(), en); err != nil {
			f.Fatal(err)
		}
	}
	var want []string
	for i := range 10 {
		if i != 4 {
			want = append(want, add(i).UniqueID+"/0")
		}
	}
	want = append(want, add(2).UniqueID+"/1", add(2).UniqueID+"/2", add(7).UniqueID+"/3")
	slices.Sort(want)
	return e, want
}

// fuzzSnapSeq is the sequence number of fuzzEnv's snapshot.
const fuzzSnapSeq = 15

// boot replays e with the given snapshot bytes at fuzzSnapSeq and log record
// override; a nil override keeps the log as it is.
func fuzzBoot(e *env, snap []byte, seq uint64, rec []byte) ([]string, error) {
	log := e.log.clone()
	if rec != nil {
		log.recs[seq] = rec
	}
	snaps := newTestSnaps()
	if snap != nil {
		snaps.snaps[fuzzSnapSeq] = snap
	}
	j, err := New(Options{Log: log, Snapshots: snaps, Keys: e.keys, Counter: &MemCounter{n: e.counter.n}, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		return nil, err
	}
	got := map[string]bool{}
	err = j.Replay(context.Background(), func(en enclave.Entry) error {
		got[fmt.Sprintf("%s/%d", en.UniqueID, en.Template)] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(got)), nil
}

// FuzzSnapshot feeds arbitrary snapshot streams to a boot: each is either
// the enclave's own snapshot (the same identities as the log says) or
// refused with a state error. Never a panic, never a different gallery.
func FuzzSnapshot(f *testing.F) {
	e, want := fuzzEnv(f)
	good := e.snaps.snaps[fuzzSnapSeq]
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(bytes.Clone(good), 0))
	f.Add([]byte(snapMagic))
	f.Add([]byte(snapMagic + "\x00\x00\x00\x02\xa0\x00"))
	f.Fuzz(func(t *testing.T, snap []byte) {
		got, err := fuzzBoot(e, snap, 0, nil)
		switch {
		case err == nil:
			if !slices.Equal(got, want) {
				t.Fatalf("a snapshot booted into %d identities and templates, want %d", len(got), len(want))
			}
		case !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrRollback):
			t.Fatalf("refused with an unexpected error class: %v", err)
		}
	})
}

// FuzzRecord replaces the header or one record with arbitrary bytes.
func FuzzRecord(f *testing.F) {
	e, want := fuzzEnv(f)
	for seq := range uint64(fuzzSnapSeq + 2) {
		if r, ok := e.log.recs[seq]; ok {
			f.Add(uint8(seq), r)
		}
	}
	f.Add(uint8(0), []byte{0xa0})
	f.Add(uint8(fuzzSnapSeq), []byte("short"))
	f.Fuzz(func(t *testing.T, seq uint8, rec []byte) {
		got, err := fuzzBoot(e, e.snaps.snaps[fuzzSnapSeq], uint64(seq%(fuzzSnapSeq+3)), rec)
		switch {
		case err == nil:
			if !slices.Equal(got, want) {
				t.Fatalf("a tampered log booted into %d identities and templates, want %d", len(got), len(want))
			}
		case !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrRollback) &&
			!errors.Is(err, kms.ErrUnwrap):
			t.Fatalf("refused with an unexpected error class: %v", err)
		}
	})
}
