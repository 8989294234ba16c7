package parent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A SnapshotStore keeps the enclave's sealed snapshots: opaque streams, each
// covering the log records [0, seq). Like a [Store] it is trusted only for
// availability: the enclave checks every byte of a snapshot against its log.
type SnapshotStore interface {
	// PutSnapshot stores the stream r as the snapshot at seq (≥ 1) and
	// returns only once it is durable and visible as a whole. A snapshot
	// under an existing seq replaces it atomically (two snapshots at one seq
	// describe the same state). On any error — r failing, the size limit,
	// ctx ending — nothing becomes visible.
	PutSnapshot(ctx context.Context, seq uint64, r io.Reader) error
	// LatestSnapshot opens the snapshot with the highest seq, or returns
	// [ErrNoSnapshot]. The reader yields exactly the bytes stored; its Size
	// is their number.
	LatestSnapshot(ctx context.Context) (seq uint64, r SnapshotReader, err error)
}

// A SnapshotReader reads one stored snapshot.
type SnapshotReader interface {
	io.ReadCloser
	// Size is the snapshot's length in bytes.
	Size() int64
}

var (
	// ErrNoSnapshot reports a snapshot store that holds none.
	ErrNoSnapshot = errors.New("parent: no snapshot")
	// ErrSnapshotTooLarge reports a snapshot over the store's size limit.
	ErrSnapshotTooLarge = errors.New("parent: snapshot too large")
	// ErrSnapshotSeq reports a snapshot sequence number of 0 (a snapshot
	// covers at least the log's header record).
	ErrSnapshotSeq = errors.New("parent: snapshot sequence must be at least 1")
)

// Snapshot defaults.
const (
	// DefaultMaxSnapshotBytes caps one snapshot: 64 GiB, room for tens of
	// millions of 192-dimensional identities (816 bytes each plus framing).
	DefaultMaxSnapshotBytes int64 = 64 << 30
	// DefaultKeepSnapshots is how many snapshots a store keeps: the latest
	// and the one before it, so an operator can fall back by deleting a
	// snapshot the enclave refuses.
	DefaultKeepSnapshots = 2
)

// SnapshotOptions configures a snapshot store.
type SnapshotOptions struct {
	// MaxBytes caps one snapshot; 0 means [DefaultMaxSnapshotBytes].
	MaxBytes int64
	// Keep is how many snapshots survive a put (the highest seqs); 0 means
	// [DefaultKeepSnapshots].
	Keep int
}

func (o SnapshotOptions) withDefaults() SnapshotOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxSnapshotBytes
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeepSnapshots
	}
	return o
}

// DirSnapshots is a [SnapshotStore] on a local directory: one file per
// snapshot named by its zero-padded seq. A put streams into a temporary file
// in the same directory, fsyncs it, renames it into place and fsyncs the
// directory, so a snapshot is either absent or complete and durable; a crash
// leaves at most a temporary file, removed at the next open.
type DirSnapshots struct {
	dir  string
	opts SnapshotOptions
	mu   sync.Mutex // serialises rename and pruning
}

var _ SnapshotStore = (*DirSnapshots)(nil)

const (
	snapshotSuffix = ".snap"
	snapshotTmp    = ".tmp-snap-"
)

// OpenDirSnapshots opens (creating if needed, mode 0700) a snapshot
// directory. Use a directory of its own, not the log's.
func OpenDirSnapshots(dir string, o SnapshotOptions) (*DirSnapshots, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty snapshot directory", ErrConfig)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("parent: open snapshots: %w", err)
	}
	removeStaleTemps(dir, snapshotTmp) // interrupted puts, never acknowledged
	return &DirSnapshots{dir: dir, opts: o.withDefaults()}, nil
}

func snapshotName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, snapshotSuffix) }

func parseSnapshotName(name string) (uint64, bool) {
	num, ok := strings.CutSuffix(name, snapshotSuffix)
	if !ok || len(num) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return 0, false
	}
	return seq, true
}

// limitedReader reads at most max bytes of r and fails with
// [ErrSnapshotTooLarge] if r holds more; it also stops when ctx ends.
type limitedReader struct {
	ctx  context.Context
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if l.left < 0 {
		return 0, ErrSnapshotTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, ErrSnapshotTooLarge
	}
	return n, err
}

// PutSnapshot implements [SnapshotStore].
func (s *DirSnapshots) PutSnapshot(ctx context.Context, seq uint64, r io.Reader) error {
	if seq == 0 {
		return ErrSnapshotSeq
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, tempPattern(snapshotTmp))
	if err != nil {
		return fmt.Errorf("parent: snapshot put: %w", err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, &limitedReader{ctx: ctx, r: r, left: s.opts.MaxBytes}); err != nil {
		return fmt.Errorf("parent: snapshot put %d: %w", seq, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("parent: snapshot put: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("parent: snapshot put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(tmp, filepath.Join(s.dir, snapshotName(seq))); err != nil {
		return fmt.Errorf("parent: snapshot put: %w", err)
	}
	committed = true
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("parent: snapshot put: fsync directory: %w", err)
	}
	// Prune beyond Keep. A removal lost in a crash only leaves an old
	// snapshot behind, which is harmless.
	seqs, err := s.list()
	if err != nil {
		return nil // the snapshot is durable; pruning waits for the next put
	}
	for _, old := range seqs[:max(0, len(seqs)-s.opts.Keep)] {
		_ = os.Remove(filepath.Join(s.dir, snapshotName(old)))
	}
	return nil
}

// list returns the stored snapshot seqs in ascending order.
func (s *DirSnapshots) list() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseSnapshotName(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

type fileSnapshot struct {
	*os.File
	size int64
}

func (f fileSnapshot) Size() int64 { return f.size }

// LatestSnapshot implements [SnapshotStore].
func (s *DirSnapshots) LatestSnapshot(ctx context.Context) (uint64, SnapshotReader, error) {
	// A concurrent put may prune the file between listing and opening it;
	// a newer one then exists, so look again.
	for range 8 {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		seqs, err := s.list()
		if err != nil {
			return 0, nil, fmt.Errorf("parent: snapshot list: %w", err)
		}
		if len(seqs) == 0 {
			return 0, nil, ErrNoSnapshot
		}
		seq := seqs[len(seqs)-1]
		f, err := os.Open(filepath.Join(s.dir, snapshotName(seq)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("parent: snapshot open: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return 0, nil, fmt.Errorf("parent: snapshot open: %w", err)
		}
		return seq, fileSnapshot{File: f, size: fi.Size()}, nil
	}
	return 0, nil, errors.New("parent: snapshot open: snapshots keep changing")
}

// Host-services routes for snapshots (docs/protocol.md §7.1).
const (
	// RouteSnapshot is the prefix of PUT /internal/v1/snapshot/{seq} and
	// GET /internal/v1/snapshot/latest.
	RouteSnapshot = "/internal/v1/snapshot"
	// HeaderSnapshotSeq carries the seq of the snapshot a GET returns.
	HeaderSnapshotSeq = "Facesign-Snapshot-Seq"
	// CodeNoSnapshot answers GET /internal/v1/snapshot/latest when the
	// store holds none (404).
	CodeNoSnapshot = "no_snapshot"
	// DefaultSnapshotTransferTimeout bounds one snapshot upload or download.
	DefaultSnapshotTransferTimeout = 30 * time.Minute
)

// SnapshotHostConfig configures a [SnapshotHost].
type SnapshotHostConfig struct {
	// Store keeps the snapshots. Required.
	Store SnapshotStore
	// Logger receives failures (never snapshot bytes); nil discards.
	Logger *slog.Logger
	// Registry receives the snapshot metrics; nil makes a private one.
	Registry prometheus.Registerer
	// MaxBytes caps one upload before the store sees it; 0 means
	// [DefaultMaxSnapshotBytes].
	MaxBytes int64
	// TransferTimeout replaces the HTTP server's read and write deadlines
	// for one snapshot transfer (they are sized for small requests); 0
	// means [DefaultSnapshotTransferTimeout].
	TransferTimeout time.Duration
}

// SnapshotHost serves the snapshot routes of the host services, which only
// the enclave may reach:
//
//	PUT /internal/v1/snapshot/{seq}   streamed body → 204 once durable
//	GET /internal/v1/snapshot/latest  → 200 with Facesign-Snapshot-Seq, or 404
//
// Mount it beside [Host] with [SnapshotHost.Wrap].
type SnapshotHost struct {
	cfg    SnapshotHostConfig
	log    *slog.Logger
	writes *prometheus.CounterVec
	bytes  prometheus.Counter
	reads  *prometheus.CounterVec
	rbytes prometheus.Counter
	mux    *http.ServeMux
}

// NewSnapshotHost makes the snapshot routes' handler.
func NewSnapshotHost(cfg SnapshotHostConfig) (*SnapshotHost, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no snapshot store", ErrConfig)
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxSnapshotBytes
	}
	if cfg.TransferTimeout <= 0 {
		cfg.TransferTimeout = DefaultSnapshotTransferTimeout
	}
	h := &SnapshotHost{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h.writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "snapshot_writes_total",
		Help: "Sealed snapshot uploads by result (ok, bad_request, too_large, error).",
	}, []string{"result"})
	h.bytes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "snapshot_bytes_total",
		Help: "Bytes of sealed snapshots durably written.",
	})
	h.reads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "snapshot_reads_total",
		Help: "Latest-snapshot reads by result (ok, none, error).",
	}, []string{"result"})
	h.rbytes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "snapshot_read_bytes_total",
		Help: "Bytes of sealed snapshots sent to the enclave.",
	})
	for _, c := range []prometheus.Collector{h.writes, h.bytes, h.reads, h.rbytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("PUT "+RouteSnapshot+"/{seq}", h.put)
	h.mux.HandleFunc("GET "+RouteSnapshot+"/latest", h.latest)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, CodeNoRoute, "no such host service")
	})
	return h, nil
}

// Handler serves the snapshot routes only (404 for anything else).
func (h *SnapshotHost) Handler() http.Handler { return h.mux }

// Wrap serves the snapshot routes and passes every other request to next
// (the log routes of [Host.Handler]), so one host-services listener serves
// both.
func (h *SnapshotHost) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == RouteSnapshot || strings.HasPrefix(r.URL.Path, RouteSnapshot+"/") {
			h.mux.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// extendDeadlines gives one snapshot transfer its own deadlines; servers
// whose connections cannot (for example httptest recorders) keep theirs.
func (h *SnapshotHost) extendDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	d := time.Now().Add(h.cfg.TransferTimeout)
	_ = rc.SetReadDeadline(d)
	_ = rc.SetWriteDeadline(d)
}

// bodyReader remembers the first error reading the request body, to tell a
// failing client from a failing store.
type bodyReader struct {
	r   io.Reader
	n   int64
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (h *SnapshotHost) put(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		h.writes.WithLabelValues("bad_request").Inc()
		writeError(w, http.StatusBadRequest, CodeBadRequest, "snapshot sequence must be a decimal uint64 ≥ 1")
		return
	}
	if r.ContentLength > h.cfg.MaxBytes {
		h.writes.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("snapshot over %d bytes", h.cfg.MaxBytes))
		return
	}
	h.extendDeadlines(w)
	body := &bodyReader{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBytes)}
	err = h.cfg.Store.PutSnapshot(r.Context(), seq, body)
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		h.writes.WithLabelValues("ok").Inc()
		h.bytes.Add(float64(body.n))
		w.WriteHeader(http.StatusNoContent)
	case errors.As(body.err, &mbe) || errors.Is(err, ErrSnapshotTooLarge):
		h.writes.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("snapshot over %d bytes", h.cfg.MaxBytes))
	case body.err != nil:
		h.writes.WithLabelValues("bad_request").Inc()
		writeError(w, http.StatusBadRequest, CodeBadRequest, "could not read the snapshot body")
	default:
		h.writes.WithLabelValues("error").Inc()
		h.log.Error("snapshot write failed", slog.Uint64("seq", seq), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, CodeInternal, "the snapshot could not be stored durably")
	}
}

func (h *SnapshotHost) latest(w http.ResponseWriter, r *http.Request) {
	seq, rc, err := h.cfg.Store.LatestSnapshot(r.Context())
	switch {
	case errors.Is(err, ErrNoSnapshot):
		h.reads.WithLabelValues("none").Inc()
		writeError(w, http.StatusNotFound, CodeNoSnapshot, "no snapshot stored")
		return
	case err != nil:
		h.reads.WithLabelValues("error").Inc()
		h.log.Error("snapshot read failed", slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, CodeInternal, "the snapshot could not be read")
		return
	}
	defer rc.Close()
	h.extendDeadlines(w)
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set(HeaderSnapshotSeq, strconv.FormatUint(seq, 10))
	hd.Set("Content-Length", strconv.FormatInt(rc.Size(), 10))
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush() // the enclave learns the seq before the bytes
	n, err := io.Copy(w, rc)
	if err != nil || n != rc.Size() {
		h.reads.WithLabelValues("error").Inc()
		h.log.Error("snapshot read failed part-way", slog.Uint64("seq", seq), slog.Int64("sent", n))
		// Abort the connection: the reader sees a short body, never a
		// clean end.
		panic(http.ErrAbortHandler)
	}
	h.reads.WithLabelValues("ok").Inc()
	h.rbytes.Add(float64(n))
}
