package capture

import (
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

func TestTracker(t *testing.T) {
	d, err := detect.New(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "testdata", "liveness", "talking-b-take1")
	var imgs []*image.RGBA
	var data [][]byte
	for _, n := range []string{"frame_0024.jpg", "frame_0025.jpg", "frame_0026.jpg"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := imageio.Decode(b, imageio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		imgs, data = append(imgs, img), append(data, b)
	}
	tr := NewTracker(d)
	tr.DetectEvery = 3
	for i, img := range imgs {
		// detect, track, detect… on the same person: tracking starts from the
		// previous frame, so it lags a moving mouth a little (0.06 seen here).
		fast := tr.Observe(img)
		slow, err := tr.Measure(data[i])
		if err != nil {
			t.Fatal(err)
		}
		if fast.Faces != 1 || slow.Faces != 1 {
			t.Fatalf("frame %d: %d / %d faces", i, fast.Faces, slow.Faces)
		}
		if math.Abs(float64(fast.Yaw-slow.Yaw)) > 4 || math.Abs(float64(fast.MouthOpen-slow.MouthOpen)) > 0.08 {
			t.Errorf("frame %d: tracked yaw %.1f mouth %.2f, measured %.1f %.2f", i, fast.Yaw, fast.MouthOpen, slow.Yaw, slow.MouthOpen)
		}
		if slow.Width != 400 || slow.Height != 300 || slow.EyeDistance < 20 || slow.Brightness < 50 {
			t.Errorf("frame %d: observation %+v", i, slow)
		}
		// The slow path is the detector's own measurement of those bytes.
		faces, err := d.Detect(img)
		if err != nil || faces[0].Yaw != slow.Yaw || faces[0].MouthOpen != slow.MouthOpen {
			t.Errorf("frame %d: Measure %.3f/%.3f, Detect %v", i, slow.Yaw, slow.MouthOpen, err)
		}
	}
	if _, err := tr.Measure([]byte("not an image")); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("garbage: %v", err)
	}
	blank := image.NewRGBA(image.Rect(0, 0, 320, 240))
	if o := tr.Observe(blank); o.Faces != 0 || o.Width != 320 {
		t.Fatalf("blank frame: %+v", o)
	}
}

func TestBrightness(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 2))
	img.Set(0, 0, color.RGBA{255, 255, 255, 255})
	img.Set(1, 0, color.RGBA{255, 0, 0, 255})
	tests := []struct {
		r    image.Rectangle
		want float64
	}{
		{image.Rect(0, 0, 1, 1), 255},
		{image.Rect(1, 0, 2, 1), 0.299 * 255},
		{image.Rect(0, 0, 2, 2), (255 + 0.299*255) / 4},
		{image.Rect(-5, -5, 1, 1), 255}, // clipped
		{image.Rect(10, 10, 20, 20), 0}, // outside
	}
	for _, tc := range tests {
		if got := Brightness(img, tc.r); math.Abs(float64(got)-tc.want) > 1e-3 {
			t.Errorf("Brightness(%v) = %v, want %v", tc.r, got, tc.want)
		}
	}
}
