package syncbuf

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

var (
	_ io.Writer    = (*Buffer)(nil)
	_ fmt.Stringer = (*Buffer)(nil)
)

// Buffer is a bytes.Buffer safe for concurrent use.
type Buffer struct {
	// Limit, when positive, bounds what the buffer keeps: after each Write
	// only the last Limit bytes remain (the tail of a long-running
	// process's log). Zero keeps everything. Set it before first use.
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, then drops the oldest bytes beyond [Buffer.Limit]; it
// never fails.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.Limit > 0 && s.b.Len() > s.Limit {
		s.b.Next(s.b.Len() - s.Limit)
	}
	return n, err
}

// Tail returns the last n bytes written (all of them when fewer), for an
// error message that must stay readable.
func (s *Buffer) Tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	return string(b[len(b)-min(max(n, 0), len(b)):])
}

// Bytes returns a copy of everything written so far.
func (s *Buffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len is the number of bytes written so far.
func (s *Buffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
