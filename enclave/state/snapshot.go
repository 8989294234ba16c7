package state

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/facesign/facesign/wire"
)

// Snapshot stream: "FSSNAP01" ‖ len(4) ‖ CBOR snapHeader ‖ chunks, each
// len(4) ‖ nonce(12) ‖ AES-GCM(entries) with additional data binding the
// log, the header's hash, the chunk index and whether it is the last.
const (
	snapMagic     = "FSSNAP01"
	chunkEntries  = 4096
	maxSnapHeader = 4096
)

type snapHeader struct {
	LogID        []byte `cbor:"log_id"`
	Next         uint64 `cbor:"next"`  // records covered: [0, Next)
	Head         []byte `cbor:"head"`  // chain hash of record Next-1
	Count        uint64 `cbor:"count"` // live identities
	EntrySize    int    `cbor:"entry_size"`
	ChunkEntries int    `cbor:"chunk_entries"`
}

func (j *Journal) chunkAAD(hdrHash [32]byte, i uint64, final bool) []byte {
	b := append([]byte(Format+"/snapshot"), j.logID...)
	b = append(b, hdrHash[:]...)
	b = binary.BigEndian.AppendUint64(b, i)
	if final {
		return append(b, 1)
	}
	return append(b, 0)
}

// Snapshot writes a snapshot of the current state now and waits for it.
func (j *Journal) Snapshot(ctx context.Context) error {
	j.mu.Lock()
	if !j.ready {
		j.mu.Unlock()
		return ErrNotReplayed
	}
	if j.opts.Snapshots == nil {
		j.mu.Unlock()
		return fmt.Errorf("%w: no snapshot store", ErrOptions)
	}
	if j.acked.N != j.next {
		j.mu.Unlock()
		return fmt.Errorf("%w: %d records, %d acknowledged: snapshots are taken of acknowledged state only", ErrNotAcked, j.next, j.acked.N)
	}
	next, head, v := j.captureLocked()
	j.mu.Unlock()
	return j.writeSnapshot(ctx, next, head, v)
}

func (j *Journal) startSnapshotLocked() {
	next, head, v := j.captureLocked()
	j.snapping = true
	j.snapWG.Add(1)
	go func() {
		defer j.snapWG.Done()
		err := j.writeSnapshot(context.Background(), next, head, v)
		j.mu.Lock()
		j.snapping = false
		j.mu.Unlock()
		if err != nil {
			j.log.Error("snapshot failed; the log still holds everything", "next", next, "error", err)
		}
	}()
}

// captureLocked takes a copy-on-write view of the live set, so the
// snapshot can be sealed and written while appends go on. It costs the
// pages appends and deletes touch while the snapshot is written, not a
// copy of the gallery.
func (j *Journal) captureLocked() (uint64, [32]byte, *view) {
	return j.next, j.head, j.live.capture()
}

// writeSnapshot seals v chunk by chunk through one reused buffer and
// streams it to the store; it releases v before it returns.
func (j *Journal) writeSnapshot(ctx context.Context, next uint64, head [32]byte, v *view) error {
	defer func() {
		j.mu.Lock()
		j.live.release(v)
		j.mu.Unlock()
	}()
	stride := v.stride
	count := v.count
	h := snapHeader{LogID: j.logID, Next: next, Head: head[:], Count: uint64(count), EntrySize: stride, ChunkEntries: chunkEntries}
	hb, err := wire.Marshal(h)
	if err != nil {
		return err
	}
	hh := sha256.Sum256(hb)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		plain := make([]byte, chunkEntries*stride)
		sealed := make([]byte, 12, 12+len(plain)+16)
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := func() error {
			if _, err := bw.WriteString(snapMagic); err != nil {
				return err
			}
			if err := writeFrame(bw, hb); err != nil {
				return err
			}
			written := 0
			for i := uint64(0); ; i++ {
				n := v.fill(plain)
				written += n
				if n < chunkEntries && written != count {
					return fmt.Errorf("state: snapshot view holds %d entries, counted %d", written, count)
				}
				final := written == count
				if _, err := io.ReadFull(j.opts.Rand, sealed[:12]); err != nil {
					return err
				}
				out := j.aead.Seal(sealed[:12], sealed[:12], plain[:n*stride], j.chunkAAD(hh, i, final))
				if err := writeFrame(bw, out); err != nil {
					return err
				}
				if final {
					return bw.Flush()
				}
			}
		}()
		clear(plain)
		pw.CloseWithError(err)
	}()
	err = j.opts.Snapshots.PutSnapshot(ctx, next, pr)
	pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
	<-done
	if err != nil {
		return fmt.Errorf("%w: snapshot at %d: %w", ErrWrite, next, err)
	}
	j.mu.Lock()
	if next > j.lastSnap {
		j.lastSnap = next
	}
	j.mu.Unlock()
	j.log.Info("snapshot written", "next", next, "identities", count)
	return nil
}

func writeFrame(w io.Writer, b []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// readFrame reads one frame into buf (grown when too small) and returns it.
func readFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := int(binary.BigEndian.Uint32(n[:]))
	if size > max {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", size, max)
	}
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	b := buf[:size]
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// loadSnapshot applies the latest snapshot, if any, to the live set and
// reports whether there was one.
func (j *Journal) loadSnapshot(ctx context.Context) (bool, error) {
	seq, rc, err := j.opts.Snapshots.LatestSnapshot(ctx)
	if errors.Is(err, ErrNoSnapshot) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: reading the latest snapshot: %w", err)
	}
	defer rc.Close()
	bad := func(format string, args ...any) (bool, error) {
		return false, fmt.Errorf("%w: snapshot %d: %s", ErrSnapshot, seq, fmt.Sprintf(format, args...))
	}
	r := bufio.NewReaderSize(rc, 1<<20)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapMagic {
		return bad("not a snapshot")
	}
	hb, err := readFrame(r, nil, maxSnapHeader)
	if err != nil {
		return bad("header: %v", err)
	}
	var h snapHeader
	if err := wire.Unmarshal(hb, &h); err != nil {
		return bad("header: %v", err)
	}
	switch {
	case string(h.LogID) != string(j.logID):
		return bad("belongs to another log")
	case h.Next != seq || h.Next < 1:
		return bad("stored under %d but covers %d records", seq, h.Next)
	case h.EntrySize != j.live.stride || h.ChunkEntries != chunkEntries || len(h.Head) != 32:
		return bad("unexpected parameters")
	}
	hh := sha256.Sum256(hb)
	stride := j.live.stride
	maxChunk := 12 + chunkEntries*stride + 16
	var buf []byte // one read buffer for every chunk
	var got uint64
	for i := uint64(0); ; i++ {
		sealed, err := readFrame(r, buf, maxChunk)
		if err != nil {
			return bad("chunk %d: %v", i, err)
		}
		buf = sealed
		remaining := h.Count - got
		want := min(remaining, chunkEntries)
		final := remaining <= chunkEntries
		if len(sealed) != 12+int(want)*stride+16 {
			return bad("chunk %d has the wrong size", i)
		}
		aad := j.chunkAAD(hh, i, final)
		errOpen := errors.New("does not open")
		open := func(dst []byte) error {
			if _, err := j.aead.Open(dst[:0], sealed[:12], sealed[12:], aad); err != nil {
				return errOpen
			}
			if i == 0 {
				// The chunk opened under the header's hash, so the header
				// is the enclave's own: its count may size the index.
				j.live.reserve(int(min(h.Count, maxSlots)))
			}
			return nil
		}
		if want == 0 {
			err = open(nil)
		} else {
			// Decrypt straight into the set's next page: no copy.
			err = j.live.loadPage(int(want), open)
		}
		switch {
		case err == nil:
		case errors.Is(err, errOpen):
			return bad("chunk %d does not open (tampered, reordered, truncated, or another key)", i)
		case err != nil:
			return bad("chunk %d: %v", i, err)
		}
		got += want
		if final {
			break
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return bad("trailing data")
	}
	copy(j.head[:], h.Head)
	j.next = h.Next
	j.log.Info("snapshot loaded", "next", h.Next, "identities", h.Count)
	return true, nil
}

// checkSnapshotHead verifies that record seq = next-1 of the log hashes to
// the snapshot's head (j.head), so a snapshot cannot stand for a different
// history.
func (j *Journal) checkSnapshotHead(seq uint64, rec []byte) error {
	if seq == 0 {
		if sha256.Sum256(rec) != j.head {
			return fmt.Errorf("%w: snapshot head does not match the log header", ErrSnapshot)
		}
		return nil
	}
	if len(rec) != j.recordSize() {
		return fmt.Errorf("%w: record %d is %d bytes", ErrCorrupt, seq, len(rec))
	}
	plain, err := j.aead.Open(nil, rec[:12], rec[12:], j.recordAAD(seq))
	if err != nil {
		return fmt.Errorf("%w: record %d does not open", ErrCorrupt, seq)
	}
	var prev [32]byte
	copy(prev[:], plain[:32])
	clear(plain)
	if sha256.Sum256(append(prev[:], rec...)) != j.head {
		return fmt.Errorf("%w: snapshot at %d does not match the log", ErrSnapshot, j.next)
	}
	return nil
}
