package parent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/facesign/facesign/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// MediaLogStream is the media type of GET /internal/v1/log: the frames of
// docs/protocol.md §7, seq (uint64 big-endian) ‖ length (uint32 big-endian) ‖
// record, one per stored record with sequence ≥ from, in order (encoded with
// [wire.AppendLogFrame]). The body is sent with chunked transfer encoding; if
// reading the store fails part-way the connection is aborted, so the reader
// sees an unexpected EOF instead of a short, clean stream.
const MediaLogStream = "application/octet-stream"

// HostConfig configures a [Host].
type HostConfig struct {
	// Store keeps the sealed records. Required.
	Store Store
	// Logger receives failures (never record bytes); nil discards.
	Logger *slog.Logger
	// Registry receives the host-services metrics; nil makes a private one.
	// Pass the [Config.Registry] of the public [Server] so /metrics shows both.
	Registry *prometheus.Registry
	// MaxRecordBytes caps one record; 0 means [DefaultMaxRecordBytes].
	MaxRecordBytes int64
}

// Host serves the host-services API only the enclave may reach
// (docs/protocol.md §7): PUT /internal/v1/log/{seq} and
// GET /internal/v1/log?from={seq}. Serve it on a listener nobody else can
// connect to (vsock port 5001 on Nitro, a unix socket in the simulator's
// private data directory).
type Host struct {
	cfg HostConfig
	log *slog.Logger
	m   *hostMetrics
	h   http.Handler
}

// NewHost makes the host-services handler.
func NewHost(cfg HostConfig) (*Host, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = DefaultMaxRecordBytes
	}
	h := &Host{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newHostMetrics(reg)
	if err != nil {
		return nil, err
	}
	h.m = m
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+wire.RouteLog+"/{seq}", h.putLog)
	mux.HandleFunc("GET "+wire.RouteLog, h.getLog)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, CodeNoRoute, "no such host service")
	})
	h.h = mux
	return h, nil
}

// Handler is the host-services API.
func (h *Host) Handler() http.Handler { return h.h }

func (s *Host) putLog(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "log sequence must be a decimal uint64")
		return
	}
	rec, ok := readBody(w, r, s.cfg.MaxRecordBytes)
	if !ok {
		s.m.logWrites.WithLabelValues("error").Inc()
		return
	}
	err = s.cfg.Store.Put(r.Context(), seq, rec)
	switch {
	case err == nil:
		s.m.logWrites.WithLabelValues("ok").Inc()
		s.m.logBytes.Add(float64(len(rec)))
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrConflict):
		s.m.logWrites.WithLabelValues("conflict").Inc()
		s.log.Warn("log write conflict", slog.Uint64("seq", seq))
		writeError(w, http.StatusConflict, CodeConflict, fmt.Sprintf("record %d exists with different content", seq))
	default:
		s.m.logWrites.WithLabelValues("error").Inc()
		s.log.Error("log write failed", slog.Uint64("seq", seq), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, CodeInternal, "the record could not be stored durably")
	}
}

func (s *Host) getLog(w http.ResponseWriter, r *http.Request) {
	var from uint64
	if v := r.URL.Query().Get("from"); v != "" {
		var err error
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "from must be a decimal uint64")
			return
		}
	}
	w.Header().Set("Content-Type", MediaLogStream)
	var n uint64
	var buf []byte
	err := s.cfg.Store.Scan(r.Context(), from, func(seq uint64, rec []byte) error {
		buf = wire.AppendLogFrame(buf[:0], seq, rec)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		s.log.Error("log read failed", slog.String("error", err.Error()))
		if n == 0 {
			w.Header().Del("Content-Type")
			writeError(w, http.StatusInternalServerError, CodeInternal, "the log could not be read")
			return
		}
		panic(http.ErrAbortHandler)
	}
}
