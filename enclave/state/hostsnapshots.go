package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/facesign/facesign/enclave"
)

// Host-services snapshot routes (docs/protocol.md §7.1).
const (
	// RouteSnapshot is the prefix of PUT /internal/v1/snapshot/{seq} and
	// GET /internal/v1/snapshot/latest.
	RouteSnapshot = "/internal/v1/snapshot"
	// HeaderSnapshotSeq carries the seq of the snapshot a GET returns.
	HeaderSnapshotSeq = "Facesign-Snapshot-Seq"
	// DefaultMaxSnapshotBytes bounds a snapshot the enclave will read from
	// the parent: 64 GiB.
	DefaultMaxSnapshotBytes int64 = 64 << 30
)

// ErrSnapshotTooLarge reports a snapshot the parent offers that is over the
// reader's limit.
var ErrSnapshotTooLarge = errors.New("state: snapshot over the size limit")

// HostSnapshots is the [SnapshotStore] kept by the parent, reached over
// HTTP/1.1 on the same kind of [enclave.Dialer] as [enclave.HostLog]. It
// trusts nothing it gets back: the seq header only says which snapshot the
// parent claims to send, and the [Journal] checks the snapshot's own header,
// every sealed chunk and the log's hash chain against it. What this client
// guarantees is that reads are bounded (a parent cannot make the enclave
// read more than the limit) and that only a 204 counts as durable.
type HostSnapshots struct {
	client *http.Client
	max    int64
}

var _ SnapshotStore = (*HostSnapshots)(nil)

// NewHostSnapshots makes a [HostSnapshots] that dials the parent with dial
// and refuses snapshots over maxBytes (0: [DefaultMaxSnapshotBytes]).
func NewHostSnapshots(dial enclave.Dialer, maxBytes int64) *HostSnapshots {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxSnapshotBytes
	}
	tr := &http.Transport{
		DialContext:            func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:           2,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 16 << 10,
		// A PUT's answer comes after the parent made the whole upload
		// durable; a GET's headers come before the body.
		ResponseHeaderTimeout: 2 * time.Minute,
	}
	// No overall timeout: a large snapshot takes as long as it takes; the
	// caller's context bounds it.
	return &HostSnapshots{client: &http.Client{Transport: tr}, max: maxBytes}
}

const hostURL = "http://parent"

// PutSnapshot implements [SnapshotStore]: it streams r to the parent and
// returns nil only on 204 No Content, the parent's word that the snapshot
// is durable.
func (h *HostSnapshots) PutSnapshot(ctx context.Context, seq uint64, r io.Reader) error {
	if seq == 0 {
		return fmt.Errorf("%w: snapshot at seq 0", ErrOptions)
	}
	// Hide any io.WriterTo/Len of r so the body is always streamed chunked.
	body := io.NopCloser(struct{ io.Reader }{r})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, hostURL+RouteSnapshot+"/"+strconv.FormatUint(seq, 10), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("state: snapshot put %d: %w", seq, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: PUT snapshot %d: %s", enclave.ErrHostStatus, seq, res.Status)
	}
	return nil
}

// LatestSnapshot implements [SnapshotStore]. A 404 is [ErrNoSnapshot]; a
// seq header that is missing or not a decimal ≥ 1, or a declared length
// over the limit, is an error; the body is cut off with
// [ErrSnapshotTooLarge] past the limit.
func (h *HostSnapshots) LatestSnapshot(ctx context.Context) (uint64, io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hostURL+RouteSnapshot+"/latest", nil)
	if err != nil {
		return 0, nil, err
	}
	res, err := h.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("state: snapshot latest: %w", err)
	}
	fail := func(err error) (uint64, io.ReadCloser, error) {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		res.Body.Close()
		return 0, nil, err
	}
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return fail(ErrNoSnapshot)
	default:
		return fail(fmt.Errorf("%w: GET latest snapshot: %s", enclave.ErrHostStatus, res.Status))
	}
	seq, err := strconv.ParseUint(res.Header.Get(HeaderSnapshotSeq), 10, 64)
	if err != nil || seq == 0 {
		return fail(fmt.Errorf("%w: the parent sent a snapshot without a valid %s header", ErrSnapshot, HeaderSnapshotSeq))
	}
	if res.ContentLength > h.max {
		return fail(fmt.Errorf("%w: %d bytes offered, limit %d", ErrSnapshotTooLarge, res.ContentLength, h.max))
	}
	return seq, &boundedBody{rc: res.Body, left: h.max}, nil
}

// boundedBody reads at most left bytes and fails beyond them.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrSnapshotTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, ErrSnapshotTooLarge
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
