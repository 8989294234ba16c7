package capture

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

// Tracker is the device's face tracking for [Live]: the project's own
// detector (vectors/detect, the one the enclave's engine uses), run on the
// device. [Tracker.Observe] is the fast path for guidance: a full detection
// every [Tracker.DetectEvery] frames (it counts faces), FaceMesh tracking
// from the previous face in between. [Tracker.Measure] is the slow path the
// kept frames go through: the encoded bytes decoded as the enclave decodes
// them and a full detection, so that what decides is what the enclave will
// see. A Tracker is not safe for concurrent use.
type Tracker struct {
	d *detect.Detector
	// DetectEvery is how often Observe runs a full detection (1: every
	// frame). Zero means 3.
	DetectEvery int
	// Limits bound what Measure decodes.
	Limits imageio.Limits

	prev *vectors.Face
	n    int
}

// NewTracker returns a tracker on detector d.
func NewTracker(d *detect.Detector) *Tracker {
	return &Tracker{d: d, Limits: imageio.DefaultLimits}
}

// Observe measures one camera frame, fast. A frame without a face is an
// observation with Faces == 0, not an error.
func (t *Tracker) Observe(img *image.RGBA) Observation {
	every := t.DetectEvery
	if every <= 0 {
		every = 3
	}
	t.n++
	if t.prev != nil && t.n%every != 0 {
		if f, err := t.d.Track(img, *t.prev); err == nil {
			t.prev = &f
			return observe(img, []vectors.Face{f})
		}
	}
	faces, err := t.d.Detect(img)
	if err != nil || len(faces) == 0 {
		t.prev = nil
		return observe(img, nil)
	}
	if len(faces) == 1 {
		t.prev = &faces[0]
	} else {
		t.prev = nil
	}
	return observe(img, faces)
}

// ErrUndecodable reports encoded frame bytes that do not decode.
var ErrUndecodable = errors.New("capture: the frame does not decode")

// Measure decodes data (JPEG or PNG) and runs a full detection on it.
func (t *Tracker) Measure(data []byte) (Observation, error) {
	img, _, err := imageio.Decode(data, t.Limits)
	if err != nil {
		return Observation{}, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	faces, err := t.d.Detect(img)
	if err != nil && !errors.Is(err, vectors.ErrNoFace) {
		return Observation{}, err
	}
	return observe(img, faces), nil
}

// observe turns detections into an observation of img.
func observe(img *image.RGBA, faces []vectors.Face) Observation {
	b := img.Bounds()
	o := Observation{Faces: len(faces), Width: b.Dx(), Height: b.Dy()}
	if len(faces) != 1 {
		return o
	}
	f := faces[0]
	o.Yaw, o.MouthOpen = f.Yaw, f.MouthOpen
	l, r := f.Five[vectors.LeftEye], f.Five[vectors.RightEye]
	o.EyeDistance = float32(math.Hypot(float64(l.X-r.X), float64(l.Y-r.Y)))
	o.FaceX, o.FaceY, o.FaceW, o.FaceH = f.Box.X, f.Box.Y, f.Box.W, f.Box.H
	o.Five = f.Five
	o.Brightness = Brightness(img, image.Rect(int(f.Box.X), int(f.Box.Y), int(f.Box.X+f.Box.W), int(f.Box.Y+f.Box.H)))
	return o
}

// Brightness is the mean luma (BT.601, 0..255) of img inside r (in pixels
// relative to img's bounds' origin, clipped to the image); 0 for an empty
// region.
func Brightness(img *image.RGBA, r image.Rectangle) float32 {
	b := img.Bounds()
	r = r.Add(b.Min).Intersect(b)
	if r.Empty() {
		return 0
	}
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			sum += 0.299*float64(row[i]) + 0.587*float64(row[i+1]) + 0.114*float64(row[i+2])
		}
	}
	return float32(sum / float64(r.Dx()*r.Dy()))
}
