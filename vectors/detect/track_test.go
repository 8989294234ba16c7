package detect

import (
	"errors"
	"image"
	"math"
	"testing"

	"github.com/facesign/facesign/vectors"
)

// TestTrackAgreesWithDetect checks the fast path against the slow one: a
// face tracked from a detection of the same frame measures as Detect
// measures it, within the mesh's own jitter (one more FaceMesh pass on a
// region a little different from Detect's second one: measured 1.2° and
// 2.7° of yaw, 0.024 of mouth ratio on these frames). Guidance can live with
// that; the frames a client sends are measured again with Detect.
func TestTrackAgreesWithDetect(t *testing.T) {
	d := newDetector(t)
	tests := []struct {
		from, to string
		maxYaw   float64 // degrees
		maxMouth float64
	}{
		{"talking-b-take1-0030.jpg", "talking-b-take1-0030.jpg", 4, 0.05},
		{"head-turn-a-0001.jpg", "head-turn-a-0001.jpg", 4, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			prev := detectCached(t, tc.from)[0]
			want := detectCached(t, tc.to)[0]
			got, err := d.Track(loadImage(t, tc.to), prev)
			if err != nil {
				t.Fatal(err)
			}
			if dy := math.Abs(float64(got.Yaw - want.Yaw)); dy > tc.maxYaw {
				t.Errorf("tracked yaw %.2f, detected %.2f", got.Yaw, want.Yaw)
			}
			if dm := math.Abs(float64(got.MouthOpen - want.MouthOpen)); dm > tc.maxMouth {
				t.Errorf("tracked mouth %.3f, detected %.3f", got.MouthOpen, want.MouthOpen)
			}
			if len(got.Landmarks) != meshPoints || got.Score < d.Options().MinMeshScore {
				t.Errorf("%d landmarks, presence %.2f", len(got.Landmarks), got.Score)
			}
			if iou := IoU(got.Box, want.Box); iou < 0.3 {
				t.Errorf("tracked box %v far from detected %v (IoU %.2f)", got.Box, want.Box, iou)
			}
		})
	}
}

func TestTrackErrors(t *testing.T) {
	d := newDetector(t)
	prev := detectCached(t, "talking-b-take1-0030.jpg")[0]
	gray := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	tests := []struct {
		name string
		img  image.Image
		prev vectors.Face
	}{
		{"no landmarks", loadImage(t, "talking-b-take1-0030.jpg"), vectors.Face{Box: prev.Box}},
		{"face gone", gray, prev},
		{"empty image", image.NewRGBA(image.Rect(0, 0, 0, 0)), prev},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := d.Track(tc.img, tc.prev)
			if !errors.Is(err, vectors.ErrNoFace) {
				t.Fatalf("err %v, want ErrNoFace", err)
			}
			if len(f.Landmarks) != 0 || f.Score != 0 {
				t.Fatalf("a result with the error: %+v", f.Box)
			}
		})
	}
}
