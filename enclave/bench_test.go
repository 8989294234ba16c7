package enclave

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

// BenchmarkEnrol measures whole sealed enrolments over HTTP (envelope,
// challenge, frame decoding, fusion, 1:N search, decision, journal write,
// sealed answer) against galleries preloaded with synthetic identities, at
// several client concurrencies. The face engine is the fake one, so the
// numbers are the service's own cost; the CNN's per-frame cost adds to them
// (see the vectors benchmarks). Reports p50/p95/p99 latency and enrolments/s.
//
//	go test ./enclave -run '^$' -bench BenchmarkEnrol -benchtime 200x
//
// FACESIGN_BENCH_GALLERIES (comma-separated sizes, default "10000,100000")
// selects the gallery sizes; 10⁶ float32 identities of 256 dimensions take
// 1 GiB.
func BenchmarkEnrol(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if env := os.Getenv("FACESIGN_BENCH_GALLERIES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				b.Fatalf("FACESIGN_BENCH_GALLERIES: %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, size := range sizes {
		// 256 dimensions like the default engine: random vectors then score
		// ≈ N(0, 1/16) against a face, below the new-person threshold.
		h := newHarnessWith(b, fakeEngine{dim: 256}, func(c *Config) { c.MaxConcurrent = 32 })
		if err := h.svc.PreloadSynthetic(b.Context(), size, seededRand(uint64(size))); err != nil {
			b.Fatal(err)
		}
		for _, conc := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("gallery=%d/concurrency=%d", size, conc), func(b *testing.B) {
				// Prepare challenges and frames outside the timer.
				type job struct {
					c      wire.ChallengeResponse
					frames [][]byte
				}
				jobs := make([]job, b.N)
				for i := range jobs {
					c := h.challenge()
					jobs[i] = job{c, performance(b, 10+i%200, c.Actions, false)}
				}
				lat := make([]time.Duration, b.N)
				var next sync.Mutex
				n := 0
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for range conc {
					wg.Go(func() {
						for {
							next.Lock()
							i := n
							n++
							next.Unlock()
							if i >= b.N {
								return
							}
							t0 := time.Now()
							r := h.faceWith(wire.RouteEnroll, jobs[i].c, jobs[i].frames)
							lat[i] = time.Since(t0)
							if r.Status == wire.StatusRejected {
								b.Errorf("rejected: %s %s", r.Reason, r.Message)
							}
						}
					})
				}
				wg.Wait()
				el := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				q := func(p float64) float64 {
					return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
				}
				b.ReportMetric(q(0.50), "p50-ms")
				b.ReportMetric(q(0.95), "p95-ms")
				b.ReportMetric(q(0.99), "p99-ms")
				b.ReportMetric(float64(b.N)/el.Seconds(), "enrol/s")
			})
		}
	}
}
