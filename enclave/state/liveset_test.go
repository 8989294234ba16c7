package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/wire"
)

// refSet is the plain twin of [liveSet]: a map of id → entry bytes.
type refSet map[[16]byte][]byte

func testID(i int) [16]byte {
	var id [16]byte
	binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
	id[6], id[8] = 0x40, 0x80|id[8]&0x3f
	return id
}

func testPayload(i, stride int) (entropy, vector []byte) {
	b := make([]byte, stride-idSize)
	for k := range b {
		b[k] = byte(i*7 + k)
	}
	return b[:entropySize], b[entropySize:]
}

// contents lists the set's live entries in slot order.
func contents[K comparable](s *liveSet[K]) [][]byte {
	var out [][]byte
	_ = s.each(func(b []byte) error { out = append(out, bytes.Clone(b)); return nil })
	return out
}

func sorted(entries [][]byte) [][]byte {
	out := slices.Clone(entries)
	slices.SortFunc(out, bytes.Compare)
	return out
}

func (r refSet) entries() [][]byte {
	var out [][]byte
	for _, b := range r {
		out = append(out, b)
	}
	return sorted(out)
}

// drain reads a view out through fill with a small buffer.
func drain(v *view, per int) [][]byte {
	var out [][]byte
	buf := make([]byte, per*v.stride)
	for {
		n := v.fill(buf)
		for k := range n {
			out = append(out, bytes.Clone(buf[k*v.stride:(k+1)*v.stride]))
		}
		if n < per {
			return out
		}
	}
}

// TestLiveSetMatchesReference runs random adds and deletes across several
// pages against the plain map, with copy-on-write views taken on the way:
// each view must read exactly the state at its capture, however the set
// changed after.
func TestLiveSetMatchesReference(t *testing.T) {
	const dim = 2
	s := newLiveSet(dim)
	ref := refSet{}
	rng := mrand.New(mrand.NewPCG(1, 2))
	type pending struct {
		v    *view
		want [][]byte
	}
	var views []pending
	next := 0
	for step := range 14000 {
		switch r := rng.IntN(1000); {
		case r < 820 || len(ref) == 0:
			id := testID(next)
			ent, vec := testPayload(next, s.stride)
			next++
			if err := s.add(id, ent, vec); err != nil {
				t.Fatal(err)
			}
			ref[id] = slices.Concat(id[:], ent, vec)
		case r < 996:
			for id := range ref { // a random-ish victim
				if err := s.remove(id); err != nil {
					t.Fatal(err)
				}
				delete(ref, id)
				break
			}
		case r < 998:
			views = append(views, pending{s.capture(), ref.entries()})
		default:
			if len(views) > 0 {
				p := views[0]
				views = views[1:]
				got := drain(p.v, 1000)
				if !slices.EqualFunc(sorted(got), p.want, bytes.Equal) || len(got) != p.v.count {
					t.Fatalf("step %d: a view read %d entries, want the %d at its capture", step, len(got), len(p.want))
				}
				s.release(p.v)
			}
		}
	}
	if got := contents(s); !slices.EqualFunc(sorted(got), ref.entries(), bytes.Equal) || s.len() != len(ref) {
		t.Fatalf("set holds %d entries, reference %d", len(got), len(ref))
	}
	if len(s.pages) < 3 {
		t.Fatalf("test covered %d pages only", len(s.pages))
	}
	for _, p := range views {
		s.release(p.v)
	}
	if s.views != 0 || len(s.orphaned) != 0 || slices.Contains(s.shared, true) {
		t.Fatal("released views left copy-on-write state behind")
	}
}

func TestLiveSetRefuses(t *testing.T) {
	s := newLiveSet(2)
	ent, vec := testPayload(1, s.stride)
	if err := s.add(testID(1), ent, vec); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"twice", s.add(testID(1), ent, vec)},
		{"short entropy", s.add(testID(2), ent[:31], vec)},
		{"long vector", s.add(testID(3), ent, append(vec, 0))},
		{"delete unknown", s.remove(testID(4))},
	} {
		if c.err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if s.len() != 1 || len(contents(s)) != 1 {
		t.Fatalf("refused changes changed the set: %d", s.len())
	}
}

// TestReleasedViewWipesOrphans: pages replaced while a snapshot read them
// hold entropy of identities deleted since; they are wiped when the last
// view goes.
func TestReleasedViewWipesOrphans(t *testing.T) {
	s := newLiveSet(2)
	ent, vec := testPayload(9, s.stride)
	if err := s.add(testID(9), ent, vec); err != nil {
		t.Fatal(err)
	}
	v1, v2 := s.capture(), s.capture()
	old := v1.pages[0]
	if err := s.remove(testID(9)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, ent) {
		t.Fatal("the view lost its copy before it was released")
	}
	s.release(v1)
	if !bytes.Contains(old, ent) {
		t.Fatal("an orphan was wiped while another view could read it")
	}
	s.release(v2)
	if bytes.Contains(old, ent) {
		t.Fatal("the deleted identity's entropy survived in a replaced page")
	}
}

// TestLargeSnapshotRoundTrip spans several chunks with holes from deletes,
// and boots through both replay forms.
func TestLargeSnapshotRoundTrip(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*chunkEntries + 100
	for i := range n {
		appendAll(t, j, add(i))
	}
	for i := 0; i < n; i += 97 {
		appendAll(t, j, del(i))
	}
	want := map[string]enclave.Entry{}
	for i := range n {
		if i%97 != 0 {
			want[add(i).UniqueID] = add(i)
		}
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(n), del(1))
	want[add(n).UniqueID] = add(n)
	delete(want, add(1).UniqueID)

	check := func(t *testing.T, got map[string]enclave.Entry) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d identities, want %d", len(got), len(want))
		}
		for id, w := range want {
			g, ok := got[id]
			if !ok || !bytes.Equal(g.Entropy, w.Entropy) || !bytes.Equal(g.Vector, w.Vector) || g.Op != enclave.OpAdd {
				t.Fatalf("identity %s: got %+v", id, g)
			}
		}
	}
	t.Run("Replay", func(t *testing.T) {
		_, got, err := e.open(t)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got)
	})
	t.Run("ReplayShared", func(t *testing.T) {
		j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]enclave.Entry{}
		err = j.ReplayShared(context.Background(), func(e enclave.Entry) error {
			got[e.UniqueID] = enclave.Entry{Op: e.Op, UniqueID: e.UniqueID, Entropy: bytes.Clone(e.Entropy), Vector: bytes.Clone(e.Vector)}
			clear(e.Entropy) // what the enclave does; must not reach the journal
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, got)
		if err := j.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, again, err := e.open(t)
		if err != nil {
			t.Fatal(err)
		}
		check(t, again)
	})
}

// TestSnapshotWhileAppending: a snapshot is the state at its capture even
// when appends and deletes run while it is written.
func TestSnapshotWhileAppending(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	for i := range chunkEntries + 50 {
		appendAll(t, j, add(i))
	}
	j.mu.Lock()
	next, head, v := j.captureLocked()
	j.mu.Unlock()
	for i := range 200 { // touches the first and the last page
		appendAll(t, j, del(i), add(100000+i))
	}
	if err := j.writeSnapshot(context.Background(), next, head, v); err != nil {
		t.Fatal(err)
	}
	// Boot from that snapshot alone: drop the log after it.
	for s := next; s < next+400; s++ {
		delete(e.log.recs, s)
	}
	e.counter.n = next
	_, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != chunkEntries+50 {
		t.Fatalf("%d identities, want %d", len(got), chunkEntries+50)
	}
	for i := range chunkEntries + 50 {
		if g := got[add(i).UniqueID]; !bytes.Equal(g.Entropy, add(i).Entropy) || !bytes.Equal(g.Vector, add(i).Vector) {
			t.Fatalf("identity %d changed in the snapshot", i)
		}
	}
}

// TestRefusedReplayKeepsNothing: after a refused boot the journal is as
// New left it, and a second Replay on a repaired log works.
func TestRefusedReplayKeepsNothing(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		appendAll(t, j, add(i))
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(10))
	good := bytes.Clone(e.log.recs[11])
	e.log.recs[11][30] ^= 1
	j2, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := j2.Replay(context.Background(), func(enclave.Entry) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replay: %v, want ErrCorrupt", err)
	}
	if ids, recs := j2.Len(); ids != 0 || recs != 0 {
		t.Fatalf("a refused replay kept %d identities, %d records", ids, recs)
	}
	if err := j2.Append(context.Background(), add(99)); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("append after a refused replay: %v", err)
	}
	e.log.recs[11] = good
	n := 0
	if err := j2.Replay(context.Background(), func(enclave.Entry) error { n++; return nil }); err != nil || n != 11 {
		t.Fatalf("replay of the repaired log: %d identities, %v", n, err)
	}
}

// TestSnapshotHeaderCountIsChecked: a parent that inflates the header's
// count (to make the enclave size its index for billions) is refused
// before anything is sized from it: the header's hash is in every chunk.
func TestSnapshotHeaderCountIsChecked(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1), add(2))
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := e.snaps.snaps[3]
	hlen := int(binary.BigEndian.Uint32(snap[8:12]))
	var h snapHeader
	if err := wire.Unmarshal(snap[12:12+hlen], &h); err != nil {
		t.Fatal(err)
	}
	h.Count = 1 << 40
	hb, err := wire.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	forged := binary.BigEndian.AppendUint32([]byte(snapMagic), uint32(len(hb)))
	forged = append(append(forged, hb...), snap[12+hlen:]...)
	e.snaps.snaps[3] = forged
	if _, _, err := e.open(t); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("replay: %v, want ErrSnapshot", err)
	}
}

func ExampleJournal_ReplayShared() {
	e := newEnv()
	opts := Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim}
	first, _ := New(opts)
	_ = first.Replay(context.Background(), func(enclave.Entry) error { return nil })
	_ = first.Append(context.Background(), add(1))
	_ = first.Snapshot(context.Background())

	boot, _ := New(opts) // the next start of the enclave
	_ = boot.ReplayShared(context.Background(), func(e enclave.Entry) error {
		// Copy what you keep: Entropy and Vector are reused for the next entry.
		fmt.Println(e.Op, e.UniqueID, len(e.Entropy), len(e.Vector))
		return nil
	})
	// Output: add 00000000-0000-4000-8000-000000000001 32 32
}

// TestBackgroundSnapshotsUnderChurn: background snapshots run while adds
// and deletes go on (copy-on-write pages under the race detector); every
// snapshot boots into a gallery that matches the log.
func TestBackgroundSnapshotsUnderChurn(t *testing.T) {
	e := newEnv()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: 40})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	live := map[int]bool{}
	for i := range 1500 {
		appendAll(t, j, add(i))
		live[i] = true
		if i%3 == 2 {
			appendAll(t, j, del(i-1))
			delete(live, i-1)
		}
		if i%300 == 299 {
			// On a loaded machine the appends can outrun a snapshot for the
			// whole loop: let each batch's snapshot finish.
			j.snapWG.Wait()
		}
	}
	j.Close()
	e.snaps.mu.Lock()
	n := len(e.snaps.snaps)
	e.snaps.mu.Unlock()
	if n < 2 {
		t.Fatalf("%d snapshots written", n)
	}
	_, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(live) {
		t.Fatalf("%d identities, want %d", len(got), len(live))
	}
	for i := range live {
		if g := got[add(i).UniqueID]; !bytes.Equal(g.Vector, add(i).Vector) || !bytes.Equal(g.Entropy, add(i).Entropy) {
			t.Fatalf("identity %d differs", i)
		}
	}
	// Every snapshot on its own (log cut right after it) matches the log
	// up to its point.
	e.snaps.mu.Lock()
	seqs := slices.Sorted(maps.Keys(e.snaps.snaps))
	e.snaps.mu.Unlock()
	for _, seq := range seqs[max(len(seqs)-3, 0):] { // the last three, or as many as a loaded machine wrote
		only := &env{log: e.log.clone(), snaps: newTestSnaps(), keys: e.keys, counter: &MemCounter{n: seq}}
		only.snaps.snaps[seq] = e.snaps.snaps[seq]
		for s := range only.log.recs {
			if s >= seq {
				delete(only.log.recs, s)
			}
		}
		fromSnap, _, err := only.open(t)
		if err != nil {
			t.Fatalf("snapshot %d: %v", seq, err)
		}
		logOnly := &env{log: only.log, snaps: newTestSnaps(), keys: e.keys, counter: &MemCounter{n: seq}}
		fromLog, _, err := logOnly.open(t)
		if err != nil {
			t.Fatal(err)
		}
		a, b := contents(fromSnap.live), contents(fromLog.live)
		if !slices.EqualFunc(sorted(a), sorted(b), bytes.Equal) {
			t.Fatalf("snapshot %d holds %d identities, the log up to it %d", seq, len(a), len(b))
		}
	}
}
