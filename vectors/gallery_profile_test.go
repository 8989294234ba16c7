//go:build prof

package vectors

// The single-query search at N = 10⁶, D = 192, taken apart: the streaming
// read of the same memory, the int8 kernel alone (no lane passes), the
// kernel with candidate selection, the whole search, and the re-ranking
// alone, interleaved over repetitions, with wall time and process CPU time
// (all threads). Not part of `make test` (it builds two 10⁶ galleries):
//
//	go test -tags prof -run TestSearchProfile -v ./vectors/
//
// PROFILE_REPS sets the repetitions (15), PROFILE_HEAP=1 adds galleries
// kept entirely on the Go heap (no huge-page mappings) for comparison.
// docs/search.md has the figures.

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors/internal/scan"
)

func cpuNow(t *testing.T) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		t.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func TestSearchProfile(t *testing.T) {
	const n, dim, k = 1_000_000, 192, 10
	reps := 15
	if s := os.Getenv("PROFILE_REPS"); s != "" {
		var err error
		if reps, err = strconv.Atoi(s); err != nil || reps <= 0 {
			t.Fatalf("PROFILE_REPS=%q", s)
		}
	}
	heap := os.Getenv("PROFILE_HEAP") != ""
	mk := func(typ GalleryType, onHeap bool) *Gallery {
		g, err := NewGallery(dim, GalleryOptions{Type: typ, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if onHeap {
			g.mem.mapFrom = math.MaxInt
		}
		return g
	}
	gf, gi := mk(GalleryFloat32, false), mk(GalleryInt8, false)
	hf, hi := mk(GalleryFloat32, true), mk(GalleryInt8, true)
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		v := galRandVec(r, dim)
		for _, g := range []*Gallery{gf, gi, hf, hi}[:2+2*btoi(heap)] {
			if _, err := g.Add(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := galRandVec(r, dim)
	iq := scan.PackI8Query(q)
	cands := gi.scanI8One(&iq, gi.rerank)
	hits := 0
	parts := []struct {
		name string
		fn   func()
	}{
		{"f32 streaming read", func() { gf.StreamRead() }},
		{"f32 search", func() { gf.Search(q, k) }},
		{"int8 streaming read", func() { gi.StreamRead() }},
		{"int8 kernel alone", func() {
			p := scan.PackI8Query(q)
			gi.scanI8(&p, gi.workers(), func(int) float32 { return float32(math.Inf(1)) }, func(int, int, uint32, []float32) {})
		}},
		{"int8 kernel + candidates", func() {
			p := scan.PackI8Query(q)
			hits = 0
			cs := []*candidates{newCandidates(gi.rerank), newCandidates(gi.rerank)}
			gi.scanI8(&p, 2, func(w int) float32 { return cs[w].threshold() }, func(w, base int, mask uint32, out []float32) {
				for ; mask != 0; mask &= mask - 1 {
					l := bits.TrailingZeros32(mask)
					hits++
					cs[w].push(Match{Slot: Slot(base + l), Score: out[l]})
				}
			})
		}},
		{"int8 search", func() { gi.Search(q, k) }},
		{"int8 re-rank alone", func() { gi.rerankI8(q, &iq, cands, gi.rerank, k) }},
	}
	if heap {
		parts = append(parts, []struct {
			name string
			fn   func()
		}{
			{"heap f32 streaming read", func() { hf.StreamRead() }},
			{"heap f32 search", func() { hf.Search(q, k) }},
			{"heap int8 streaming read", func() { hi.StreamRead() }},
			{"heap int8 search", func() { hi.Search(q, k) }},
		}...)
	}
	wall := make([][]float64, len(parts))
	cpu := make([][]float64, len(parts))
	for range reps {
		for i, p := range parts {
			c0, t0 := cpuNow(t), time.Now()
			p.fn()
			wall[i] = append(wall[i], time.Since(t0).Seconds()*1e3)
			cpu[i] = append(cpu[i], (cpuNow(t)-c0).Seconds()*1e3)
		}
	}
	if b, err := os.ReadFile("/proc/self/smaps_rollup"); err == nil {
		for _, l := range bytesLines(b) {
			if len(l) > 13 && l[:13] == "AnonHugePages" {
				fmt.Println(l)
			}
		}
	}
	fmt.Printf("load average %s; %d repetitions; ms (wall min / median, CPU all threads min / median)\n", loadAvg(), reps)
	for i, p := range parts {
		w, c := slices.Clone(wall[i]), slices.Clone(cpu[i])
		slices.Sort(w)
		slices.Sort(c)
		fmt.Printf("%-26s wall %7.2f %7.2f   cpu %7.2f %7.2f\n", p.name, w[0], w[len(w)/2], c[0], c[len(c)/2])
	}
	fmt.Printf("lanes passing the int8 mask per search: %d\n", hits)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func bytesLines(b []byte) []string {
	var out []string
	st := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[st:i]))
			st = i + 1
		}
	}
	return out
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) < 14 {
		return "?"
	}
	return string(b[:14])
}
