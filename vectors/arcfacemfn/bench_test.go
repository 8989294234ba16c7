package arcfacemfn

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/facesign/facesign/vectors/dlibresnet"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

// BenchmarkEmbed measures one forward pass per face, side by side in one
// run: this engine's network in Go, dlibresnet's network in Go (today's
// default engine, 150×150 chips from its own test crops) and the
// reference TFLite runtime (LiteRT.js WebAssembly on node, batch of 2 as
// the file declares, its own timing of the forward passes). Run with -cpu
// 1,2 to compare one and two cores.
//
//	go test -run '^$' -bench Embed -benchtime 40x -cpu 1,2 ./vectors/arcfacemfn
func BenchmarkEmbed(b *testing.B) {
	b.Run("arcface-mfn", func(b *testing.B) {
		n, err := New()
		if err != nil {
			b.Fatal(err)
		}
		embedtest.BenchEmbed(b, loadCrops(b), n.Embed)
	})
	b.Run("dlibresnet", func(b *testing.B) {
		n, err := dlibresnet.New()
		if err != nil {
			b.Fatal(err)
		}
		embedtest.BenchEmbed(b, embedtest.LoadCrops(b, "../dlibresnet/testdata/crops", n.InputSize()), n.Embed)
	})
	b.Run("arcface-mfn-litert-wasm", func(b *testing.B) {
		crops := loadCrops(b)
		iters := max(1, (b.N+len(crops)-1)/len(crops))
		out := nodePeer(b).Run(b, nil, "embed.mjs", "bench", "--crops", embedtest.WriteRGB(b, crops), "--iters", strconv.Itoa(iters))
		var r struct {
			MsPerFace float64 `json:"ms_per_face"`
			CPU       float64 `json:"cpu_ms_per_face"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.MsPerFace*1e6, "ns/op")
		b.ReportMetric(r.MsPerFace, "ms/face")
		b.ReportMetric(r.CPU, "cpu-ms/face")
	})
}
