package embednet

import (
	"crypto/sha256"
	"image"
	"io/fs"
	"math"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// Input returns the network input for crop, shape [1, size, size, 3]: per
// R, G, B channel c the value (v − sub[c]) / div[c] in float32 (v in
// 0..255; alpha is ignored). ok is false when crop is not size×size.
func Input(crop *image.RGBA, size int, sub, div [3]float32) (t *nn.Tensor, ok bool) {
	b := crop.Bounds()
	if size <= 0 || b.Dx() != size || b.Dy() != size {
		return nil, false
	}
	t = nn.New(1, size, size, 3)
	for y := range size {
		row := crop.Pix[crop.PixOffset(b.Min.X, b.Min.Y+y):]
		dst := t.Data[y*size*3 : (y+1)*size*3]
		for x := range size {
			for c := range 3 {
				dst[x*3+c] = (float32(row[x*4+c]) - sub[c]) / div[c]
			}
		}
	}
	return t, true
}

// UnitNorm scales v in place to unit L2 length (computed in float64). It
// returns false, leaving v unspecified, when v holds NaN or ±Inf or is all
// zeros.
func UnitNorm(v []float32) bool {
	var s float64
	for _, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
		s += float64(f) * float64(f)
	}
	if s == 0 || math.IsInf(s, 0) {
		return false
	}
	inv := 1 / math.Sqrt(s)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return true
}

// HashFiles returns SHA-256 over the contents of the named files of fsys,
// in order.
func HashFiles(fsys fs.FS, names ...string) ([32]byte, error) {
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return [32]byte{}, err
		}
		h.Write(b)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// Embed runs raw on crop and returns its output scaled to unit length, or
// notFinite (the network package's error) when the output cannot be
// normalised ([UnitNorm]).
func Embed(raw func(*image.RGBA) ([]float32, error), crop *image.RGBA, notFinite error) ([]float32, error) {
	v, err := raw(crop)
	return normalised(v, err, notFinite)
}

// EmbedFlip is [Embed] of [FlipSum]: the sum of crop's and its mirror's
// outputs, scaled to unit length.
func EmbedFlip(raw func(*image.RGBA) ([]float32, error), crop *image.RGBA, notFinite error) ([]float32, error) {
	v, err := FlipSum(raw, crop)
	return normalised(v, err, notFinite)
}

func normalised(v []float32, err, notFinite error) ([]float32, error) {
	if err != nil {
		return nil, err
	}
	if !UnitNorm(v) {
		return nil, notFinite
	}
	return v, nil
}

// FlipSum runs raw on crop and on its mirror image and returns the sum of
// the two outputs (not normalised): test-time flip augmentation, shared by
// the networks' EmbedFlip. The mirror's pixels are zeroed after use.
func FlipSum(raw func(*image.RGBA) ([]float32, error), crop *image.RGBA) ([]float32, error) {
	a, err := raw(crop)
	if err != nil {
		return nil, err
	}
	m := Mirror(crop)
	defer clear(m.Pix)
	b, err := raw(m)
	if err != nil {
		return nil, err
	}
	for i := range a {
		a[i] += b[i]
	}
	return a, nil
}

// Mirror returns crop flipped left to right, as a new image at the origin.
func Mirror(crop *image.RGBA) *image.RGBA {
	b := crop.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		src := crop.Pix[crop.PixOffset(b.Min.X, b.Min.Y+y):]
		dst := m.Pix[m.PixOffset(0, y):]
		for x := range b.Dx() {
			copy(dst[4*x:4*x+4], src[4*(b.Dx()-1-x):])
		}
	}
	return m
}
