package faceengine

import (
	"errors"
	"image"
	"math"
	"testing"

	"github.com/facesign/facesign/vectors/arcfacemfn"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/frfeature"
)

// fixedNet is a test embedder returning a fixed unit vector derived from the
// crop's first pixel, so two crops give known cosines.
type fixedNet struct {
	size, dim int
	sha       byte
}

func (f fixedNet) Embed(crop *image.RGBA) ([]float32, error) {
	v := make([]float32, f.dim)
	a := float64(crop.Pix[0]) / 255 * math.Pi / 2
	v[0], v[1] = float32(math.Cos(a)), float32(math.Sin(a))
	return v, nil
}
func (f fixedNet) ModelSHA256() [32]byte { return [32]byte{f.sha} }
func (f fixedNet) InputSize() int        { return f.size }
func (f fixedNet) Dim() int              { return f.dim }

func cropWith(v uint8) *image.RGBA {
	c := image.NewRGBA(image.Rect(0, 0, 4, 4))
	c.Pix[0] = v
	return c
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestConcatIsWeightedScoreFusion(t *testing.T) {
	a, b := fixedNet{4, 3, 1}, fixedNet{4, 5, 2}
	for _, w := range [][]float64{nil, {1, 3}, {0.2, 0.8}} {
		c, err := newConcat([]embedder{a, b}, w)
		if err != nil {
			t.Fatal(err)
		}
		if c.Dim() != 8 || c.InputSize() != 4 {
			t.Fatalf("dim %d size %d", c.Dim(), c.InputSize())
		}
		x, y := cropWith(0), cropWith(200)
		cx, _ := c.Embed(x)
		cy, _ := c.Embed(y)
		ax, _ := a.Embed(x)
		ay, _ := a.Embed(y)
		bx, _ := b.Embed(x)
		by, _ := b.Embed(y)
		if n := dot(cx, cx); math.Abs(n-1) > 1e-6 {
			t.Errorf("weights %v: |v|² = %v, want 1", w, n)
		}
		want := c.weights[0]*dot(ax, ay) + c.weights[1]*dot(bx, by)
		if got := dot(cx, cy); math.Abs(got-want) > 1e-6 {
			t.Errorf("weights %v: cosine %v, want weighted mean %v", w, got, want)
		}
	}
}

func TestConcatHashNamesPartsAndWeights(t *testing.T) {
	a, b := fixedNet{4, 3, 1}, fixedNet{4, 5, 2}
	c1, _ := newConcat([]embedder{a, b}, nil)
	c2, _ := newConcat([]embedder{b, a}, nil)
	c3, _ := newConcat([]embedder{a, b}, []float64{1, 2})
	if c1.ModelSHA256() == c2.ModelSHA256() || c1.ModelSHA256() == c3.ModelSHA256() {
		t.Fatal("order or weights of the parts do not change the model hash")
	}
}

func TestConcatRejects(t *testing.T) {
	a := fixedNet{4, 3, 1}
	for name, tc := range map[string]struct {
		parts []embedder
		w     []float64
	}{
		"one part":     {[]embedder{a}, nil},
		"size differs": {[]embedder{a, fixedNet{5, 3, 2}}, nil},
		"zero weight":  {[]embedder{a, a}, []float64{1, 0}},
		"NaN weight":   {[]embedder{a, a}, []float64{1, math.NaN()}},
		"weight count": {[]embedder{a, a}, []float64{1}},
	} {
		if _, err := newConcat(tc.parts, tc.w); !errors.Is(err, errConcat) {
			t.Errorf("%s: err = %v, want errConcat", name, err)
		}
	}
}

// TestFusedIsMeanOfParts checks the registered fused engine on a real crop:
// its vector is the two networks' unit vectors, each scaled by 1/√2.
func TestFusedIsMeanOfParts(t *testing.T) {
	if testing.Short() {
		t.Skip("three forward passes")
	}
	e, err := NewArcfaceFused(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != ArcfaceFusedName || e.Dim() != arcfacemfn.Dim+frfeature.Dim {
		t.Fatalf("engine %s dim %d", e.ID(), e.Dim())
	}
	faces, vecs := embedCached(t, ArcfaceFusedName, "head-turn-a-0020.jpg")
	if len(faces) != 1 {
		t.Fatalf("%d faces", len(faces))
	}
	_, mv := embedCached(t, ArcfaceMFNName, "head-turn-a-0020.jpg")
	_, fv := embedCached(t, FRFeatureName, "head-turn-a-0020.jpg")
	got := vecs[0].Values
	want := append(append([]float32(nil), mv[0].Values...), fv[0].Values...)
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])/math.Sqrt2); d > 1e-6 {
			t.Fatalf("value %d: %v, want %v/√2", i, got[i], want[i])
		}
	}
}
