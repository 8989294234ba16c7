package parent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facesign/facesign/wire"
)

func scanAll(t *testing.T, s Store, from uint64) map[uint64][]byte {
	t.Helper()
	got := map[uint64][]byte{}
	var last uint64
	first := true
	err := s.Scan(context.Background(), from, func(seq uint64, rec []byte) error {
		if !first && seq <= last {
			t.Fatalf("scan out of order: %d after %d", seq, last)
		}
		first, last = false, seq
		got[seq] = rec
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(0); seq < 12; seq++ {
		if err := s.Put(ctx, seq, []byte(fmt.Sprintf("record %d", seq))); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("idempotent retry", func(t *testing.T) {
		before := dirSnapshot(t, dir)
		if err := s.Put(ctx, 3, []byte("record 3")); err != nil {
			t.Fatalf("identical retry: %v", err)
		}
		if after := dirSnapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatal("identical retry changed the directory")
		}
	})
	t.Run("conflict changes nothing", func(t *testing.T) {
		before := dirSnapshot(t, dir)
		for _, rec := range [][]byte{[]byte("record 3!"), {}, []byte("record 4")} {
			if err := s.Put(ctx, 3, rec); !errors.Is(err, ErrConflict) {
				t.Fatalf("conflicting put %q: %v", rec, err)
			}
		}
		if after := dirSnapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatal("a conflicting put changed the directory")
		}
	})
	t.Run("scan from", func(t *testing.T) {
		got := scanAll(t, s, 10)
		if len(got) != 2 || string(got[10]) != "record 10" || string(got[11]) != "record 11" {
			t.Fatalf("scan from 10: %v", got)
		}
	})
	t.Run("durable across reopen, no temp files", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, ".tmp-crashed"), []byte("half"), 0o600)
		s2, err := OpenDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := scanAll(t, s2, 0)
		if len(got) != 12 {
			t.Fatalf("%d records after reopen", len(got))
		}
		for name := range dirSnapshot(t, dir) {
			if !strings.HasSuffix(name, recordSuffix) {
				t.Fatalf("stray file %q", name)
			}
		}
	})
	t.Run("concurrent puts of one seq: one wins", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() { errs[i] = s.Put(ctx, 100, []byte{byte(i)}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, ErrConflict) {
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d puts succeeded", ok)
		}
	})
}

func TestHostServices(t *testing.T) {
	_, d := startFakeEnclave(t)
	dir := t.TempDir()
	st, err := OpenDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := newTestServer(t, d, nil)
	host, err := NewHost(HostConfig{Store: st, MaxRecordBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	h := host.Handler()
	put := func(seq string, body []byte) int {
		return do(t, h, "PUT", "/internal/v1/log/"+seq, body, nil).Code
	}
	if c := put("0", []byte("a")); c != 204 {
		t.Fatalf("put: %d", c)
	}
	if c := put("1", []byte("bb")); c != 204 {
		t.Fatalf("put: %d", c)
	}
	if c := put("1", []byte("bb")); c != 204 {
		t.Fatalf("identical retry: %d", c)
	}
	before := dirSnapshot(t, dir)
	w := do(t, h, "PUT", "/internal/v1/log/1", []byte("XX"), nil)
	if w.Code != 409 || errorCode(t, w) != CodeConflict {
		t.Fatalf("conflict: %d %s", w.Code, w.Body.String())
	}
	w = do(t, h, "PUT", "/internal/v1/log/2", make([]byte, 65), nil)
	if w.Code != 413 || errorCode(t, w) != CodeBodyTooLarge {
		t.Fatalf("too large: %d %s", w.Code, w.Body.String())
	}
	for _, bad := range []string{"-1", "x", "18446744073709551616"} {
		if c := put(bad, []byte("a")); c != 400 {
			t.Fatalf("seq %q: %d", bad, c)
		}
	}
	if fmt.Sprint(dirSnapshot(t, dir)) != fmt.Sprint(before) {
		t.Fatal("refused writes changed the store")
	}
	if c := do(t, s.Handler(), "PUT", "/internal/v1/log/5", []byte("a"), nil).Code; c != 404 {
		t.Fatalf("host services reachable on the public handler: %d", c)
	}

	w = do(t, h, "GET", "/internal/v1/log?from=0", nil, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != MediaLogStream {
		t.Fatalf("get: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	stream := w.Body.Bytes()
	var got []string
	if err := wire.ReadLogStream(bytes.NewReader(stream), func(seq uint64, rec []byte) error {
		got = append(got, fmt.Sprintf("%d=%s", seq, rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0=a 1=bb]" {
		t.Fatalf("stream: %v", got)
	}
	w = do(t, h, "GET", "/internal/v1/log?from=1", nil, nil)
	n := 0
	if err := wire.ReadLogStream(w.Body, func(seq uint64, _ []byte) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("from=1 gave %d records, %v", n, err)
	}
	w = do(t, h, "GET", "/internal/v1/log?from=2", nil, nil)
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("from past the end: %d, %d bytes", w.Code, w.Body.Len())
	}
	if c := do(t, h, "GET", "/internal/v1/log?from=x", nil, nil).Code; c != http.StatusBadRequest {
		t.Fatalf("bad from: %d", c)
	}
}

// failingStore fails a scan after its first record.
type failingStore struct{ Store }

func (f failingStore) Scan(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	if err := fn(from, []byte("first")); err != nil {
		return err
	}
	return errors.New("disk on fire")
}

// TestLogStreamAbortsMidway checks a store failure part-way through GET log
// reaches the enclave's reader as an error, never as a short clean stream.
func TestLogStreamAbortsMidway(t *testing.T) {
	st, _ := OpenDirStore(t.TempDir())
	host, err := NewHost(HostConfig{Store: failingStore{st}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(host.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/internal/v1/log?from=0")
	if err != nil {
		return // aborted before the headers went out: also not a clean stream
	}
	defer resp.Body.Close()
	n := 0
	err = wire.ReadLogStream(resp.Body, func(uint64, []byte) error { n++; return nil })
	if err == nil {
		t.Fatalf("a broken stream read cleanly (%d records)", n)
	}
}
