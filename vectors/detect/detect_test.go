package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/imageio"
)

func loadImage(t testing.TB, name string) *image.RGBA {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var (
	cacheMu sync.Mutex
	cache   = map[string][]vectors.Face{}
)

// detectCached runs the default detector once per test image and process,
// so the tests that look at the same image share one (slow under -race)
// detection.
func detectCached(t testing.TB, name string) []vectors.Face {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if f, ok := cache[name]; ok {
		return f
	}
	f, err := newDetector(t).Detect(loadImage(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cache[name] = f
	return f
}

func newDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestModelFiles(t *testing.T) {
	// The hashes in model/PROVENANCE.md, checked against the embedded files.
	prov, err := os.ReadFile("model/PROVENANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(WeightFiles, "model/LICENSE") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if !strings.Contains(string(prov), hex.EncodeToString(sum[:])) {
			t.Errorf("%s: SHA-256 %x not in PROVENANCE.md", f, sum)
		}
	}
	h := sha256.New()
	for _, f := range WeightFiles {
		data, _ := fs.ReadFile(ModelFS(), f)
		h.Write(data)
	}
	d := newDetector(t)
	if got := d.ModelSHA256(); hex.EncodeToString(got[:]) != hex.EncodeToString(h.Sum(nil)) {
		t.Fatal("ModelSHA256 is not the hash of the weight files")
	}
}

func TestAnchors(t *testing.T) {
	a := anchors()
	// First anchor: centre of the first 16-px cell; 512th: last 16-px cell;
	// 513th: first 32-px cell; last: last 32-px cell.
	for _, c := range []struct {
		i    int
		x, y float32
	}{{0, 8, 8}, {1, 8, 8}, {2, 24, 8}, {511, 248, 248}, {512, 16, 16}, {517, 16, 16}, {518, 48, 16}, {895, 240, 240}} {
		if a[c.i] != [2]float32{c.x, c.y} {
			t.Errorf("anchor %d = %v, want (%v, %v)", c.i, a[c.i], c.x, c.y)
		}
	}
}

func TestIoUAndNMS(t *testing.T) {
	a := vectors.Box{X: 0, Y: 0, W: 10, H: 10}
	for _, c := range []struct {
		b    vectors.Box
		want float32
	}{
		{a, 1},
		{vectors.Box{X: 5, Y: 0, W: 10, H: 10}, 50.0 / 150},
		{vectors.Box{X: 10, Y: 10, W: 5, H: 5}, 0},
		{vectors.Box{X: 2, Y: 2, W: 6, H: 6}, 36.0 / 100},
	} {
		if got := IoU(a, c.b); math.Abs(float64(got-c.want)) > 1e-6 {
			t.Errorf("IoU(%v) = %v, want %v", c.b, got, c.want)
		}
	}
	cands := []candidate{
		{score: 0.6, box: vectors.Box{X: 1, Y: 0, W: 10, H: 10}},
		{score: 0.9, box: a},
		{score: 0.8, box: vectors.Box{X: 50, Y: 50, W: 10, H: 10}},
		{score: 0.7, box: vectors.Box{X: 5, Y: 0, W: 10, H: 10}}, // IoU 1/3 with a: kept at 0.3? no, dropped
	}
	keep := nms(cands, 0.3, 10)
	if len(keep) != 2 || keep[0].score != 0.9 || keep[1].score != 0.8 {
		t.Fatalf("nms kept %+v", keep)
	}
	if keep := nms(cands, 0.5, 10); len(keep) != 3 {
		t.Fatalf("nms at 0.5 kept %d", len(keep))
	}
	if keep := nms(cands, 0.3, 1); len(keep) != 1 {
		t.Fatalf("max faces ignored: %d", len(keep))
	}
}

func TestLetterboxAndROI(t *testing.T) {
	// The letterbox maps the 256-square onto the centred square of the
	// longer side: corners of the input square land on the square's corners.
	m := letterbox(400, 300)
	x, y := m.Apply(-0.5, -0.5)
	if math.Abs(x+0.5) > 1e-9 || math.Abs(y+50.5) > 1e-9 {
		t.Fatalf("top-left → (%v, %v)", x, y)
	}
	x, y = m.Apply(255.5, 255.5)
	if math.Abs(x-399.5) > 1e-9 || math.Abs(y-349.5) > 1e-9 {
		t.Fatalf("bottom-right → (%v, %v)", x, y)
	}
	// A region's crop centre maps to the region's centre, rotated axes.
	r := roi{cx: 100, cy: 80, side: 64, theta: math.Pi / 2}
	c := r.toImage(192)
	x, y = c.Apply(95.5, 95.5)
	if math.Abs(x-100) > 1e-9 || math.Abs(y-80) > 1e-9 {
		t.Fatalf("centre → (%v, %v)", x, y)
	}
	x, y = c.Apply(191.5, 95.5) // right edge of the crop: +32 along x rotated by 90°
	if math.Abs(x-100) > 1e-9 || math.Abs(y-112) > 1e-9 {
		t.Fatalf("right edge → (%v, %v)", x, y)
	}
}

func TestDetectImages(t *testing.T) {
	d := newDetector(t)
	tests := []struct {
		file      string
		faces     int
		oneErr    error   // nil: One is not run (it detects again)
		yawSign   int     // -1, 0 (|yaw| < 15), +1 for the best face
		mouthOpen float32 // lower bound; negative means "at most -value"
	}{
		{"three-people-0001.jpg", 3, vectors.ErrSeveralFaces, 0, -0.15},
		{"head-turn-a-0001.jpg", 1, nil, -1, -0.15},
		{"talking-b-take1-0030.jpg", 1, nil, 0, 0.25},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			img := loadImage(t, tc.file)
			faces := detectCached(t, tc.file)
			if len(faces) != tc.faces {
				t.Fatalf("%d faces, want %d", len(faces), tc.faces)
			}
			for i := 1; i < len(faces); i++ {
				if faces[i].Score > faces[i-1].Score {
					t.Fatal("faces not sorted by score")
				}
			}
			f := faces[0]
			if len(f.Landmarks) != meshPoints {
				t.Fatalf("%d landmarks", len(f.Landmarks))
			}
			// Anatomy: eyes above the nose above the mouth, image-left eye first.
			if !(f.Five[vectors.LeftEye].X < f.Five[vectors.RightEye].X && f.Five[vectors.Nose].Y > f.Five[vectors.LeftEye].Y &&
				f.Five[vectors.LeftMouth].Y > f.Five[vectors.Nose].Y && f.Five[vectors.LeftMouth].X < f.Five[vectors.RightMouth].X) {
				t.Fatalf("implausible five points %v", f.Five)
			}
			for _, p := range f.Five {
				if p.X < f.Box.X-f.Box.W/4 || p.X > f.Box.X+1.25*f.Box.W || p.Y < f.Box.Y-f.Box.H/4 || p.Y > f.Box.Y+1.25*f.Box.H {
					t.Fatalf("landmark %v far outside box %v", p, f.Box)
				}
			}
			switch tc.yawSign {
			case -1:
				if f.Yaw > -15 {
					t.Fatalf("yaw %v, want turned towards image-left", f.Yaw)
				}
			case 0:
				if math.Abs(float64(f.Yaw)) > 15 {
					t.Fatalf("yaw %v, want frontal", f.Yaw)
				}
			}
			if tc.mouthOpen > 0 && f.MouthOpen < tc.mouthOpen || tc.mouthOpen < 0 && f.MouthOpen > -tc.mouthOpen {
				t.Fatalf("mouth open %v, want bound %v", f.MouthOpen, tc.mouthOpen)
			}
			if tc.oneErr != nil {
				if _, err := d.One(img); !errors.Is(err, tc.oneErr) {
					t.Fatalf("One: %v, want %v", err, tc.oneErr)
				}
			} else if err := d.Check(f, img.Bounds()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			// The aligned crop must be computable from the five points.
			if _, _, err := align.Crop(img, f.Five, 112); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTypedErrors(t *testing.T) {
	d := newDetector(t)
	gray := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	if _, err := d.Detect(gray); !errors.Is(err, vectors.ErrNoFace) {
		t.Fatalf("blank image: %v", err)
	}
	if _, err := d.One(image.NewRGBA(image.Rect(0, 0, 0, 0))); !errors.Is(err, vectors.ErrNoFace) {
		t.Fatalf("empty image: %v", err)
	}

	img := loadImage(t, "talking-b-take1-0030.jpg")
	f := detectCached(t, "talking-b-take1-0030.jpg")[0]
	// Cut off: keep only the left half of the face.
	cut := img.SubImage(image.Rect(0, 0, int(f.Five[vectors.Nose].X), img.Rect.Dy())).(*image.RGBA)
	if err := d.Check(f, cut.Bounds()); !errors.Is(err, vectors.ErrFaceCutOff) {
		t.Fatalf("half face: %v", err)
	}
	if _, err := d.One(cut); !errors.Is(err, vectors.ErrFaceCutOff) && !errors.Is(err, vectors.ErrNoFace) {
		t.Fatalf("half-face image: %v", err)
	}
	// Too small: the same face scaled down four times.
	small := align.Warp(img, align.Affine{A: 4, E: 4, C: 1.5, F: 1.5}, img.Rect.Dx()/4, img.Rect.Dy()/4)
	if _, err := d.One(small); !errors.Is(err, vectors.ErrFaceTooSmall) && !errors.Is(err, vectors.ErrNoFace) {
		t.Fatalf("small face: %v", err)
	}
	tiny := f
	for i := range tiny.Five {
		tiny.Five[i].X /= 8
		tiny.Five[i].Y /= 8
	}
	if err := d.Check(tiny, img.Bounds()); !errors.Is(err, vectors.ErrFaceTooSmall) {
		t.Fatalf("tiny face: %v", err)
	}
	// Non-RGBA input takes the conversion path and finds the same face.
	gimg := image.NewNRGBA(img.Rect)
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			c := img.RGBAAt(x, y)
			gimg.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
		}
	}
	g, err := d.One(gimg)
	if err != nil || IoU(g.Box, f.Box) < 0.999 {
		t.Fatalf("NRGBA input: %v, IoU %v", err, IoU(g.Box, f.Box))
	}
}

func BenchmarkDetect(b *testing.B) {
	d := newDetector(b)
	img := loadImage(b, "talking-b-take1-0030.jpg")
	for b.Loop() {
		if _, err := d.One(img); err != nil {
			b.Fatal(err)
		}
	}
}
