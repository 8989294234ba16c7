package state

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
)

const dim = 8

// memKeys wraps data keys under a key held in memory. The real KeyService
// (AWS KMS or the simulator's, with attestation) is exercised in
// kms_integration_test.go; these tests are about the log format.
type memKeys struct {
	aead cipher.AEAD
	deny bool
}

var _ kms.KeyService = (*memKeys)(nil)

func newMemKeys() *memKeys {
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return &memKeys{aead: a}
}

func (m *memKeys) GenerateDataKey(context.Context) ([]byte, []byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return bytes.Clone(key), m.aead.Seal(nonce, nonce, key, nil), nil
}

func (m *memKeys) Decrypt(_ context.Context, w []byte) ([]byte, error) {
	if m.deny {
		return nil, kms.ErrDenied
	}
	if len(w) < 12 {
		return nil, kms.ErrUnwrap
	}
	k, err := m.aead.Open(nil, w[:12], w[12:], nil)
	if err != nil {
		return nil, kms.ErrUnwrap
	}
	return k, nil
}

// testLog is a parent's storage the tests can tamper with freely.
type testLog struct {
	mu   sync.Mutex
	recs map[uint64][]byte
	puts int
	fail error
}

func newTestLog() *testLog { return &testLog{recs: map[uint64][]byte{}} }

func (l *testLog) Put(_ context.Context, seq uint64, rec []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	if old, ok := l.recs[seq]; ok && !bytes.Equal(old, rec) {
		return fmt.Errorf("seq %d exists", seq)
	}
	l.recs[seq] = bytes.Clone(rec)
	l.puts++
	return nil
}

func (l *testLog) Read(_ context.Context, from uint64, fn func(uint64, []byte) error) error {
	l.mu.Lock()
	var seqs []uint64
	for s := range l.recs {
		if s >= from {
			seqs = append(seqs, s)
		}
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	recs := make([][]byte, len(seqs))
	for i, s := range seqs {
		recs[i] = bytes.Clone(l.recs[s])
	}
	l.mu.Unlock()
	for i, s := range seqs {
		if err := fn(s, recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (l *testLog) clone() *testLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := newTestLog()
	for s, r := range l.recs {
		c.recs[s] = bytes.Clone(r)
	}
	return c
}

// testSnaps keeps snapshots in memory.
type testSnaps struct {
	mu    sync.Mutex
	snaps map[uint64][]byte
}

func newTestSnaps() *testSnaps { return &testSnaps{snaps: map[uint64][]byte{}} }

func (s *testSnaps) PutSnapshot(_ context.Context, seq uint64, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps[seq] = b
	return nil
}

func (s *testSnaps) LatestSnapshot(context.Context) (uint64, io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best uint64
	for seq := range s.snaps {
		best = max(best, seq)
	}
	if best == 0 {
		return 0, nil, ErrNoSnapshot
	}
	return best, io.NopCloser(bytes.NewReader(s.snaps[best])), nil
}

type env struct {
	log     *testLog
	snaps   *testSnaps
	keys    *memKeys
	counter *MemCounter
}

func newEnv() *env {
	return &env{log: newTestLog(), snaps: newTestSnaps(), keys: newMemKeys(), counter: &MemCounter{}}
}

func (e *env) open(t testing.TB) (*Journal, map[string]enclave.Entry, error) {
	t.Helper()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]enclave.Entry{}
	err = j.Replay(context.Background(), func(e enclave.Entry) error {
		got[e.UniqueID] = e
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return j, got, nil
}

func vec(seed int) []byte {
	b := make([]byte, 4*dim)
	for i := range dim {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(seed*dim+i)))
	}
	return b
}

func add(id int) enclave.Entry {
	ent := bytes.Repeat([]byte{byte(id)}, 32)
	return enclave.Entry{Op: enclave.OpAdd, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), Entropy: ent, Vector: vec(id)}
}

func del(id int) enclave.Entry {
	return enclave.Entry{Op: enclave.OpDelete, UniqueID: add(id).UniqueID}
}

var none = enclave.Entry{Op: enclave.OpNone}

func appendAll(t *testing.T, j *Journal, es ...enclave.Entry) {
	t.Helper()
	for _, e := range es {
		if err := j.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(m map[string]enclave.Entry) []string {
	var out []string
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func TestRoundTrip(t *testing.T) {
	e := newEnv()
	j, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("new log replayed %d entries", len(got))
	}
	appendAll(t, j, add(1), add(2), none, add(3), del(2), none)
	for _, snap := range []bool{false, true} {
		if snap {
			if err := j.Snapshot(context.Background()); err != nil {
				t.Fatal(err)
			}
			appendAll(t, j, add(4), del(1))
		}
		j2, got, err := e.open(t)
		if err != nil {
			t.Fatalf("snapshot=%v: %v", snap, err)
		}
		want := []string{add(1).UniqueID, add(3).UniqueID}
		if snap {
			want = []string{add(3).UniqueID, add(4).UniqueID}
		}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("snapshot=%v: replayed %v, want %v", snap, ids(got), want)
		}
		for _, id := range []int{3} {
			g := got[add(id).UniqueID]
			if !bytes.Equal(g.Entropy, add(id).Entropy) || !bytes.Equal(g.Vector, add(id).Vector) {
				t.Fatalf("entry %d changed across replay", id)
			}
		}
		j = j2
	}
}

// TestCuriousParent: what the parent stores has one size per record,
// whatever the operation, and never the plaintext.
func TestCuriousParent(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(7), none, del(7), none)
	if e.log.puts != 5 {
		t.Fatalf("%d writes for 4 requests and the header", e.log.puts)
	}
	size := len(e.log.recs[1])
	for seq := uint64(1); seq <= 4; seq++ {
		rec := e.log.recs[seq]
		if len(rec) != size {
			t.Errorf("record %d is %d bytes, record 1 is %d", seq, len(rec), size)
		}
		for _, secret := range [][]byte{[]byte(add(7).UniqueID), add(7).Entropy, add(7).Vector[:8]} {
			if bytes.Contains(rec, secret) {
				t.Errorf("record %d holds plaintext", seq)
			}
		}
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.snaps.snaps {
		if bytes.Contains(s, add(7).Entropy) {
			t.Error("snapshot holds plaintext")
		}
	}
}

func TestTamper(t *testing.T) {
	build := func(t *testing.T) *env {
		e := newEnv()
		j, _, err := e.open(t)
		if err != nil {
			t.Fatal(err)
		}
		appendAll(t, j, add(1), add(2), none, add(3), del(2))
		return e
	}
	other := build(t) // another log, another key
	cases := []struct {
		name   string
		mutate func(e *env)
		want   error
	}{
		{"bit flip in a record", func(e *env) { e.log.recs[3][40] ^= 1 }, ErrCorrupt},
		{"bit flip in the nonce", func(e *env) { e.log.recs[2][0] ^= 0x80 }, ErrCorrupt},
		{"bit flip in the header", func(e *env) { e.log.recs[0][len(e.log.recs[0])-1] ^= 1 }, ErrCorrupt},
		{"missing record", func(e *env) { delete(e.log.recs, 2) }, ErrCorrupt},
		{"reordered records", func(e *env) { e.log.recs[2], e.log.recs[3] = e.log.recs[3], e.log.recs[2] }, ErrCorrupt},
		{"duplicated record", func(e *env) { e.log.recs[3] = bytes.Clone(e.log.recs[2]) }, ErrCorrupt},
		{"record from another log", func(e *env) { e.log.recs[2] = bytes.Clone(other.log.recs[2]) }, ErrCorrupt},
		{"truncated record", func(e *env) { e.log.recs[4] = e.log.recs[4][:20] }, ErrCorrupt},
		{"extra record at the end", func(e *env) { e.log.recs[6] = bytes.Clone(e.log.recs[5]) }, ErrCorrupt},
		{"record moved past a gap", func(e *env) { e.log.recs[7] = e.log.recs[5]; delete(e.log.recs, 5) }, ErrCorrupt},
		{"header missing", func(e *env) { delete(e.log.recs, 0) }, ErrCorrupt},
		{"tail truncated (rollback)", func(e *env) { delete(e.log.recs, 5); delete(e.log.recs, 4) }, ErrRollback},
		{"log wiped (rollback)", func(e *env) { e.log.recs = map[uint64][]byte{} }, ErrRollback},
		{"whole log of another enclave", func(e *env) { e.log = other.log.clone() }, kms.ErrUnwrap},
		{"key policy refuses", func(e *env) { e.keys.deny = true }, kms.ErrDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := build(t)
			before := e.counter.n
			c.mutate(e)
			j, got, err := e.open(t)
			if !errors.Is(err, c.want) {
				t.Fatalf("replay: %v, want %v", err, c.want)
			}
			if j != nil || got != nil {
				t.Fatal("a result came with the error")
			}
			if e.counter.n != before {
				t.Fatal("a refused replay moved the counter")
			}
		})
	}
}

func TestSnapshotTamper(t *testing.T) {
	build := func(t *testing.T) (*env, *Journal) {
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
		appendAll(t, j, del(3), add(42))
		return e, j
	}
	other, _ := build(t)
	cases := []struct {
		name   string
		mutate func(e *env)
		want   error
	}{
		{"bit flip in a chunk", func(e *env) { e.snaps.snaps[11][len(e.snaps.snaps[11])-20] ^= 1 }, ErrSnapshot},
		{"bit flip in the header", func(e *env) { e.snaps.snaps[11][20] ^= 1 }, ErrSnapshot},
		{"truncated", func(e *env) { e.snaps.snaps[11] = e.snaps.snaps[11][:len(e.snaps.snaps[11])-1] }, ErrSnapshot},
		{"trailing bytes", func(e *env) { e.snaps.snaps[11] = append(e.snaps.snaps[11], 0) }, ErrSnapshot},
		{"snapshot of another log", func(e *env) { e.snaps.snaps[11] = other.snaps.snaps[11] }, ErrSnapshot},
		{"stored under another seq", func(e *env) { e.snaps.snaps[12] = e.snaps.snaps[11]; delete(e.snaps.snaps, 11) }, ErrSnapshot},
		{"record before the snapshot replaced", func(e *env) { e.log.recs[10] = bytes.Clone(e.log.recs[9]) }, ErrCorrupt},
		{"log shorter than the snapshot", func(e *env) {
			for s := uint64(5); s < 20; s++ {
				delete(e.log.recs, s)
			}
		}, ErrRollback},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := build(t)
			c.mutate(e)
			if _, _, err := e.open(t); !errors.Is(err, c.want) {
				t.Fatalf("replay: %v, want %v", err, c.want)
			}
		})
	}
	t.Run("snapshot of a forked history", func(t *testing.T) {
		// Two branches under the same key: branch A's snapshot does not
		// describe branch B's log, though both are validly sealed.
		a := newEnv()
		ja, _, err := a.open(t)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 9 {
			appendAll(t, ja, add(i))
		}
		b := &env{log: a.log.clone(), snaps: newTestSnaps(), keys: a.keys, counter: &MemCounter{n: a.counter.n}}
		jb, _, err := b.open(t)
		if err != nil {
			t.Fatal(err)
		}
		appendAll(t, ja, add(100))
		if err := ja.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		appendAll(t, jb, add(200), add(201))
		b.snaps.snaps[11] = a.snaps.snaps[11]
		if _, _, err := b.open(t); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("replay: %v, want ErrSnapshot", err)
		}
	})
	t.Run("intact", func(t *testing.T) {
		e, _ := build(t)
		_, got, err := e.open(t)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("%d identities, want 10", len(got))
		}
		if _, ok := got[add(3).UniqueID]; ok {
			t.Fatal("deleted after the snapshot, still there")
		}
	})
}

func TestWriteFailureChangesNothing(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1))
	e.log.fail = errors.New("disk full")
	if err := j.Append(context.Background(), add(2)); !errors.Is(err, ErrWrite) {
		t.Fatalf("append: %v", err)
	}
	e.log.fail = nil
	appendAll(t, j, add(3))
	_, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{add(1).UniqueID, add(3).UniqueID}; !slices.Equal(ids(got), want) {
		t.Fatalf("got %v, want %v", ids(got), want)
	}
}

func TestBadEntriesRefused(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1))
	short := add(5)
	short.Vector = short.Vector[:4]
	notUUID := add(6)
	notUUID.UniqueID = "alice"
	upper := add(7)
	upper.UniqueID = "00000000-0000-4000-8000-00000000000A"
	for _, bad := range []enclave.Entry{add(1), del(9), short, {Op: "merge"}, notUUID, upper} {
		if err := j.Append(context.Background(), bad); err == nil {
			t.Errorf("%v accepted", bad.Op)
		}
	}
	if e.log.puts != 2 {
		t.Fatalf("refused entries were written: %d puts", e.log.puts)
	}
}

func TestCounterConflict(t *testing.T) {
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	// A second writer moves the counter behind this one's back.
	if err := e.counter.Advance(context.Background(), 1, 5); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(context.Background(), add(1)); !errors.Is(err, ErrCounterConflict) {
		t.Fatalf("append: %v", err)
	}
}

func TestCrashBeforeCounter(t *testing.T) {
	// The record became durable, the enclave died before moving the counter:
	// replay accepts the longer log and moves the counter.
	e := newEnv()
	j, _, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1))
	e.counter.n-- // as if Advance never happened
	_, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || e.counter.n != 2 {
		t.Fatalf("identities %d, counter %d", len(got), e.counter.n)
	}
}

func TestBackgroundSnapshot(t *testing.T) {
	e := newEnv()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		appendAll(t, j, add(i))
	}
	j.Close()
	if len(e.snaps.snaps) == 0 {
		t.Fatal("no snapshot after 12 records with SnapshotEvery 5")
	}
	_, got, err := e.open(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("%d identities, want 12", len(got))
	}
}
