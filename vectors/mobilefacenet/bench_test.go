package mobilefacenet

import (
	"encoding/json"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkEmbed measures one forward pass (112×112 crop → 256-d vector)
// on the test crops. Run with -cpu 1,2 to compare one and two cores: the
// kernels split their work across GOMAXPROCS goroutines.
//
//	go test -run '^$' -bench 'Embed|TFJS' -benchtime 40x -cpu 1,2 ./vectors/mobilefacenet
func BenchmarkEmbed(b *testing.B) {
	n, err := New()
	if err != nil {
		b.Fatal(err)
	}
	crops := loadCrops(b)
	// Warm up as the node side does: the first pass packs the filters.
	if _, err := n.Embed(crops[0].img); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := n.Embed(crops[i%len(crops)].img); err != nil {
			b.Fatal(err)
		}
	}
	reportFaces(b, c0)
}

// BenchmarkEmbedParallel measures throughput with one Embed per goroutine
// (GOMAXPROCS goroutines), the way a server embeds several faces at once.
func BenchmarkEmbedParallel(b *testing.B) {
	n, err := New()
	if err != nil {
		b.Fatal(err)
	}
	crops := loadCrops(b)
	if _, err := n.Embed(crops[0].img); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := n.Embed(crops[i%len(crops)].img); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	reportFaces(b, c0)
}

// reportFaces reports wall-clock and CPU milliseconds per face. On a
// shared machine the CPU figure is the steadier one; the wall figure is
// what a caller waits.
func reportFaces(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/face")
	if c := cpuTime() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(float64(c.Microseconds())/1e3/float64(b.N), "cpu-ms/face")
	}
}

// BenchmarkTFJSWasm runs the reference implementation — tfjs 4.22 with the
// WebAssembly backend (SIMD) on node — on the same crops, b.N faces, and
// reports its own timing of the forward passes (node start-up and model
// loading excluded) as ns/op and ms/face, so it reads directly beside
// BenchmarkEmbed. The wasm backend gets GOMAXPROCS threads if node supports
// wasm threads (it reports wasm_threads).
func BenchmarkTFJSWasm(b *testing.B) {
	dir := nodeDir(b)
	crops := loadCrops(b)
	iters := max(1, (b.N+len(crops)-1)/len(crops))
	out := runNode(b, dir, "bench", "--backend", "wasm", "--crops", writeCrops(b, crops),
		"--iters", strconv.Itoa(iters), "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)))
	var r struct {
		MsPerFace float64 `json:"ms_per_face"`
		CPUPerFac float64 `json:"cpu_ms_per_face"`
		Threads   int     `json:"wasm_threads"`
		SIMD      bool    `json:"wasm_simd"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.MsPerFace*1e6, "ns/op")
	b.ReportMetric(r.MsPerFace, "ms/face")
	b.ReportMetric(r.CPUPerFac, "cpu-ms/face")
	b.ReportMetric(float64(r.Threads), "wasm-threads")
}
