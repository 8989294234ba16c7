package parent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/facesign/facesign/enclave/wire"
)

// MediaLogStream is the media type of GET /internal/v1/log: the frames of
// docs/protocol.md §7, seq (uint64 big-endian) ‖ length (uint32 big-endian) ‖
// record, one per stored record with sequence ≥ from, in order (encoded with
// [wire.AppendLogFrame]). The body is sent with chunked transfer encoding; if
// reading the store fails part-way the connection is aborted, so the reader
// sees an unexpected EOF instead of a short, clean stream.
const MediaLogStream = "application/octet-stream"

func (s *Server) buildHost() {
	mux := http.NewServeMux()
	if s.cfg.Store != nil {
		mux.HandleFunc("PUT "+wire.RouteLog+"/{seq}", s.putLog)
		mux.HandleFunc("GET "+wire.RouteLog, s.getLog)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, CodeNoRoute, "no such host service")
	})
	s.host = mux
}

func (s *Server) putLog(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "log sequence must be a decimal uint64")
		return
	}
	rec, ok := s.readBody(w, r, s.cfg.MaxRecordBytes)
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

func (s *Server) getLog(w http.ResponseWriter, r *http.Request) {
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
