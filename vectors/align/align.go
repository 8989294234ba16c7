package align

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/facesign/facesign/vectors"
)

// ErrDegenerate reports landmarks that do not determine a transform (all
// points coincide, or a non-finite coordinate).
var ErrDegenerate = errors.New("align: degenerate landmarks")

// Affine is the 2-D affine map (x, y) ↦ (A·x + B·y + C, D·x + E·y + F).
type Affine struct{ A, B, C, D, E, F float64 }

// Identity is the identity map.
var Identity = Affine{A: 1, E: 1}

// Apply maps p.
func (m Affine) Apply(x, y float64) (float64, float64) {
	return m.A*x + m.B*y + m.C, m.D*x + m.E*y + m.F
}

// ApplyPoint maps a vectors.Point.
func (m Affine) ApplyPoint(p vectors.Point) vectors.Point {
	x, y := m.Apply(float64(p.X), float64(p.Y))
	return vectors.Point{X: float32(x), Y: float32(y)}
}

// Then returns the map that applies m first and n second.
func (m Affine) Then(n Affine) Affine {
	return Affine{
		A: n.A*m.A + n.B*m.D, B: n.A*m.B + n.B*m.E, C: n.A*m.C + n.B*m.F + n.C,
		D: n.D*m.A + n.E*m.D, E: n.D*m.B + n.E*m.E, F: n.D*m.C + n.E*m.F + n.F,
	}
}

// Invert returns the inverse map, or ErrDegenerate when m is singular.
func (m Affine) Invert() (Affine, error) {
	det := m.A*m.E - m.B*m.D
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return Affine{}, fmt.Errorf("%w: singular transform", ErrDegenerate)
	}
	a, b, d, e := m.E/det, -m.B/det, -m.D/det, m.A/det
	return Affine{A: a, B: b, C: -(a*m.C + b*m.F), D: d, E: e, F: -(d*m.C + e*m.F)}, nil
}

// Scale returns the similarity's scale factor sqrt(|det|).
func (m Affine) Scale() float64 { return math.Sqrt(math.Abs(m.A*m.E - m.B*m.D)) }

// ArcFace112 is the standard five-point template of the 112×112 ArcFace /
// InsightFace crop: image-left eye, image-right eye, nose tip, image-left and
// image-right mouth corner.
var ArcFace112 = [5]vectors.Point{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// Similarity returns the similarity transform (uniform scale, rotation,
// translation; no reflection) that maps src onto dst with the least sum of
// squared distances. src and dst must have the same length, at least 2.
func Similarity(src, dst []vectors.Point) (Affine, error) {
	n := len(src)
	if n < 2 || n != len(dst) {
		return Affine{}, fmt.Errorf("%w: %d source and %d target points", ErrDegenerate, len(src), len(dst))
	}
	var msx, msy, mdx, mdy float64
	for i := range src {
		msx += float64(src[i].X)
		msy += float64(src[i].Y)
		mdx += float64(dst[i].X)
		mdy += float64(dst[i].Y)
	}
	fn := float64(n)
	msx, msy, mdx, mdy = msx/fn, msy/fn, mdx/fn, mdy/fn
	// Treat points as complex numbers: the best z_d ≈ w·z_s has
	// w = Σ conj(z_s)·z_d / Σ |z_s|² (centred), i.e. scale·e^{iθ}.
	var num, cross, den float64
	for i := range src {
		sx, sy := float64(src[i].X)-msx, float64(src[i].Y)-msy
		dx, dy := float64(dst[i].X)-mdx, float64(dst[i].Y)-mdy
		num += sx*dx + sy*dy
		cross += sx*dy - sy*dx
		den += sx*sx + sy*sy
	}
	if !(den > 1e-12) || math.IsInf(den, 0) || math.IsNaN(num+cross) {
		return Affine{}, fmt.Errorf("%w: source points coincide or are not finite", ErrDegenerate)
	}
	a, b := num/den, cross/den
	if a == 0 && b == 0 {
		return Affine{}, fmt.Errorf("%w: target points coincide", ErrDegenerate)
	}
	return Affine{A: a, B: -b, C: mdx - a*msx + b*msy, D: b, E: a, F: mdy - b*msx - a*msy}, nil
}

// ToTemplate returns the similarity mapping five landmarks onto template
// scaled by size/112 (template given for a 112-pixel crop).
func ToTemplate(five [5]vectors.Point, template [5]vectors.Point, size int) (Affine, error) {
	k := float32(size) / 112
	dst := make([]vectors.Point, 5)
	for i, p := range template {
		dst[i] = vectors.Point{X: p.X * k, Y: p.Y * k}
	}
	return Similarity(five[:], dst)
}

// Crop aligns the face with landmarks five onto the ArcFace template and
// returns the size×size crop together with the image→crop transform.
func Crop(img image.Image, five [5]vectors.Point, size int) (*image.RGBA, Affine, error) {
	if size <= 0 || size > 4096 {
		return nil, Affine{}, fmt.Errorf("align: crop size %d out of range", size)
	}
	fwd, err := ToTemplate(five, ArcFace112, size)
	if err != nil {
		return nil, Affine{}, err
	}
	inv, err := fwd.Invert()
	if err != nil {
		return nil, Affine{}, err
	}
	return Warp(img, inv, size, size), fwd, nil
}
