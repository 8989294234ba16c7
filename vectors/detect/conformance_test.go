package detect

import (
	"encoding/json"
	"image"
	"math"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

// nodeDir holds the tfjs reference pipeline (package.json, package-lock.json,
// detect.mjs).
const nodeDir = "testdata/node"

type refFace struct {
	Score     float64       `json:"score"`
	Box       [4]float64    `json:"box"`
	Five      [5][2]float64 `json:"five"`
	Landmarks [][2]float64  `json:"landmarks"`
	Yaw       float64       `json:"yaw"`
	Pitch     float64       `json:"pitch"`
	Roll      float64       `json:"roll"`
	MouthOpen float64       `json:"mouth_open"`
}

type refOutput struct {
	Backend string `json:"backend"`
	Images  []struct {
		Faces []refFace `json:"faces"`
	} `json:"images"`
	Bench *struct {
		Runs       int     `json:"runs"`
		Faces      int     `json:"faces"`
		MsPerFace  float64 `json:"ms_per_face"`
		MsPerImage float64 `json:"ms_per_image"`
		PeakRSSMB  float64 `json:"peak_rss_mb"`
	} `json:"bench"`
}

// runReference writes the decoded images as raw RGBA and runs detect.mjs.
func runReference(t testing.TB, names []string, extra ...string) refOutput {
	t.Helper()
	var imgs []*image.RGBA
	for _, n := range names {
		imgs = append(imgs, loadImage(t, n))
	}
	out := embedtest.DetectReference(t, nodeDir, imgs, extra...)
	var ref refOutput
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatalf("node output: %v", err)
	}
	if len(ref.Images) != len(names) {
		t.Fatalf("node returned %d images for %d", len(ref.Images), len(names))
	}
	return ref
}

// conformanceImages are the images the Go pipeline is compared on: the
// face-api demo photo with three faces, a webcam frame with three people, a
// turned head and an open mouth.
var conformanceImages = []string{"sample1.jpg", "three-people-0001.jpg", "head-turn-a-0001.jpg", "talking-b-take1-0030.jpg"}

// TestConformanceWithTFJS runs the same pipeline on tfjs (node, WebAssembly
// backend; the CPU backend gives the same numbers, 5× slower)
// and requires, face by face: box IoU ≥ 0.9 (in practice ≥ 0.99), five
// points within 1 % of the box size, mean landmark distance within 1 %,
// yaw/roll within 2°, mouth opening within 0.02, score within 0.01.
func TestConformanceWithTFJS(t *testing.T) {
	images := conformanceImages
	if raceEnabled || testing.Short() { // the two webcam frames with four faces only (-short: make test's arm64 run under qemu)
		images = []string{"three-people-0001.jpg", "talking-b-take1-0030.jpg"}
	}
	ref := runReference(t, images, "--backend", "wasm")
	for i, name := range images {
		t.Run(name, func(t *testing.T) {
			faces := detectCached(t, name)
			want := ref.Images[i].Faces
			if len(faces) != len(want) {
				t.Fatalf("go found %d faces, tfjs %d", len(faces), len(want))
			}
			for j, w := range want {
				wb := vectors.Box{X: float32(w.Box[0]), Y: float32(w.Box[1]), W: float32(w.Box[2]), H: float32(w.Box[3])}
				// Match by best IoU: equal scores may order differently.
				best, bi := float32(0), -1
				for k, f := range faces {
					if iou := IoU(f.Box, wb); iou > best {
						best, bi = iou, k
					}
				}
				if best < 0.9 {
					t.Fatalf("face %d: best IoU %.4f < 0.9 (tfjs box %v)", j, best, w.Box)
				}
				f := faces[bi]
				size := float64(max(wb.W, wb.H))
				var maxFive float64
				for k := range f.Five {
					maxFive = math.Max(maxFive, math.Hypot(float64(f.Five[k].X)-w.Five[k][0], float64(f.Five[k].Y)-w.Five[k][1]))
				}
				var meanLM float64
				for k, p := range w.Landmarks {
					meanLM += math.Hypot(float64(f.Landmarks[k].X)-p[0], float64(f.Landmarks[k].Y)-p[1])
				}
				meanLM /= float64(len(w.Landmarks))
				t.Logf("face %d: IoU %.5f, five max %.3f px, landmarks mean %.3f px (box %.0f px), Δyaw %.3f°, Δscore %.5f",
					j, best, maxFive, meanLM, size, float64(f.Yaw)-w.Yaw, float64(f.Score)-w.Score)
				if maxFive > 0.01*size || meanLM > 0.01*size {
					t.Errorf("face %d: landmarks differ: five max %.3f px, mean %.3f px, box %.0f px", j, maxFive, meanLM, size)
				}
				if math.Abs(float64(f.Yaw)-w.Yaw) > 2 || math.Abs(float64(f.Roll)-w.Roll) > 2 || math.Abs(float64(f.Pitch)-w.Pitch) > 2 {
					t.Errorf("face %d: pose go (%.2f, %.2f, %.2f) tfjs (%.2f, %.2f, %.2f)", j, f.Yaw, f.Pitch, f.Roll, w.Yaw, w.Pitch, w.Roll)
				}
				if math.Abs(float64(f.MouthOpen)-w.MouthOpen) > 0.02 || math.Abs(float64(f.Score)-w.Score) > 0.01 {
					t.Errorf("face %d: mouth %.4f vs %.4f, score %.4f vs %.4f", j, f.MouthOpen, w.MouthOpen, f.Score, w.Score)
				}
			}
		})
	}
}
