package enclave

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/facesign/facesign/wire"
)

// Dialer opens a connection to the parent's host services (vsock CID 3 port
// 5001 on Nitro; loopback or a unix socket in the simulator).
type Dialer func(ctx context.Context) (net.Conn, error)

// HostLog is the [Log] kept by the parent, reached over HTTP/1.1 on a
// [Dialer] (docs/protocol.md §7): PUT /internal/v1/log/{seq} and
// GET /internal/v1/log?from={seq}.
type HostLog struct {
	client *http.Client
}

var _ Log = (*HostLog)(nil)

// NewHostLog makes a [HostLog] that dials the parent with dial.
func NewHostLog(dial Dialer) *HostLog {
	tr := &http.Transport{
		DialContext:            func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:           4,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &HostLog{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// hostURL is the URL prefix; the host part is ignored by the dialer.
const hostURL = "http://parent"

// ErrHostStatus reports an unexpected status from the parent.
var ErrHostStatus = errors.New("enclave: parent answered with an unexpected status")

// Put implements [Log].
func (h *HostLog) Put(ctx context.Context, seq uint64, rec []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, hostURL+wire.RouteLog+"/"+strconv.FormatUint(seq, 10), bytes.NewReader(rec))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	switch res.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusConflict: // another record holds seq (docs/protocol.md §7)
		return fmt.Errorf("%w: %w: PUT log %d: %s", ErrLogConflict, ErrHostStatus, seq, res.Status)
	}
	return fmt.Errorf("%w: PUT log %d: %s", ErrHostStatus, seq, res.Status)
}

// Read implements [Log]. It reads the framed stream seq(8) ‖ len(4) ‖ record.
func (h *HostLog) Read(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hostURL+wire.RouteLog+"?from="+strconv.FormatUint(from, 10), nil)
	if err != nil {
		return err
	}
	client := *h.client
	client.Timeout = 0 // a long log may take a while; ctx bounds it
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET log: %s", ErrHostStatus, res.Status)
	}
	err = wire.ReadLogStream(io.LimitReader(res.Body, 1<<40), fn)
	if errors.Is(err, wire.ErrBadLogStream) {
		return fmt.Errorf("%w: %w", ErrJournalCorrupt, err)
	}
	return err
}
