package parent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
)

// MediaLogStream is the media type of GET /internal/v1/log: a sequence of
// frames, each seq (uint64 big-endian) ‖ length (uint32 big-endian) ‖ record,
// ended by one trailer frame whose length field is 0xFFFFFFFF and whose seq
// field counts the records sent. A stream without its trailer was cut short.
const MediaLogStream = "application/vnd.facesign.log-stream"

// logStreamEnd marks the trailer frame of a log stream.
const logStreamEnd = 0xFFFFFFFF

func (s *Server) buildHost() {
	mux := http.NewServeMux()
	if s.cfg.Store != nil {
		mux.HandleFunc("PUT /internal/v1/log/{seq}", s.putLog)
		mux.HandleFunc("GET /internal/v1/log", s.getLog)
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
	err := s.cfg.Store.Scan(r.Context(), from, func(seq uint64, rec []byte) error {
		if err := writeLogFrame(w, seq, rec); err != nil {
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
		// Mid-stream: abort the connection so the reader sees no trailer.
		panic(http.ErrAbortHandler)
	}
	var t [12]byte
	binary.BigEndian.PutUint64(t[:8], n)
	binary.BigEndian.PutUint32(t[8:], logStreamEnd)
	_, _ = w.Write(t[:])
}

func writeLogFrame(w io.Writer, seq uint64, rec []byte) error {
	if uint64(len(rec)) >= logStreamEnd {
		return fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, len(rec))
	}
	var h [12]byte
	binary.BigEndian.PutUint64(h[:8], seq)
	binary.BigEndian.PutUint32(h[8:], uint32(len(rec)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(rec)
	return err
}

// ErrTruncatedStream reports a log stream that ended without its trailer or
// whose trailer count does not match the records read.
var ErrTruncatedStream = errors.New("parent: log stream truncated")

// ReadLogStream decodes a [MediaLogStream] body, calling fn for each record
// (each at most maxRecord bytes). It fails with [ErrTruncatedStream] unless
// the stream ends with a trailer that counts exactly the records read.
func ReadLogStream(r io.Reader, maxRecord int, fn func(seq uint64, rec []byte) error) error {
	var n uint64
	for {
		var h [12]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return fmt.Errorf("%w: %v", ErrTruncatedStream, err)
		}
		seq := binary.BigEndian.Uint64(h[:8])
		l := binary.BigEndian.Uint32(h[8:])
		if l == logStreamEnd {
			if seq != n {
				return fmt.Errorf("%w: trailer counts %d records, read %d", ErrTruncatedStream, seq, n)
			}
			return nil
		}
		if int64(l) > int64(maxRecord) {
			return fmt.Errorf("%w: %d bytes at seq %d", ErrRecordTooLarge, l, seq)
		}
		rec := make([]byte, l)
		if _, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("%w: %v", ErrTruncatedStream, err)
		}
		if err := fn(seq, rec); err != nil {
			return err
		}
		n++
	}
}
