package frfeature

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/facesign/facesign/vectors/dlibresnet"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

// BenchmarkEmbed measures one forward pass per face — crop in, unit
// vector out — of this network and, in the same run, of the dlib ResNet
// (today's default engine, on its own 150×150 chips) and of onnxruntime-
// node on the same crops and model file:
//
//	go test -run '^$' -bench Embed -benchtime 40x -cpu 1,2 ./vectors/frfeature
//
// The kernels split their work across GOMAXPROCS goroutines; onnxruntime
// gets GOMAXPROCS intra-op threads. cpu-ms/face is the steadier figure on
// a shared machine.
func BenchmarkEmbed(b *testing.B) {
	b.Run("fr-feature", func(b *testing.B) {
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
		embedtest.BenchEmbed(b, embedtest.LoadCrops(b, filepath.Join("..", "dlibresnet", "testdata", "crops"), dlibresnet.InputSize), n.Embed)
	})
	b.Run("onnxruntime-node", func(b *testing.B) {
		crops := loadCrops(b)
		model, err := filepath.Abs(modelFile)
		if err != nil {
			b.Fatal(err)
		}
		iters := max(1, (b.N+len(crops)-1)/len(crops))
		out := nodePeer(b).Run(b, nil, "ort.cjs", "bench", "--model", model, "--crops", embedtest.WriteRGB(b, crops),
			"--iters", strconv.Itoa(iters), "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)))
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
