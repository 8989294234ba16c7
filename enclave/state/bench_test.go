package state

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/vectors"
)

// benchLog is an in-memory log that hands records out without copying
// them, so the boot benchmark measures the journal, not its test double.
type benchLog struct {
	mu   sync.Mutex
	recs [][]byte // nil: pruned (see prune)
}

func (l *benchLog) Put(_ context.Context, seq uint64, rec []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq != uint64(len(l.recs)) {
		return fmt.Errorf("benchlog: put %d after %d records", seq, len(l.recs))
	}
	l.recs = append(l.recs, bytes.Clone(rec))
	return nil
}

func (l *benchLog) Read(_ context.Context, from uint64, fn func(uint64, []byte) error) error {
	l.mu.Lock()
	recs := l.recs
	l.mu.Unlock()
	for seq := from; seq < uint64(len(recs)); seq++ {
		if recs[seq] == nil {
			continue
		}
		if err := fn(seq, recs[seq]); err != nil {
			return err
		}
	}
	return nil
}

// prune drops the records in [lo, hi): a boot from a snapshot covering
// [0, hi+1) reads the header, record hi and what follows, never these, so
// dropping them keeps 4·10⁶-identity fixtures in memory.
func (l *benchLog) prune(lo, hi uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := lo; s < hi; s++ {
		l.recs[s] = nil
	}
}

// fileSnaps keeps snapshots as files, so boot streams a snapshot from
// disk the way the enclave streams it from the parent, and the benchmark's
// heap before boot is as small as an enclave's.
type fileSnaps struct {
	dir string
	mu  sync.Mutex
	seq uint64
}

func (s *fileSnaps) name(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d.snap", seq))
}

func (s *fileSnaps) PutSnapshot(_ context.Context, seq uint64, r io.Reader) error {
	f, err := os.Create(s.name(seq))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq, seq)
	return nil
}

func (s *fileSnaps) LatestSnapshot(context.Context) (uint64, io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == 0 {
		return 0, nil, ErrNoSnapshot
	}
	f, err := os.Open(s.name(s.seq))
	if err != nil {
		return 0, nil, err
	}
	return s.seq, f, nil
}

// procStatus returns a field of /proc/self/status in MiB, or -1 where
// there is no such file.
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux ≥ 4.0).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// bootSizes are the gallery sizes BenchmarkBoot measures:
// FACESIGN_BOOT_SIZES (comma-separated) or 10⁵ and 10⁶.
func bootSizes(b *testing.B) []int {
	env := os.Getenv("FACESIGN_BOOT_SIZES")
	if env == "" {
		return []int{100_000, 1_000_000}
	}
	var out []int
	for f := range strings.SplitSeq(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("FACESIGN_BOOT_SIZES: %q", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkBoot measures what a restart costs: unwrap the key, load the
// snapshot, replay the records after it and hand every identity to the
// caller, for galleries of 192-dimensional vectors (10⁵ and 10⁶ identities;
// FACESIGN_BOOT_SIZES=4000000 for more), through Replay, ReplayShared, and
// ReplayShared into a vectors.Gallery the way the enclave fills its own
// (the gallery's float32 copy is then part of live-MiB and peak-MiB; it
// lives in mappings outside the Go heap, so live-MiB does not show it).
// Metrics:
//
//   - live-MiB: the heap the journal keeps after boot (its live set; the
//     enclave's gallery holds its own copy on top);
//   - peak-MiB: the most resident memory boot added on top of what the
//     process held before (VmHWM after boot minus VmRSS before; Linux);
//   - snapshot-MiB: the size of the sealed snapshot;
//   - gcs: garbage collections during one boot;
//   - cpu-s/op: user + system CPU time of one boot, all threads (the
//     machine is shared: wall time varies with its load, CPU time less).
//
// The snapshot streams from a file, and the log records
// boot never reads (those covered by the snapshot, but the one before its
// head) are dropped from the test log to fit large galleries in memory.
//
//	go test -run '^$' -bench Boot -benchtime 2x ./enclave/state
func BenchmarkBoot(b *testing.B) {
	for _, n := range bootSizes(b) {
		for _, tail := range []int{0, 1000} {
			for _, mode := range []string{"Replay", "ReplayShared", "ReplayShared+Gallery"} {
				b.Run(fmt.Sprintf("identities=%d/after-snapshot=%d/%s", n, tail, mode), func(b *testing.B) {
					benchBoot(b, n, tail, mode != "Replay", mode == "ReplayShared+Gallery")
				})
			}
		}
	}
}

func benchBoot(b *testing.B, n, tail int, shared, gallery bool) {
	const d = 192
	e := newEnv()
	log := &benchLog{}
	snaps := &fileSnaps{dir: b.TempDir()}
	opts := Options{Log: log, Snapshots: snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: d, SnapshotEvery: -1}
	j, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		b.Fatal(err)
	}
	v := make([]byte, 4*d)
	for i := range d {
		binary.LittleEndian.PutUint32(v[4*i:], math.Float32bits(1/float32(math.Sqrt(d))))
	}
	ent := make([]byte, 32)
	entry := func(i int) enclave.Entry {
		binary.BigEndian.PutUint64(ent, uint64(i))
		return enclave.Entry{Op: enclave.OpAdd, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Entropy: ent, Vector: v}
	}
	for i := range n - tail {
		if err := j.Append(context.Background(), entry(i)); err != nil {
			b.Fatal(err)
		}
		if i%65536 == 65535 {
			log.prune(1, uint64(i)) // keep the fixture's log small as it grows
		}
	}
	if err := j.Snapshot(context.Background()); err != nil {
		b.Fatal(err)
	}
	log.prune(1, uint64(n-tail))
	for i := n - tail; i < n; i++ {
		if err := j.Append(context.Background(), entry(i)); err != nil {
			b.Fatal(err)
		}
	}
	j = nil
	var snapBytes int64
	if fi, err := os.Stat(snaps.name(snaps.seq)); err == nil {
		snapBytes = fi.Size()
	}
	b.ResetTimer()
	var heap uint64
	var peak float64
	var gcs uint32
	var cpu float64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		rss0 := procStatus("VmRSS")
		reset := resetPeakRSS()
		cpu0 := cpuSeconds()
		j, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		apply := func(enclave.Entry) error { return nil }
		var g *vectors.Gallery
		if gallery {
			// What the enclave does with each entry: decode the vector into
			// a scratch buffer and add it to its gallery (which copies it).
			if g, err = vectors.NewGallery(d, vectors.GalleryOptions{}); err != nil {
				b.Fatal(err)
			}
			scratch := make([]float32, d)
			apply = func(e enclave.Entry) error {
				for i := range scratch {
					scratch[i] = math.Float32frombits(binary.LittleEndian.Uint32(e.Vector[4*i:]))
				}
				if !vectors.Normalize(scratch) {
					return errors.New("bad vector")
				}
				_, err := g.Add(scratch)
				return err
			}
		}
		count := 0
		replay := j.Replay
		if shared {
			replay = j.ReplayShared
		}
		if err := replay(context.Background(), func(e enclave.Entry) error { count++; return apply(e) }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("replayed %d identities, want %d", count, n)
		}
		cpu += cpuSeconds() - cpu0
		if hwm := procStatus("VmHWM"); reset && rss0 >= 0 && hwm >= 0 {
			peak = hwm - rss0
		}
		runtime.ReadMemStats(&m1)
		gcs = m1.NumGC - m0.NumGC
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap = m1.HeapAlloc - m0.HeapAlloc
		runtime.KeepAlive(j)
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(heap)/float64(1<<20), "live-MiB")
	if peak > 0 {
		b.ReportMetric(peak, "peak-MiB")
	}
	b.ReportMetric(float64(snapBytes)/float64(1<<20), "snapshot-MiB")
	b.ReportMetric(float64(gcs), "gcs")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkReplayLog measures replaying a log with no snapshot (a journal
// configured without a snapshot store, or the records after an old one):
// per record, AES-GCM open, hash chain, CBOR decode and the live-set change.
//
//	go test -run '^$' -bench ReplayLog -benchtime 3x ./enclave/state
func BenchmarkReplayLog(b *testing.B) {
	const n, d = 100_000, 192
	e := newEnv()
	log := &benchLog{}
	opts := Options{Log: log, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: d, SnapshotEvery: -1}
	j, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		b.Fatal(err)
	}
	v := make([]byte, 4*d)
	ent := make([]byte, 32)
	for i := range n {
		binary.BigEndian.PutUint64(ent, uint64(i))
		en := enclave.Entry{Op: enclave.OpAdd, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Entropy: ent, Vector: v}
		if i%10 == 9 {
			en = enclave.Entry{Op: enclave.OpDelete, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i-1)}
		}
		if err := j.Append(context.Background(), en); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		j, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := j.ReplayShared(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}
