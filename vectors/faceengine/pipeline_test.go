package faceengine

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

// The tfjs reference pipeline lives with the detector's node peer.
const nodeDir = "../detect/testdata/node"

var frames = []string{"talking-b-take1-0005.jpg", "talking-b-take2-0010.jpg", "head-turn-a-0020.jpg"}

func loadFrames(t testing.TB) []*image.RGBA {
	t.Helper()
	var imgs []*image.RGBA
	for _, f := range frames {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := imageio.Decode(data, imageio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	return imgs
}

type nodeResult struct {
	Images []struct {
		Faces []struct {
			Box    [4]float64 `json:"box"`
			Vector []float64  `json:"vector"`
		} `json:"faces"`
	} `json:"images"`
	Bench *struct {
		Faces     int     `json:"faces"`
		MsPerFace float64 `json:"ms_per_face"`
		CPUMsFace float64 `json:"cpu_ms_per_face"`
		PeakRSSMB float64 `json:"peak_rss_mb"`
	} `json:"bench"`
}

// nodeEmbedder returns the reference script's flag choosing engine name's
// embedding network.
func nodeEmbedder(t testing.TB, name string) []string {
	t.Helper()
	switch name {
	case DlibName:
		// detect.mjs loads face-api from the dlib package's node peer.
		nodetest.Require(t, "../dlibresnet/testdata/node", "@vladmandic/face-api/dist/face-api.node-wasm.js")
		return []string{"--dlib"}
	case MobileFaceName:
		model, err := filepath.Abs("../mobilefacenet/model/mobileface.json")
		if err != nil {
			t.Fatal(err)
		}
		return []string{"--embed", model}
	}
	t.Fatalf("no reference for engine %q", name)
	return nil
}

// runNode runs the tfjs pipeline (detect + align + embed with engine name's
// network) on the frames.
func runNode(t testing.TB, name string, imgs []*image.RGBA, extra ...string) nodeResult {
	t.Helper()
	out := embedtest.DetectReference(t, nodeDir, imgs, append(nodeEmbedder(t, name), extra...)...)
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEndToEndConformance compares each engine (decode excluded) with the
// tfjs pipeline: same faces, vectors with cosine ≥ 0.999.
func TestEndToEndConformance(t *testing.T) {
	for _, c := range engines {
		t.Run(c.name, func(t *testing.T) { endToEnd(t, c.name) })
	}
}

func endToEnd(t *testing.T, name string) {
	imgs := loadFrames(t)
	ref := runNode(t, name, imgs, "--backend", "wasm")
	for i := range imgs {
		faces, vecs := embedCached(t, name, frames[i])
		want := ref.Images[i].Faces
		if len(faces) != len(want) {
			t.Fatalf("%s: go %d faces, tfjs %d", frames[i], len(faces), len(want))
		}
		for j, v := range vecs {
			var dot float64
			for k, x := range v.Values {
				dot += float64(x) * want[j].Vector[k]
			}
			t.Logf("%s face %d: cosine with tfjs %.7f", frames[i], j, dot)
			if dot < 0.999 {
				t.Errorf("%s face %d: cosine %.6f < 0.999", frames[i], j, dot)
			}
		}
	}
}

// BenchmarkPipeline is detect + align + embed per face, in Go, for every
// engine. Run with -cpu 1,2 for one and two cores.
func BenchmarkPipeline(b *testing.B) {
	for _, c := range engines {
		b.Run(c.name, func(b *testing.B) { benchPipeline(b, openEngine(b, c.name)) })
	}
}

func benchPipeline(b *testing.B, e vectors.Engine) {
	imgs := loadFrames(b)
	faces := 0
	cpu0 := embedtest.CPUTime()
	for b.Loop() {
		for _, img := range imgs {
			fs, err := e.Detect(img)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range fs {
				if _, err := e.Embed(img, f); err != nil {
					b.Fatal(err)
				}
				faces++
			}
		}
	}
	cpu := embedtest.CPUTime() - cpu0
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(faces), "ms/face")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(faces), "CPU-ms/face")
	b.ReportMetric(embedtest.PeakRSSMB(), "peakRSS-MB")
}

// BenchmarkPipelineTFJSWasm runs the same pipeline on tfjs-backend-wasm in
// node, on the same frames, and reports its own timing (b.N is ignored
// beyond the run count). Compare its ms/face with BenchmarkPipeline's.
func BenchmarkPipelineTFJSWasm(b *testing.B) {
	for _, c := range engines {
		b.Run(c.name, func(b *testing.B) { benchNode(b, c.name) })
	}
}

func benchNode(b *testing.B, name string) {
	imgs := loadFrames(b)
	runs := 5
	res := runNode(b, name, imgs, "--backend", "wasm", "--bench", strconv.Itoa(runs))
	for b.Loop() {
	}
	if res.Bench == nil {
		b.Fatal("no bench result")
	}
	b.ReportMetric(res.Bench.MsPerFace, "ms/face")
	b.ReportMetric(res.Bench.CPUMsFace, "CPU-ms/face")
	b.ReportMetric(res.Bench.PeakRSSMB, "peakRSS-MB")
}
