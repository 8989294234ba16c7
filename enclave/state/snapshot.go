package state

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/facesign/facesign/enclave/wire"
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
	next, head, packed := j.captureLocked()
	j.mu.Unlock()
	return j.writeSnapshot(ctx, next, head, packed)
}

func (j *Journal) startSnapshotLocked() {
	next, head, packed := j.captureLocked()
	j.snapping = true
	j.snapWG.Add(1)
	go func() {
		defer j.snapWG.Done()
		err := j.writeSnapshot(context.Background(), next, head, packed)
		j.mu.Lock()
		j.snapping = false
		j.mu.Unlock()
		if err != nil {
			j.log.Error("snapshot failed; the log still holds everything", "next", next, "error", err)
		}
	}()
}

// captureLocked copies the live set, so the snapshot can be sealed and
// written while appends go on. It costs one copy of the gallery in memory.
func (j *Journal) captureLocked() (uint64, [32]byte, []byte) {
	return j.next, j.head, j.live.packed()
}

func (j *Journal) writeSnapshot(ctx context.Context, next uint64, head [32]byte, packed []byte) error {
	stride := j.live.stride
	count := len(packed) / stride
	h := snapHeader{LogID: j.logID, Next: next, Head: head[:], Count: uint64(count), EntrySize: stride, ChunkEntries: chunkEntries}
	hb, err := wire.Marshal(h)
	if err != nil {
		return err
	}
	hh := sha256.Sum256(hb)
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := func() error {
			if _, err := bw.WriteString(snapMagic); err != nil {
				return err
			}
			if err := writeFrame(bw, hb); err != nil {
				return err
			}
			for i := uint64(0); ; i++ {
				lo := int(i) * chunkEntries * stride
				hi := min(lo+chunkEntries*stride, len(packed))
				chunk := packed[lo:hi]
				final := hi >= len(packed)
				nonce := make([]byte, 12)
				if _, err := io.ReadFull(j.opts.Rand, nonce); err != nil {
					return err
				}
				sealed := j.aead.Seal(nonce, nonce, chunk, j.chunkAAD(hh, i, final))
				if err := writeFrame(bw, sealed); err != nil {
					return err
				}
				if final {
					return bw.Flush()
				}
			}
		}()
		clear(packed)
		pw.CloseWithError(err)
	}()
	if err := j.opts.Snapshots.PutSnapshot(ctx, next, pr); err != nil {
		pr.CloseWithError(err)
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

func readFrame(r io.Reader, max int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := int(binary.BigEndian.Uint32(n[:]))
	if size > max {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", size, max)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// loadSnapshot applies the latest snapshot, if any, to the live set.
func (j *Journal) loadSnapshot(ctx context.Context) error {
	seq, rc, err := j.opts.Snapshots.LatestSnapshot(ctx)
	if errors.Is(err, ErrNoSnapshot) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: reading the latest snapshot: %w", err)
	}
	defer rc.Close()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: snapshot %d: %s", ErrSnapshot, seq, fmt.Sprintf(format, args...))
	}
	r := bufio.NewReaderSize(rc, 1<<20)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapMagic {
		return bad("not a snapshot")
	}
	hb, err := readFrame(r, maxSnapHeader)
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
	var got uint64
	for i := uint64(0); ; i++ {
		sealed, err := readFrame(r, maxChunk)
		if err != nil {
			return bad("chunk %d: %v", i, err)
		}
		remaining := h.Count - got
		want := min(remaining, chunkEntries)
		final := remaining <= chunkEntries
		if len(sealed) != 12+int(want)*stride+16 {
			return bad("chunk %d has the wrong size", i)
		}
		plain, err := j.aead.Open(nil, sealed[:12], sealed[12:], j.chunkAAD(hh, i, final))
		if err != nil {
			return bad("chunk %d does not open (tampered, reordered, truncated, or another key)", i)
		}
		for k := 0; k < int(want); k++ {
			b := plain[k*stride : (k+1)*stride]
			var id [16]byte
			copy(id[:], b)
			if err := j.live.add(id, b[idSize:idSize+entropySize], b[idSize+entropySize:]); err != nil {
				clear(plain)
				return bad("chunk %d entry %d: %v", i, k, err)
			}
		}
		clear(plain)
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
	return nil
}

// checkSnapshotHead verifies that record next-1 in the log hashes to the
// snapshot's head, so a snapshot cannot stand for a different history.
func (j *Journal) checkSnapshotHead(ctx context.Context) error {
	want := j.next - 1
	found := false
	err := j.opts.Log.Read(ctx, want, func(seq uint64, rec []byte) error {
		if seq != want {
			return fmt.Errorf("%w: record %d where %d was expected", ErrCorrupt, seq, want)
		}
		found = true
		if seq == 0 {
			if sha256.Sum256(rec) != j.head {
				return fmt.Errorf("%w: snapshot head does not match the log header", ErrSnapshot)
			}
			return errStop
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
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if !found {
		return fmt.Errorf("%w: the snapshot covers %d records but the log is shorter", ErrRollback, j.next)
	}
	return nil
}
