package mobilefacenet

import (
	"testing"

	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
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
	embedtest.BenchEmbed(b, loadCrops(b), n.Embed)
}

// BenchmarkEmbedParallel measures throughput with one Embed per goroutine
// (GOMAXPROCS goroutines), the way a server embeds several faces at once.
func BenchmarkEmbedParallel(b *testing.B) {
	n, err := New()
	if err != nil {
		b.Fatal(err)
	}
	crops := loadCrops(b)
	if _, err := n.Embed(crops[0].Img); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := embedtest.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := n.Embed(crops[i%len(crops)].Img); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	embedtest.ReportFaces(b, c0)
}

// BenchmarkTFJSWasm runs the reference implementation — tfjs 4.22 with the
// WebAssembly backend (SIMD) on node — on the same crops, b.N faces, and
// reports its own timing of the forward passes (node start-up and model
// loading excluded) as ns/op and ms/face, so it reads directly beside
// BenchmarkEmbed. The wasm backend gets GOMAXPROCS threads if node supports
// wasm threads (it reports wasm_threads).
func BenchmarkTFJSWasm(b *testing.B) {
	embedtest.BenchNode(b, nodePeer(b), "embed.mjs", loadCrops(b))
}
