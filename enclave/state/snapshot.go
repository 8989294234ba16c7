package state

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/wire"
)

// Snapshot stream: "FSSNAP01" ‖ len(4) ‖ CBOR snapHeader ‖ chunks, each
// len(4) ‖ nonce(12) ‖ AES-GCM(entries) with additional data binding the
// log, the header's hash, the chunk index and whether it is the last.
// The chunks hold Count identity entries (EntrySize bytes each), then
// Templates template entries (TemplateSize bytes each), chunkEntries to a
// chunk and never an identity and a template in one chunk; chunk indices
// run on across both. A snapshot without templates omits both template
// fields, so it is byte for byte what a journal without templates wrote.
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
	Templates    uint64 `cbor:"templates,omitempty"`     // further templates
	TemplateSize int    `cbor:"template_size,omitempty"` // bytes per template entry

	// Engine migrations (migration.go); absent when empty, so snapshots
	// without them read as before. Engine is the log's current engine,
	// RecordSize the size of the records after Next-1 when it is not the
	// header's; Mig* the migration in progress, whose MigCount slots
	// follow the identities and templates in chunks of their own (at
	// least one, even for none).
	Engine     string `cbor:"engine,omitempty"`
	RecordSize int    `cbor:"record_entry_size,omitempty"`
	MigEngine  string `cbor:"mig_engine,omitempty"`
	MigDim     int    `cbor:"mig_dim,omitempty"`
	MigCount   uint64 `cbor:"mig_count,omitempty"`
	// HeaderHash is SHA-256 of the log's header record (record 0): boot
	// from a snapshot never reads the chain from the header on, so the
	// header's clear fields (its engine) are bound here.
	HeaderHash []byte `cbor:"header_hash,omitempty"`
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

// snapView is what a snapshot reads: copy-on-write views of the
// identities, of the templates and of a migration's set, with the sets
// they were taken of (a migration's end replaces the journal's sets while
// a view is out), and the log's engine and record size at capture.
type snapView struct {
	ids, tpl, mig      *view
	idsOf, migOf       *liveSet[[16]byte]
	tplOf              *liveSet[tplKey]
	engine, migEngine  string
	recordSize, migDim int
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

// captureLocked takes a copy-on-write view of the live sets (identities,
// templates, a migration's set), so the snapshot can be sealed and written
// while appends go on. It costs the pages appends and deletes touch while
// the snapshot is written, not a copy of the gallery.
func (j *Journal) captureLocked() (uint64, [32]byte, snapView) {
	v := snapView{ids: j.live.capture(), idsOf: j.live, tpl: j.tpl.capture(), tplOf: j.tpl, engine: j.engine, recordSize: j.entrySize}
	if j.mig != nil {
		v.mig, v.migOf, v.migEngine, v.migDim = j.mig.set.capture(), j.mig.set, j.mig.engine, j.mig.dim
	}
	return j.next, j.head, v
}

// writeSnapshot seals v chunk by chunk through one reused buffer and
// streams it to the store; it releases v before it returns.
func (j *Journal) writeSnapshot(ctx context.Context, next uint64, head [32]byte, v snapView) error {
	defer func() {
		j.mu.Lock()
		v.idsOf.release(v.ids)
		v.tplOf.release(v.tpl)
		if v.mig != nil {
			v.migOf.release(v.mig)
		}
		j.mu.Unlock()
	}()
	h := snapHeader{LogID: j.logID, Next: next, Head: head[:], Count: uint64(v.ids.count), EntrySize: v.ids.stride, ChunkEntries: chunkEntries,
		Engine: v.engine, RecordSize: v.recordSize, HeaderHash: j.headerHash[:]}
	if v.tpl.count > 0 {
		h.Templates, h.TemplateSize = uint64(v.tpl.count), v.tpl.stride
	}
	stride := max(v.ids.stride, v.tpl.stride)
	if v.mig != nil {
		h.MigEngine, h.MigDim, h.MigCount = v.migEngine, v.migDim, uint64(v.mig.count)
		stride = max(stride, v.mig.stride)
	}
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
		chunk := uint64(0)
		// section seals every entry of one view; last marks the snapshot's
		// final chunk. An empty section of identities still writes one
		// (empty) chunk, so every snapshot has a final chunk.
		section := func(sv *view, count int, last bool) error {
			written := 0
			for {
				n := sv.fill(plain[:chunkEntries*sv.stride])
				written += n
				if n < chunkEntries && written != count {
					return fmt.Errorf("state: snapshot view holds %d entries, counted %d", written, count)
				}
				complete := written == count
				if _, err := io.ReadFull(j.opts.Rand, sealed[:12]); err != nil {
					return err
				}
				out := j.aead.Seal(sealed[:12], sealed[:12], plain[:n*sv.stride], j.chunkAAD(hh, chunk, complete && last))
				chunk++
				if err := writeFrame(bw, out); err != nil {
					return err
				}
				if complete {
					return nil
				}
			}
		}
		err := func() error {
			if _, err := bw.WriteString(snapMagic); err != nil {
				return err
			}
			if err := writeFrame(bw, hb); err != nil {
				return err
			}
			if err := section(v.ids, v.ids.count, h.Templates == 0 && v.mig == nil); err != nil {
				return err
			}
			if h.Templates > 0 {
				if err := section(v.tpl, v.tpl.count, v.mig == nil); err != nil {
					return err
				}
			}
			if v.mig != nil {
				if err := section(v.mig, v.mig.count, true); err != nil {
					return err
				}
			}
			return bw.Flush()
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
	j.log.Info("snapshot written", "next", next, "identities", v.ids.count, "templates", v.tpl.count)
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
func (j *Journal) loadSnapshot(ctx context.Context) (_ bool, err error) {
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
	case h.ChunkEntries != chunkEntries || len(h.Head) != 32:
		return bad("unexpected parameters")
	case h.EntrySize < idSize+entropySize+4 || (h.EntrySize-idSize-entropySize)%4 != 0 || (h.EntrySize-idSize-entropySize)/4 > maxDim:
		return bad("entry size %d", h.EntrySize)
	case h.RecordSize != 0 && (h.RecordSize < 128 || h.RecordSize > migrationOverhead+4*maxDim):
		return bad("record entry size %d", h.RecordSize)
	case h.MigEngine == "" && (h.MigDim != 0 || h.MigCount != 0):
		return bad("migration fields without a migration")
	case h.MigEngine != "" && (h.MigDim <= 0 || h.MigDim > maxDim):
		return bad("migration dimension %d", h.MigDim)
	case h.HeaderHash != nil && string(h.HeaderHash) != string(j.headerHash[:]):
		return bad("made for another log header")
	}
	// The dimension of the live entries: the header's engine, or the
	// engine a completed migration moved the log to.
	if dim := (h.EntrySize - idSize - entropySize) / 4; dim != j.dim {
		if h.Engine == "" || h.Engine == j.engine {
			return bad("live entries of %d dimensions, the log's engine makes %d", dim, j.dim)
		}
		j.live, j.tpl, j.dim = newLiveSet(dim), newTemplateSet(dim), dim // after a completed migration
	}
	switch {
	case h.Templates == 0 && h.TemplateSize != 0,
		h.Templates > 0 && (h.TemplateSize != j.tpl.stride || h.Count == 0):
		return bad("unexpected template parameters")
	}
	hh := sha256.Sum256(hb)
	rd := sectionReader{j: j, r: r, hh: hh}
	if err := loadSection(&rd, j.live, h.Count, h.Templates == 0 && h.MigEngine == ""); err != nil {
		return bad("%v", err)
	}
	if h.Templates > 0 {
		if err := loadSection(&rd, j.tpl, h.Templates, h.MigEngine == ""); err != nil {
			return bad("%v", err)
		}
		// Templates belong to enrolled identities, at positions in range.
		for k := range j.tpl.index {
			if !j.live.has(k.id) || k.pos < 1 || int(k.pos) >= enclave.MaxTemplates {
				return bad("a template of no enrolled identity or at position %d", k.pos)
			}
		}
	}
	if h.MigEngine != "" {
		mig := &migration{engine: h.MigEngine, dim: h.MigDim, set: newLiveSet(h.MigDim)}
		if err := loadSection(&rd, mig.set, h.MigCount, true); err != nil {
			return bad("%v", err)
		}
		defer func() {
			if err == nil {
				j.mig = mig
			}
		}()
	}
	if h.Engine != "" {
		j.engine = h.Engine
	}
	if h.RecordSize != 0 {
		j.entrySize = h.RecordSize
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return bad("trailing data")
	}
	copy(j.head[:], h.Head)
	j.next = h.Next
	j.log.Info("snapshot loaded", "next", h.Next, "identities", h.Count, "templates", h.Templates, "migrating", h.MigCount)
	return true, nil
}

// sectionReader reads a snapshot's chunks in order, with one read buffer
// for every chunk.
type sectionReader struct {
	j     *Journal
	r     io.Reader
	hh    [32]byte // SHA-256 of the snapshot header
	chunk uint64   // index of the next chunk
	buf   []byte
}

// loadSection reads the chunks holding count entries of set (at least one
// chunk, even for none), decrypting each straight into the set's next page.
// last says whether the section's final chunk is the snapshot's.
func loadSection[K comparable](rd *sectionReader, set *liveSet[K], count uint64, last bool) error {
	j := rd.j
	stride := set.stride
	maxChunk := 12 + chunkEntries*stride + 16
	first := true
	var got uint64
	for {
		i := rd.chunk
		sealed, err := readFrame(rd.r, rd.buf, maxChunk)
		if err != nil {
			return fmt.Errorf("chunk %d: %v", i, err)
		}
		rd.buf = sealed
		remaining := count - got
		want := min(remaining, chunkEntries)
		final := remaining <= chunkEntries
		if len(sealed) != 12+int(want)*stride+16 {
			return fmt.Errorf("chunk %d has the wrong size", i)
		}
		aad := j.chunkAAD(rd.hh, i, final && last)
		errOpen := errors.New("does not open")
		open := func(dst []byte) error {
			if _, err := j.aead.Open(dst[:0], sealed[:12], sealed[12:], aad); err != nil {
				return errOpen
			}
			if first {
				// The chunk opened under the header's hash, so the header
				// is the enclave's own: its count may size the index.
				set.reserve(int(min(count, maxSlots)))
			}
			return nil
		}
		if want == 0 {
			err = open(nil)
		} else {
			// Decrypt straight into the set's next page: no copy.
			err = set.loadPage(int(want), open)
		}
		switch {
		case err == nil:
		case errors.Is(err, errOpen):
			return fmt.Errorf("chunk %d does not open (tampered, reordered, truncated, or another key)", i)
		case err != nil:
			return fmt.Errorf("chunk %d: %v", i, err)
		}
		rd.chunk++
		first = false
		got += want
		if final {
			return nil
		}
	}
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
	// The record before the snapshot's head may predate a migration's
	// larger records: any record size the log may hold.
	if len(rec) < 12+32+128+16 || len(rec) > 12+32+migrationOverhead+4*maxDim+16 {
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
