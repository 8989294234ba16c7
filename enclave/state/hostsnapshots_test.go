package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/parent"
	"github.com/prometheus/client_golang/prometheus"
)

// hostServices serves the parent's real host services (log and snapshot
// routes, directory stores) on a unix socket and returns a dialer for it.
func hostServices(t *testing.T, dir string) enclave.Dialer {
	t.Helper()
	logs, err := parent.OpenDirStore(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := parent.OpenDirSnapshots(filepath.Join(dir, "snapshots"), parent.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	host, err := parent.NewHost(parent.HostConfig{Store: logs, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := parent.NewSnapshotHost(parent.SnapshotHostConfig{Store: snaps, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "parent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := parent.NewHTTPServer(sh.Wrap(host.Handler()), nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return enclave.Endpoint{Network: "unix", Address: sock}.Dialer()
}

func TestHostSnapshotsMatchParent(t *testing.T) {
	if RouteSnapshot != parent.RouteSnapshot || HeaderSnapshotSeq != parent.HeaderSnapshotSeq {
		t.Fatal("the enclave and the parent disagree on the snapshot routes")
	}
}

func TestHostSnapshotsRoundTrip(t *testing.T) {
	ctx := context.Background()
	dial := hostServices(t, shortTempDir(t))
	hs := NewHostSnapshots(dial, 0)
	if _, _, err := hs.LatestSnapshot(ctx); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("latest of none: %v, want ErrNoSnapshot", err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 300000)
	for _, seq := range []uint64{3, 9, 7} {
		if err := hs.PutSnapshot(ctx, seq, bytes.NewReader(big[:len(big)-int(seq)])); err != nil {
			t.Fatal(err)
		}
	}
	seq, rc, err := hs.LatestSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || seq != 9 || !bytes.Equal(b, big[:len(big)-9]) {
		t.Fatalf("latest = %d, %d bytes, %v", seq, len(b), err)
	}
	if err := hs.PutSnapshot(ctx, 0, strings.NewReader("x")); !errors.Is(err, ErrOptions) {
		t.Fatalf("seq 0: %v", err)
	}
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "fs-snap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestJournalThroughParent runs the journal on the parent's real host
// services: records and snapshots go over HTTP into the directory stores,
// a reboot loads the snapshot and replays the log after it, and a snapshot
// file the parent altered stops the boot with ErrSnapshot.
func TestJournalThroughParent(t *testing.T) {
	ctx := context.Background()
	dir := shortTempDir(t)
	dial := hostServices(t, dir)
	keys, counter := newMemKeys(), &MemCounter{}
	open := func() (*Journal, map[string]enclave.Entry, error) {
		j, err := New(Options{Log: enclave.NewHostLog(dial), Snapshots: NewHostSnapshots(dial, 0), Keys: keys, Counter: counter,
			Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]enclave.Entry{}
		err = j.Replay(ctx, func(e enclave.Entry) error { got[e.UniqueID] = e; return nil })
		return j, got, err
	}
	j, _, err := open()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		appendAll(t, j, add(i))
	}
	if err := j.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, del(3), add(100), none)
	_, got, err := open()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{}
	for i := range 40 {
		if i != 3 {
			want = append(want, add(i).UniqueID)
		}
	}
	want = append(want, add(100).UniqueID)
	slices.Sort(want)
	if !slices.Equal(ids(got), want) {
		t.Fatalf("replayed %d identities, want %d", len(got), len(want))
	}
	if g := got[add(17).UniqueID]; !bytes.Equal(g.Entropy, add(17).Entropy) || !bytes.Equal(g.Vector, add(17).Vector) {
		t.Fatal("identity 17 changed across the snapshot")
	}

	// The parent flips one byte of the stored snapshot.
	files, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*.snap"))
	if len(files) != 1 {
		t.Fatalf("snapshot files: %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-20] ^= 1
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := open(); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("boot on a tampered snapshot: %v, want ErrSnapshot", err)
	}
}

// hostile answers every snapshot request with what the test says.
func hostile(t *testing.T, h http.HandlerFunc) *HostSnapshots {
	t.Helper()
	sock := filepath.Join(shortTempDir(t), "p.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return NewHostSnapshots(enclave.Endpoint{Network: "unix", Address: sock}.Dialer(), 1000)
}

// TestHostSnapshotsHostileParent: nothing the parent answers is taken at
// its word — statuses other than 204 are failures, the seq header must be
// well formed, and no more than the limit is ever read.
func TestHostSnapshotsHostileParent(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, enclave.ErrHostStatus},
		{"no seq header", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("data")) }, ErrSnapshot},
		{"seq 0", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderSnapshotSeq, "0")
			w.Write([]byte("data"))
		}, ErrSnapshot},
		{"seq not decimal", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderSnapshotSeq, "0x10")
			w.Write([]byte("data"))
		}, ErrSnapshot},
		{"declared too large", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderSnapshotSeq, "5")
			w.Header().Set("Content-Length", "1001")
			w.Write(make([]byte, 1001))
		}, ErrSnapshotTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := hostile(t, tc.handler)
			if _, _, err := hs.LatestSnapshot(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("latest: %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("streamed past the limit", func(t *testing.T) {
		hs := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderSnapshotSeq, "5")
			w.WriteHeader(200)
			for range 100 {
				w.Write(make([]byte, 100))
			}
		})
		seq, rc, err := hs.LatestSnapshot(ctx)
		if err != nil || seq != 5 {
			t.Fatalf("latest: %d, %v", seq, err)
		}
		defer rc.Close()
		n, err := io.Copy(io.Discard, rc)
		if !errors.Is(err, ErrSnapshotTooLarge) || n > 1001 {
			t.Fatalf("read %d bytes, %v; want ErrSnapshotTooLarge within the limit", n, err)
		}
	})

	for _, status := range []int{200, 201, 409, 500} {
		t.Run("put answered "+http.StatusText(status), func(t *testing.T) {
			hs := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(status)
			})
			if err := hs.PutSnapshot(ctx, 4, strings.NewReader("snapshot")); !errors.Is(err, enclave.ErrHostStatus) {
				t.Fatalf("put answered %d: %v, want ErrHostStatus", status, err)
			}
		})
	}
}
