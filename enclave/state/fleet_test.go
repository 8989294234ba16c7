package state

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/facesign/facesign/enclave"
)

// member is one enclave's journal in a fleet test, with the gallery it
// keeps (unique ID → entry), fed by Replay, Append and CatchUp.
type member struct {
	j       *Journal
	mu      sync.Mutex
	gallery map[string]enclave.Entry
}

func (m *member) apply(e enclave.Entry) error {
	switch e.Op {
	case enclave.OpAdd:
		if _, dup := m.gallery[e.UniqueID]; dup {
			return fmt.Errorf("%s added twice", e.UniqueID)
		}
		m.gallery[e.UniqueID] = e
	case enclave.OpDelete:
		if _, ok := m.gallery[e.UniqueID]; !ok {
			return fmt.Errorf("%s deleted but absent", e.UniqueID)
		}
		delete(m.gallery, e.UniqueID)
	}
	return nil
}

func bootMember(t testing.TB, log enclave.Log, keys *memKeys, c HeadCounter) (*member, error) {
	t.Helper()
	j, err := New(Options{Log: log, Keys: keys, Counter: c, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := &member{j: j, gallery: map[string]enclave.Entry{}}
	if err := j.Replay(context.Background(), m.apply); err != nil {
		return nil, err
	}
	return m, nil
}

// commit appends e the way the enclave service does: on ErrJournalBehind
// it catches up and asks decide again (here: whether e still fits the
// gallery), then retries.
func (m *member) commit(ctx context.Context, e enclave.Entry) (retries int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if e.Op == enclave.OpDelete {
			if _, ok := m.gallery[e.UniqueID]; !ok {
				return retries, errGone
			}
		}
		err := m.j.Append(ctx, e)
		switch {
		case errors.Is(err, enclave.ErrJournalBehind):
			retries++
			if _, err := m.j.CatchUp(ctx, m.apply); err != nil {
				return retries, err
			}
			continue
		case err == nil, errors.Is(err, enclave.ErrJournalUnacked):
			if aerr := m.apply(e); aerr != nil {
				return retries, aerr
			}
		}
		return retries, err
	}
}

var errGone = errors.New("deleted by another member meanwhile")

// TestFleetConcurrentWriters: three journals on one log and one counter
// append concurrently; every lost race catches up and retries. At the end
// every member's gallery, after catching up, equals a fresh boot's, the
// log holds exactly the acknowledged records, and no acknowledged add is
// missing.
func TestFleetConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	log, keys, counter := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
	var members []*member
	for range 3 {
		m, err := bootMember(t, log, keys, counter)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	const per = 60
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		acked   = map[string]bool{} // live after acknowledged adds and deletes
		appends int
		races   int
	)
	for w, m := range members {
		wg.Go(func() {
			for i := range per {
				id := w*per + i
				n, err := m.commit(ctx, add(id))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[add(id).UniqueID], appends, races = true, appends+1, races+n
				mu.Unlock()
				if i%4 == 3 { // delete one of this worker's earlier ones
					n, err := m.commit(ctx, del(id-2))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					delete(acked, del(id-2).UniqueID)
					appends, races = appends+1, races+n
					mu.Unlock()
				}
				if _, err := m.commit(ctx, enclave.Entry{Op: enclave.OpNone}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				appends++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := len(log.Records()); got != appends+1 {
		t.Fatalf("log holds %d records, %d appends were acknowledged (+ header)", got, appends)
	}
	t.Logf("%d appends from 3 writers, %d lost races caught up", appends, races)
	fresh, err := bootMember(t, log, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(maps.Keys(acked))
	if got := slices.Sorted(maps.Keys(fresh.gallery)); !slices.Equal(got, want) {
		t.Fatalf("fresh boot holds %d identities, %d acknowledged", len(got), len(want))
	}
	for i, m := range members {
		if _, err := m.j.CatchUp(ctx, m.apply); err != nil {
			t.Fatal(err)
		}
		if behind, err := m.j.Poll(ctx); err != nil || behind != 0 {
			t.Fatalf("member %d: poll after catching up: %d behind, %v", i, behind, err)
		}
		if got := slices.Sorted(maps.Keys(m.gallery)); !slices.Equal(got, want) {
			t.Fatalf("member %d holds %d identities after catching up, want %d", i, len(got), len(want))
		}
		next, ackedN := m.j.Position()
		if next != uint64(appends+1) || ackedN != next {
			t.Fatalf("member %d at %d, acknowledged %d, log %d", i, next, ackedN, appends+1)
		}
	}
	if h, _ := counter.LoadHead(ctx); h.N != uint64(appends+1) || !h.Bound() {
		t.Fatalf("counter %+v after %d records", h, appends+1)
	}
}

// blockingCounter holds AdvanceHead calls of one caller until released:
// it orders a race between two members deterministically.
type blockingCounter struct {
	*MemCounter
	hold    chan struct{}
	entered chan struct{}
	armed   bool
	mu      sync.Mutex
}

func (b *blockingCounter) AdvanceHead(ctx context.Context, old, new Head) error {
	b.mu.Lock()
	armed := b.armed
	b.armed = false
	b.mu.Unlock()
	if armed {
		close(b.entered)
		<-b.hold
	}
	return b.MemCounter.AdvanceHead(ctx, old, new)
}

// TestFleetCounterMovedPastTheWriter: A's record is durable, but before A
// moves the counter, B reads it, appends after it and moves the counter
// past both. A's record is acknowledged through B's head (A checks the
// chain up to it), not lost and not doubly counted.
func TestFleetCounterMovedPastTheWriter(t *testing.T) {
	ctx := context.Background()
	log, keys, mem := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
	slow := &blockingCounter{MemCounter: mem, hold: make(chan struct{}), entered: make(chan struct{})}
	a, err := bootMember(t, log, keys, slow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootMember(t, log, keys, mem)
	if err != nil {
		t.Fatal(err)
	}
	slow.mu.Lock()
	slow.armed = true
	slow.mu.Unlock()
	done := make(chan error, 1)
	go func() { _, err := a.commit(ctx, add(1)); done <- err }()
	<-slow.entered // A's record 1 is durable; its counter move waits
	if _, err := b.commit(ctx, add(2)); err != nil {
		t.Fatal(err)
	}
	if h, _ := mem.LoadHead(ctx); h.N != 3 {
		t.Fatalf("counter at %d, want 3 (B caught up on A's record and wrote the next)", h.N)
	}
	close(slow.hold)
	if err := <-done; err != nil {
		t.Fatalf("A's append, covered by B's head: %v", err)
	}
	if _, err := a.j.CatchUp(ctx, a.apply); err != nil {
		t.Fatal(err)
	}
	if len(a.gallery) != 2 || len(b.gallery) != 2 {
		t.Fatalf("galleries %d and %d, want 2", len(a.gallery), len(b.gallery))
	}
}

// TestFleetFork: a parent that shows two enclaves two different logs (each
// told its record at 2 was stored) cannot get both acknowledged: the second
// finds the counter's head off its chain and stops with ErrForked, and a
// later boot on the losing branch is refused.
func TestFleetFork(t *testing.T) {
	ctx := context.Background()
	keys, counter := newMemKeys(), &MemCounter{}
	base := &enclave.MemLog{}
	a, err := bootMember(t, base, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.commit(ctx, add(1)); err != nil {
		t.Fatal(err)
	}
	branch := &enclave.MemLog{}
	for seq, rec := range base.Records() {
		if err := branch.Put(ctx, uint64(seq), rec); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bootMember(t, branch, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.commit(ctx, add(2)); err != nil {
		t.Fatal(err)
	}
	_, err = b.commit(ctx, add(3))
	if !errors.Is(err, ErrForked) || !errors.Is(err, enclave.ErrJournalCorrupt) {
		t.Fatalf("append on the other branch: %v, want ErrForked", err)
	}
	// The branch is as long as the acknowledged log but not its history.
	if _, err := bootMember(t, branch, keys, counter); !errors.Is(err, ErrRollback) {
		t.Fatalf("boot on the other branch: %v, want ErrRollback", err)
	}
	if _, err := bootMember(t, base, keys, counter); err != nil {
		t.Fatalf("boot on the acknowledged log: %v", err)
	}
}

// failingCounter refuses to move while fail is set (DynamoDB unreachable).
type failingCounter struct {
	*MemCounter
	mu   sync.Mutex
	fail bool
}

func (f *failingCounter) AdvanceHead(ctx context.Context, old, new Head) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("counter unreachable")
	}
	return f.MemCounter.AdvanceHead(ctx, old, new)
}

// TestFleetUnacked: a record that became durable while the counter could
// not move is reported as ErrJournalUnacked, is part of the state (the
// journal applied it), is not snapshotted, and is acknowledged by the next
// append.
func TestFleetUnacked(t *testing.T) {
	ctx := context.Background()
	log, keys := &enclave.MemLog{}, newMemKeys()
	c := &failingCounter{MemCounter: &MemCounter{}}
	m, err := bootMember(t, log, keys, c)
	if err != nil {
		t.Fatal(err)
	}
	c.fail = true
	if _, err := m.commit(ctx, add(1)); !errors.Is(err, enclave.ErrJournalUnacked) {
		t.Fatalf("append with the counter down: %v", err)
	}
	if next, acked := m.j.Position(); next != 2 || acked != 1 {
		t.Fatalf("position %d, acknowledged %d", next, acked)
	}
	m.j.opts.Snapshots = newTestSnaps()
	if err := m.j.Snapshot(ctx); !errors.Is(err, ErrNotAcked) {
		t.Fatalf("snapshot of an unacknowledged view: %v", err)
	}
	if _, err := m.commit(ctx, add(1)); err == nil {
		t.Fatal("the unacknowledged add was not applied: enrolled twice")
	}
	c.fail = false
	if _, err := m.commit(ctx, enclave.Entry{Op: enclave.OpNone}); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.LoadHead(ctx); h.N != 3 {
		t.Fatalf("counter at %d, want 3", h.N)
	}
	if err := m.j.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFleetHeaderRace: enclaves booting together on an empty store end on
// one log (the losers of the header write boot on the winner's).
func TestFleetHeaderRace(t *testing.T) {
	ctx := context.Background()
	log, keys, counter := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
	var wg sync.WaitGroup
	members := make([]*member, 4)
	for i := range members {
		wg.Go(func() {
			m, err := bootMember(t, log, keys, counter)
			if err != nil {
				t.Error(err)
				return
			}
			members[i] = m
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, m := range members {
		if _, err := m.commit(ctx, add(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(log.Records()); n != 5 {
		t.Fatalf("%d records, want a header and 4 adds", n)
	}
}

// TestFleetLegacyCounter: a counter moved before heads existed (no hash)
// is accepted at its count and bound by the next append.
func TestFleetLegacyCounter(t *testing.T) {
	ctx := context.Background()
	log, keys, counter := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
	m, err := bootMember(t, log, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.commit(ctx, add(1)); err != nil {
		t.Fatal(err)
	}
	legacy := &MemCounter{n: 2} // as Counter.Advance left it: no hash
	if h, _ := legacy.LoadHead(ctx); h.Bound() {
		t.Fatal("a count-only counter reads as bound")
	}
	m, err = bootMember(t, log, keys, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.commit(ctx, add(2)); err != nil {
		t.Fatal(err)
	}
	if h, _ := legacy.LoadHead(ctx); h.N != 3 || !h.Bound() {
		t.Fatalf("counter %+v, want bound at 3", h)
	}
	// Moving it by count again unbinds it rather than leaving a stale hash.
	if err := legacy.Advance(ctx, 3, 4); err != nil {
		t.Fatal(err)
	}
	if h, _ := legacy.LoadHead(ctx); h.Bound() || h.N != 4 {
		t.Fatalf("after a count-only move: %+v", h)
	}
}

// TestFleetFollowerSeesFork: a member that only reads (catches up and
// polls) also finds out when the counter acknowledges another history, and
// when the counter goes back.
func TestFleetFollowerSeesFork(t *testing.T) {
	ctx := context.Background()
	keys, counter := newMemKeys(), &MemCounter{}
	base := &enclave.MemLog{}
	writer, err := bootMember(t, base, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.commit(ctx, add(1)); err != nil {
		t.Fatal(err)
	}
	branch := &enclave.MemLog{}
	for seq, rec := range base.Records() {
		if err := branch.Put(ctx, uint64(seq), rec); err != nil {
			t.Fatal(err)
		}
	}
	follower, err := bootMember(t, branch, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	// The follower's parent then serves it a record the counter never
	// saw (written by an enclave it showed the branch to, with a counter
	// of its own), while the real counter moves on the acknowledged log.
	other, err := bootMember(t, branch, keys, &MemCounter{n: counter.n, h: counter.h, hn: counter.hn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.commit(ctx, add(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.commit(ctx, add(3)); err != nil {
		t.Fatal(err)
	}
	if n, err := follower.j.CatchUp(ctx, follower.apply); err != nil || n != 1 {
		t.Fatalf("catch-up on the branch: %d, %v", n, err)
	}
	if _, err := follower.j.Poll(ctx); !errors.Is(err, ErrForked) {
		t.Fatalf("poll of a follower on another branch: %v, want ErrForked", err)
	}
	// And a counter that went back.
	f2, err := bootMember(t, base, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	counter.mu.Lock()
	counter.n, counter.hn = 1, 0
	counter.mu.Unlock()
	if _, err := f2.j.Poll(ctx); !errors.Is(err, ErrRollback) {
		t.Fatalf("poll after the counter went back: %v, want ErrRollback", err)
	}
}

// slowReadCounter answers LoadHead with the value it held when the call
// began, after a delay: a read that crosses an append.
type slowReadCounter struct {
	*MemCounter
	read    chan struct{}
	release chan struct{}
}

func (s *slowReadCounter) LoadHead(ctx context.Context) (Head, error) {
	h, err := s.MemCounter.LoadHead(ctx)
	if s.read != nil {
		close(s.read)
		<-s.release
		s.read = nil
	}
	return h, err
}

// TestFleetPollCrossingAnAppend: a counter read that began before an
// append moved the counter returns the older value; that is not a
// rollback.
func TestFleetPollCrossingAnAppend(t *testing.T) {
	ctx := context.Background()
	log, keys := &enclave.MemLog{}, newMemKeys()
	c := &slowReadCounter{MemCounter: &MemCounter{}}
	m, err := bootMember(t, log, keys, c)
	if err != nil {
		t.Fatal(err)
	}
	c.read, c.release = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() { _, err := m.j.Poll(ctx); done <- err }()
	<-c.read
	if _, err := m.commit(ctx, add(1)); err != nil {
		t.Fatal(err)
	}
	close(c.release)
	if err := <-done; err != nil {
		t.Fatalf("a poll that crossed an append: %v", err)
	}
}

// FuzzHeadAttr: the counter item's head attribute either parses to a value
// that formats back to the same text, or is refused with ErrCounterItem.
func FuzzHeadAttr(f *testing.F) {
	f.Add(headAttr(Head{N: 7, Hash: [32]byte{1, 2, 3}}))
	f.Add("0:" + string(make([]byte, 64)))
	f.Add("18446744073709551615:" + "ff" + string(make([]byte, 62)))
	f.Add(":")
	f.Add("12:zz")
	f.Fuzz(func(t *testing.T, s string) {
		n, hash, err := parseHeadAttr(s)
		if err != nil {
			if !errors.Is(err, ErrCounterItem) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if back := headAttr(Head{N: n, Hash: hash}); back != s && !sameHead(back, s) {
			t.Fatalf("%q parsed to (%d, %x), which formats as %q", s, n, hash, back)
		}
	})
}

// sameHead allows the one text difference parsing forgives: hex case and
// leading zeros of the number.
func sameHead(a, b string) bool {
	na, ha, _ := parseHeadAttr(a)
	nb, hb, err := parseHeadAttr(b)
	return err == nil && na == nb && ha == hb
}
