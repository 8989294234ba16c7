package vectors

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Frame quality and quality-weighted fusion.
//
// A capture is several frames of one face; their vectors are fused into the
// one vector the 1:N search uses. Frames are not equally useful: a face
// turned 40° to answer a "turn left" challenge, a frame smeared by motion or
// a face far from the camera embeds worse than a sharp frontal close-up. So
// each frame weighs by [Quality] and [Fuse] takes the weighted mean.

// Quality settings: what each factor of [Quality] is measured against.
const (
	// QualityPoseSigma (degrees) is the width of the pose factor: a face
	// turned by this much (yaw and pitch combined) weighs e^(−1/2) ≈ 0.61 of
	// a frontal one, at twice that 0.14. Embedding networks are trained on
	// mostly frontal faces and the challenge's turns reach 30–45°.
	QualityPoseSigma = 25
	// QualityFaceSize (pixels) is the face box side at and above which size
	// stops mattering: the side of the 112×112 crop embedding networks take.
	// Smaller faces weigh side/QualityFaceSize (they are upsampled: no detail).
	QualityFaceSize = 112
	// QualitySharpness is the sharpness ([Sharpness]) at which the
	// sharpness factor is 1/2. It is the median sharpness of the faces of
	// the LFW calibration half (642 images, every tenth: quartiles 0.165 /
	// 0.232 / 0.325; docs/templates.md): an LFW face of median sharpness
	// weighs half of a perfectly sharp one. Webcam frames of the committed
	// recordings measure 0.33–0.98 (10th–90th percentile), so they weigh
	// 0.6–0.8 for sharpness, and motion-blurred frames much less.
	QualitySharpness = 0.23
	// QualityFloor is the smallest weight [Quality] returns: no frame that
	// passed detection is ignored outright.
	QualityFloor = 1e-3
)

// SharpnessPatch is the side of the grey patch [Sharpness] resamples the
// face box to, so that the measure does not depend on the face's size in
// pixels (size has its own factor).
const SharpnessPatch = 64

// Quality is how much a frame's face vector should weigh when the frames of
// one capture are fused ([Fuse]): the product of four factors, each in
// (0, 1], floored at [QualityFloor]:
//
//   - detector: the detector's score f.Score, clamped to [0.05, 1];
//   - pose: exp(−(yaw² + pitch²) / (2·[QualityPoseSigma]²)), frontal = 1
//     (roll is undone by the alignment, so it does not count);
//   - sharpness: s / (s + [QualitySharpness]) with s = [Sharpness] of the
//     face box;
//   - size: min(1, min(box width, height) / [QualityFaceSize]).
//
// img must be the image f was detected in. Quality is a relative weight, not
// a probability: only ratios between the frames of one capture matter.
func Quality(f Face, img image.Image) float32 { return Factors(f, img).Weight() }

// QualityFactors are the four factors of [Quality], each in [0, 1].
type QualityFactors struct {
	Detector, Pose, Sharpness, Size float64
}

// Factors computes the factors of [Quality] for face f of img.
func Factors(f Face, img image.Image) QualityFactors {
	det := clamp(float64(f.Score), 0.05, 1)
	if math.IsNaN(det) {
		det = 0.05
	}
	yaw, pitch := float64(f.Yaw), float64(f.Pitch)
	pose := math.Exp(-(yaw*yaw + pitch*pitch) / (2 * QualityPoseSigma * QualityPoseSigma))
	if math.IsNaN(pose) {
		pose = 0
	}
	s := Sharpness(img, f.Box)
	sharp := s / (s + QualitySharpness)
	if math.IsNaN(sharp) {
		sharp = 0
	}
	side := math.Min(float64(f.Box.W), float64(f.Box.H))
	size := clamp(side/QualityFaceSize, 0, 1)
	if math.IsNaN(size) {
		size = 0
	}
	return QualityFactors{Detector: det, Pose: pose, Sharpness: sharp, Size: size}
}

// Weight is the product of the factors, floored at [QualityFloor]: the
// value of [Quality].
func (q QualityFactors) Weight() float32 {
	return float32(math.Max(q.Detector*q.Pose*q.Sharpness*q.Size, QualityFloor))
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// Sharpness measures how much fine detail the face box of img holds: the box
// is resampled (bilinear) to a [SharpnessPatch]² grey patch, and the result
// is the variance of its 4-neighbour Laplacian divided by the variance of the
// patch itself (+1 grey level², so a flat patch gives 0, not NaN). Dividing
// by the patch's own contrast makes it independent of lighting and
// exposure; blur (motion, focus, a small face upsampled) removes the high
// frequencies the Laplacian sees. A box outside the image gives 0.
func Sharpness(img image.Image, box Box) float64 {
	var p [SharpnessPatch * SharpnessPatch]float64
	if !greyPatch(img, box, p[:]) {
		return 0
	}
	return laplacianRatio(p[:], SharpnessPatch)
}

// laplacianRatio is var(Laplacian) / (var(patch) + 1) over the interior of
// an n×n patch.
func laplacianRatio(p []float64, n int) float64 {
	var sum, sq float64
	for _, v := range p {
		sum += v
		sq += v * v
	}
	m := sum / float64(len(p))
	varP := sq/float64(len(p)) - m*m
	var ls, lq float64
	k := 0
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			i := y*n + x
			l := p[i-n] + p[i+n] + p[i-1] + p[i+1] - 4*p[i]
			ls += l
			lq += l * l
			k++
		}
	}
	lm := ls / float64(k)
	varL := lq/float64(k) - lm*lm
	return math.Max(varL, 0) / (math.Max(varP, 0) + 1)
}

// greyPatch samples box of img bilinearly into the n×n patch p (luma,
// 0..255), reading *image.RGBA directly and any other image through At.
// It reports false when the box is empty, not finite or outside the image.
func greyPatch(img image.Image, box Box, p []float64) bool {
	n := int(math.Sqrt(float64(len(p))))
	b := img.Bounds()
	bx, by, bw, bh := float64(box.X), float64(box.Y), float64(box.W), float64(box.H)
	if !(bw > 0 && bh > 0) || math.IsInf(bx+by+bw+bh, 0) || math.IsNaN(bx+by+bw+bh) || b.Empty() {
		return false
	}
	if bx+bw <= float64(b.Min.X) || by+bh <= float64(b.Min.Y) || bx >= float64(b.Max.X) || by >= float64(b.Max.Y) {
		return false
	}
	luma := lumaAt(img)
	for py := 0; py < n; py++ {
		sy := by + (float64(py)+0.5)*bh/float64(n) - 0.5
		for px := 0; px < n; px++ {
			sx := bx + (float64(px)+0.5)*bw/float64(n) - 0.5
			p[py*n+px] = bilinear(luma, b, sx, sy)
		}
	}
	return true
}

// lumaAt returns the luma (0..255, BT.601 weights) of pixel (x, y) of img.
func lumaAt(img image.Image) func(x, y int) float64 {
	if m, ok := img.(*image.RGBA); ok {
		return func(x, y int) float64 {
			o := m.PixOffset(x, y)
			return 0.299*float64(m.Pix[o]) + 0.587*float64(m.Pix[o+1]) + 0.114*float64(m.Pix[o+2])
		}
	}
	return func(x, y int) float64 { return lumaSlow(img, x, y) }
}

// lumaSlow is the obviously-correct twin of the *image.RGBA fast path.
func lumaSlow(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(b>>8))
}

// bilinear samples luma at (x, y), clamping to the image bounds.
func bilinear(luma func(x, y int) float64, b image.Rectangle, x, y float64) float64 {
	x = clamp(x, float64(b.Min.X), float64(b.Max.X-1))
	y = clamp(y, float64(b.Min.Y), float64(b.Max.Y-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, b.Max.X-1), min(y0+1, b.Max.Y-1)
	fx, fy := x-float64(x0), y-float64(y0)
	top := luma(x0, y0)*(1-fx) + luma(x1, y0)*fx
	bot := luma(x0, y1)*(1-fx) + luma(x1, y1)*fx
	return top*(1-fy) + bot*fy
}

// Fusion errors.
var (
	// ErrNothingToFuse: no vectors were given.
	ErrNothingToFuse = errors.New("vectors: no face vectors to fuse")
	// ErrBadWeight: a weight is not positive and finite, or there is not
	// one weight per vector.
	ErrBadWeight = errors.New("vectors: fusion weights must be positive and finite, one per vector")
	// ErrCancelled: the weighted sum is zero (or not finite), so it has no
	// direction.
	ErrCancelled = errors.New("vectors: face vectors cancel out")
)

// Fuse returns the weighted mean of vecs, L2-normalised: the direction of
// Σ wᵢ·vᵢ. Every vector must come from one engine ([ErrEngineMismatch]),
// every weight must be positive and finite ([ErrBadWeight]); weights are
// relative (scaling them all changes nothing). With equal weights it is the
// plain mean of the (already normalised) vectors. Sums are kept in float64,
// so the result does not depend on the order of the vectors beyond float32
// rounding of the output. The inputs are not modified.
func Fuse(vecs []FaceVector, weights []float32) (FaceVector, error) {
	if len(vecs) == 0 {
		return FaceVector{}, ErrNothingToFuse
	}
	if len(weights) != len(vecs) {
		return FaceVector{}, fmt.Errorf("%w: %d weights for %d vectors", ErrBadWeight, len(weights), len(vecs))
	}
	first := vecs[0]
	if len(first.Values) == 0 {
		return FaceVector{}, fmt.Errorf("%w: vector 0 is empty", ErrNothingToFuse)
	}
	sum := make([]float64, len(first.Values))
	for i, v := range vecs {
		if v.Engine != first.Engine || v.ModelSHA256 != first.ModelSHA256 || len(v.Values) != len(sum) {
			return FaceVector{}, fmt.Errorf("vector %d: %w", i, ErrEngineMismatch)
		}
		w := float64(weights[i])
		if !(w > 0) || math.IsInf(w, 0) {
			return FaceVector{}, fmt.Errorf("%w: weight %d is %v", ErrBadWeight, i, weights[i])
		}
		for j, x := range v.Values {
			sum[j] += w * float64(x)
		}
	}
	var n float64
	for _, x := range sum {
		n += x * x
	}
	if n == 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return FaceVector{}, ErrCancelled
	}
	inv := 1 / math.Sqrt(n)
	out := make([]float32, len(sum))
	for j, x := range sum {
		out[j] = float32(x * inv)
	}
	return FaceVector{Engine: first.Engine, ModelSHA256: first.ModelSHA256, Values: out}, nil
}
