package parent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/parent/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

func TestDirStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parent.Store {
		dir := t.TempDir()
		open := func(t *testing.T) parent.Store {
			s, err := parent.OpenDirStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return storetest.WithReopen(open(t), open)
	})
}

func openDirSnapshots(t *testing.T, dir string) *parent.DirSnapshots {
	t.Helper()
	s, err := parent.OpenDirSnapshots(dir, parent.SnapshotOptions{MaxBytes: storetest.SnapshotLimit})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDirSnapshotsConformance(t *testing.T) {
	storetest.RunSnapshots(t, func(t *testing.T) parent.SnapshotStore {
		dir := t.TempDir()
		return storetest.WithSnapshotReopen(openDirSnapshots(t, dir), func(t *testing.T) parent.SnapshotStore {
			return openDirSnapshots(t, dir)
		})
	})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestDirSnapshotsFiles checks what lands on disk: whole files named by
// seq, no temporary files after success or failure, pruning to Keep, and
// temporaries of a crashed put removed at open.
func TestDirSnapshotsFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := parent.OpenDirSnapshots(dir, parent.SnapshotOptions{Keep: 2, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{10, 20, 30} {
		if err := s.PutSnapshot(ctx, seq, strings.NewReader("snapshot")); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"00000000000000000020.snap", "00000000000000000030.snap"}
	if got := names(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("files %v, want %v", got, want)
	}
	if err := s.PutSnapshot(ctx, 40, io.MultiReader(strings.NewReader("part"), errReader{})); err == nil {
		t.Fatal("a failing reader was acknowledged")
	}
	if got := names(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("a failed put left %v", got)
	}
	// A crash mid-put leaves a temporary file; the next open removes it.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-snap-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.OpenDirSnapshots(dir, parent.SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after reopen %v", got)
	}
	// Files that are not snapshots are ignored.
	for _, n := range []string{"00000000000000000000.snap", "99.snap", "00000000000000000099.snap.bak", "x"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if seq, rc, err := s.LatestSnapshot(ctx); err != nil || seq != 30 {
		t.Fatalf("latest = %d, %v; want 30", seq, err)
	} else {
		rc.Close()
	}
	if _, err := parent.OpenDirSnapshots("", parent.SnapshotOptions{}); !errors.Is(err, parent.ErrConfig) {
		t.Fatalf("empty directory: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

// failingSnapshots is a store whose disk fails.
type failingSnapshots struct{}

func (failingSnapshots) PutSnapshot(_ context.Context, _ uint64, r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	return errors.New("disk full")
}

func (failingSnapshots) LatestSnapshot(context.Context) (uint64, parent.SnapshotReader, error) {
	return 0, nil, errors.New("disk gone")
}

func snapshotServer(t *testing.T, store parent.SnapshotStore, max int64) *httptest.Server {
	t.Helper()
	logStore, err := parent.OpenDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	host, err := parent.NewHost(parent.HostConfig{Store: logStore, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := parent.NewSnapshotHost(parent.SnapshotHostConfig{Store: store, Registry: reg, MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sh.Wrap(host.Handler()))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, body io.Reader, contentLength int64) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentLength != 0 {
		req.ContentLength = contentLength
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e parent.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e.Error.Code
}

func TestSnapshotRoutes(t *testing.T) {
	store := openDirSnapshots(t, t.TempDir())
	srv := snapshotServer(t, store, 1<<20)
	latestURL := srv.URL + parent.RouteSnapshot + "/latest"

	res, b := do(t, http.MethodGet, latestURL, nil, 0)
	if res.StatusCode != http.StatusNotFound || errorCode(t, b) != parent.CodeNoSnapshot {
		t.Fatalf("latest of none: %s %s", res.Status, b)
	}

	snap := bytes.Repeat([]byte("sealed snapshot bytes "), 5000)
	// Streamed (chunked) upload: no Content-Length.
	res, b = do(t, http.MethodPut, srv.URL+parent.RouteSnapshot+"/17", io.MultiReader(bytes.NewReader(snap)), -1)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("put: %s %s", res.Status, b)
	}
	res, b = do(t, http.MethodGet, latestURL, nil, 0)
	if res.StatusCode != http.StatusOK || res.Header.Get(parent.HeaderSnapshotSeq) != "17" || !bytes.Equal(b, snap) {
		t.Fatalf("latest: %s seq %q, %d bytes", res.Status, res.Header.Get(parent.HeaderSnapshotSeq), len(b))
	}
	if res.ContentLength != int64(len(snap)) || res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("latest headers: length %d, type %q", res.ContentLength, res.Header.Get("Content-Type"))
	}

	for _, tc := range []struct {
		name, method, path string
		body               io.Reader
		length             int64
		status             int
		code               string
	}{
		{"seq 0", http.MethodPut, "/0", strings.NewReader("x"), 0, 400, parent.CodeBadRequest},
		{"seq not a number", http.MethodPut, "/abc", strings.NewReader("x"), 0, 400, parent.CodeBadRequest},
		{"seq negative", http.MethodPut, "/-1", strings.NewReader("x"), 0, 400, parent.CodeBadRequest},
		{"seq overflows", http.MethodPut, "/18446744073709551616", strings.NewReader("x"), 0, 400, parent.CodeBadRequest},
		{"declared too large", http.MethodPut, "/20", strings.NewReader(strings.Repeat("x", 1<<20+1)), 1<<20 + 1, 413, parent.CodeBodyTooLarge},
		{"streamed too large", http.MethodPut, "/20", io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20+1))), -1, 413, parent.CodeBodyTooLarge},
		{"wrong method", http.MethodPost, "/20", strings.NewReader("x"), 0, 404, parent.CodeNoRoute},
		{"unknown route", http.MethodGet, "/oldest", nil, 0, 404, parent.CodeNoRoute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := do(t, tc.method, srv.URL+parent.RouteSnapshot+tc.path, tc.body, tc.length)
			if res.StatusCode != tc.status || (tc.code != "" && errorCode(t, b) != tc.code) {
				t.Fatalf("%s %s: %s %s", tc.method, tc.path, res.Status, b)
			}
			res, b = do(t, http.MethodGet, latestURL, nil, 0)
			if res.Header.Get(parent.HeaderSnapshotSeq) != "17" || !bytes.Equal(b, snap) {
				t.Fatal("bad input changed the stored snapshot")
			}
		})
	}

	t.Run("log routes still reach the host", func(t *testing.T) {
		res, b := do(t, http.MethodPut, srv.URL+"/internal/v1/log/0", strings.NewReader("record"), 0)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("log put through the wrapped handler: %s %s", res.Status, b)
		}
	})
}

func TestSnapshotRoutesStoreFailure(t *testing.T) {
	srv := snapshotServer(t, failingSnapshots{}, 0)
	res, b := do(t, http.MethodPut, srv.URL+parent.RouteSnapshot+"/3", strings.NewReader("snapshot"), 0)
	if res.StatusCode != http.StatusInternalServerError || errorCode(t, b) != parent.CodeInternal {
		t.Fatalf("put on a failing disk: %s %s", res.Status, b)
	}
	res, b = do(t, http.MethodGet, srv.URL+parent.RouteSnapshot+"/latest", nil, 0)
	if res.StatusCode != http.StatusInternalServerError || errorCode(t, b) != parent.CodeInternal {
		t.Fatalf("latest on a failing disk: %s %s", res.Status, b)
	}
}

// truncatedSnapshots serves a snapshot whose file ends early.
type truncatedSnapshots struct{ failingSnapshots }

type shortReader struct{ io.Reader }

func (shortReader) Close() error     { return nil }
func (shortReader) Size() int64      { return 1000 }
func (s shortReader) String() string { return "short" }

func (truncatedSnapshots) LatestSnapshot(context.Context) (uint64, parent.SnapshotReader, error) {
	return 5, shortReader{strings.NewReader("only 20 bytes here..")}, nil
}

// TestSnapshotRoutesTruncated: a snapshot that cannot be read whole reaches
// the enclave as a broken transfer, never as a clean short body.
func TestSnapshotRoutesTruncated(t *testing.T) {
	srv := snapshotServer(t, truncatedSnapshots{}, 0)
	res, err := http.Get(srv.URL + parent.RouteSnapshot + "/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading a truncated snapshot: %v, want unexpected EOF", err)
	}
}

func TestNewSnapshotHost(t *testing.T) {
	if _, err := parent.NewSnapshotHost(parent.SnapshotHostConfig{}); !errors.Is(err, parent.ErrConfig) {
		t.Fatalf("no store: %v", err)
	}
	reg := prometheus.NewRegistry()
	cfg := parent.SnapshotHostConfig{Store: failingSnapshots{}, Registry: reg}
	if _, err := parent.NewSnapshotHost(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.NewSnapshotHost(cfg); err == nil {
		t.Fatal("registering the metrics twice in one registry succeeded")
	}
}
