package state

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/facesign/facesign/enclave"
)

// BenchmarkBoot measures what a restart costs: unwrap the key, load the
// snapshot, replay the records after it, for galleries of 10⁵ and 10⁶
// identities of 192-dimensional vectors. It reports the heap the journal's
// live set holds (the enclave's gallery holds its own copy on top).
//
//	go test -run '^$' -bench Boot -benchtime 3x ./enclave/state
func BenchmarkBoot(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, tail := range []int{0, 1000} {
			b.Run(fmt.Sprintf("identities=%d/after-snapshot=%d", n, tail), func(b *testing.B) {
				const d = 192
				e := newEnv()
				j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: d, SnapshotEvery: -1})
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
				entry := func(i int) enclave.Entry {
					ent := make([]byte, 32)
					binary.BigEndian.PutUint64(ent, uint64(i))
					return enclave.Entry{Op: enclave.OpAdd, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Entropy: ent, Vector: v}
				}
				for i := range n - tail {
					if err := j.Append(context.Background(), entry(i)); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Snapshot(context.Background()); err != nil {
					b.Fatal(err)
				}
				for i := n - tail; i < n; i++ {
					if err := j.Append(context.Background(), entry(i)); err != nil {
						b.Fatal(err)
					}
				}
				j = nil
				var snapBytes int
				for _, s := range e.snaps.snaps {
					snapBytes = len(s)
				}
				b.ResetTimer()
				var heap uint64
				for b.Loop() {
					runtime.GC()
					var m0, m1 runtime.MemStats
					runtime.ReadMemStats(&m0)
					j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: d, SnapshotEvery: -1})
					if err != nil {
						b.Fatal(err)
					}
					count := 0
					if err := j.Replay(context.Background(), func(enclave.Entry) error { count++; return nil }); err != nil {
						b.Fatal(err)
					}
					if count != n {
						b.Fatalf("replayed %d identities, want %d", count, n)
					}
					runtime.GC()
					runtime.ReadMemStats(&m1)
					heap = m1.HeapAlloc - m0.HeapAlloc
					runtime.KeepAlive(j)
				}
				b.ReportMetric(float64(heap)/float64(1<<20), "live-MiB")
				b.ReportMetric(float64(snapBytes)/float64(1<<20), "snapshot-MiB")
			})
		}
	}
}
