package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxRecordSize bounds one sealed record in the host log.
const MaxRecordSize = 1 << 20

// ErrBadLogStream reports a malformed GET /internal/v1/log stream.
var ErrBadLogStream = errors.New("wire: malformed log stream")

// AppendLogFrame appends one frame of the GET /internal/v1/log stream to b:
// seq (uint64 big-endian) ‖ length (uint32 big-endian) ‖ record.
func AppendLogFrame(b []byte, seq uint64, rec []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(rec)))
	return append(b, rec...)
}

// ReadLogStream parses frames written by [AppendLogFrame] until EOF and calls
// fn for each. A record above [MaxRecordSize] or a truncated frame is
// [ErrBadLogStream]; an error from fn stops the read and is returned.
func ReadLogStream(r io.Reader, fn func(seq uint64, rec []byte) error) error {
	br := bufio.NewReader(r)
	var hdr [12]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("%w: truncated frame header", ErrBadLogStream)
		}
		seq := binary.BigEndian.Uint64(hdr[:8])
		n := binary.BigEndian.Uint32(hdr[8:])
		if n > MaxRecordSize {
			return fmt.Errorf("%w: record %d claims %d bytes", ErrBadLogStream, seq, n)
		}
		rec := make([]byte, n)
		if _, err := io.ReadFull(br, rec); err != nil {
			return fmt.Errorf("%w: truncated record %d", ErrBadLogStream, seq)
		}
		if err := fn(seq, rec); err != nil {
			return err
		}
	}
}
