package capture

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

// BenchmarkTracker reports what one camera frame costs the device, step by
// step: a tracking step (one FaceMesh pass), a full detection (BlazeFace and
// FaceMesh), and the measurement of a candidate (JPEG decode and a full
// detection). The page runs it compiled to WebAssembly; there, run it with
//
//	GOOS=js GOARCH=wasm go test -run '^$' -bench Tracker -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./client/capture
func BenchmarkTracker(b *testing.B) {
	d, err := detect.New(detect.Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "liveness", "talking-b-take1", "frame_0024.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("track", func(b *testing.B) {
		tr := NewTracker(d)
		tr.DetectEvery = 1 << 30
		if o := tr.Observe(img); o.Faces != 1 {
			b.Fatalf("%d faces", o.Faces)
		}
		for b.Loop() {
			if o := tr.Observe(img); o.Faces != 1 {
				b.Fatalf("%d faces", o.Faces)
			}
		}
	})
	b.Run("detect", func(b *testing.B) {
		tr := NewTracker(d)
		tr.DetectEvery = 1
		for b.Loop() {
			if o := tr.Observe(img); o.Faces != 1 {
				b.Fatalf("%d faces", o.Faces)
			}
		}
	})
	b.Run("measure", func(b *testing.B) {
		tr := NewTracker(d)
		for b.Loop() {
			if o, err := tr.Measure(data); err != nil || o.Faces != 1 {
				b.Fatalf("%d faces, %v", o.Faces, err)
			}
		}
	})
}
