package enclave

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/facesign/facesign/wire"
)

func newJournal(t *testing.T, log Log) *SealedJournal {
	t.Helper()
	j, err := NewSealedJournal(log, bytes.Repeat([]byte{1}, 32), seededRand(3), 8)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSealedJournal(t *testing.T) {
	ctx := context.Background()
	log := &MemLog{}
	j := newJournal(t, log)
	if err := j.Append(ctx, Entry{Op: OpNone}); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("append before replay: %v", err)
	}
	if err := j.Replay(ctx, func(Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	entries := []Entry{
		{Op: OpAdd, UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d", Entropy: bytes.Repeat([]byte{7}, 32), Vector: vectorBytes([]float32{1, 0, 0, 0, 0, 0, 0, 0})},
		{Op: OpNone},
		{Op: OpDelete, UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d"},
	}
	for _, e := range entries {
		if err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range log.Records() {
		if len(r) != j.RecordSize() {
			t.Fatalf("record of %d bytes, want %d", len(r), j.RecordSize())
		}
	}
	var got []Entry
	if err := newJournal(t, log).Replay(ctx, func(e Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].UniqueID != entries[0].UniqueID || got[2].Op != OpDelete {
		t.Fatalf("replayed %+v", got)
	}

	recs := log.Records()
	tamper := []struct {
		name string
		mut  func(m *MemLog)
	}{
		{"flipped bit", func(m *MemLog) { r := bytes.Clone(recs[1]); r[20] ^= 1; m.Set(1, r) }},
		{"swapped records", func(m *MemLog) { m.Set(0, recs[1]); m.Set(1, recs[0]) }},
		{"truncated record", func(m *MemLog) { m.Set(2, recs[2][:40]) }},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			m := &MemLog{}
			for i, r := range recs {
				if err := m.Put(ctx, uint64(i), r); err != nil {
					t.Fatal(err)
				}
			}
			tt.mut(m)
			err := newJournal(t, m).Replay(ctx, func(Entry) error { return nil })
			if !errors.Is(err, ErrJournalCorrupt) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// Another data key cannot read the log.
	other, _ := NewSealedJournal(log, bytes.Repeat([]byte{2}, 32), seededRand(3), 8)
	if err := other.Replay(ctx, func(Entry) error { return nil }); !errors.Is(err, ErrJournalCorrupt) {
		t.Fatalf("other key: %v", err)
	}
	// A failed write does not advance the sequence.
	log.Fail = errors.New("no")
	if err := j.Append(ctx, Entry{Op: OpNone}); !errors.Is(err, ErrJournalWrite) {
		t.Fatal(err)
	}
	log.Fail = nil
	if err := j.Append(ctx, Entry{Op: OpNone}); err != nil {
		t.Fatal(err)
	}
	if len(log.Records()) != 4 {
		t.Fatalf("%d records", len(log.Records()))
	}
}

// fakeParent is a minimal host-services server implementing
// docs/protocol.md §7 over a MemLog, to test HostLog's side of the protocol.
func fakeParent(t *testing.T, m *MemLog) (Dialer, func() int) {
	t.Helper()
	var mu sync.Mutex
	puts := 0
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+wire.RouteLog+"/{seq}", func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil {
			http.Error(w, "bad seq", 400)
			return
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		if err := m.Put(r.Context(), seq, b.Bytes()); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		mu.Lock()
		puts++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+wire.RouteLog, func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		var out []byte
		_ = m.Read(r.Context(), from, func(seq uint64, rec []byte) error { out = wire.AppendLogFrame(out, seq, rec); return nil })
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(out)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	var d net.Dialer
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", l.Addr().String()) },
		func() int { mu.Lock(); defer mu.Unlock(); return puts }
}

func TestHostLog(t *testing.T) {
	ctx := context.Background()
	m := &MemLog{}
	dial, puts := fakeParent(t, m)
	hl := NewHostLog(dial)
	j := newJournal(t, hl)
	if err := j.Replay(ctx, func(Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := j.Append(ctx, Entry{Op: OpNone}); err != nil {
			t.Fatal(err)
		}
	}
	if puts() != 3 {
		t.Fatalf("%d puts", puts())
	}
	n := 0
	if err := newJournal(t, hl).Replay(ctx, func(Entry) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("%d %v", n, err)
	}
	// A conflicting write is refused by the parent and reported.
	if err := hl.Put(ctx, 0, []byte("other bytes")); !errors.Is(err, ErrHostStatus) || !strings.Contains(err.Error(), "409") {
		t.Fatalf("conflict: %v", err)
	}
	// Idempotent retry of the same bytes.
	if err := hl.Put(ctx, 0, m.Records()[0]); err != nil {
		t.Fatal(err)
	}
}
