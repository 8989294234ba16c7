package align

import (
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facesign/facesign/vectors"
	"gonum.org/v1/gonum/mat"
)

// umeyama is the reference twin: Umeyama's SVD solution (IEEE PAMI 13(4),
// 1991, eqs. 40–42) with the reflection guard, written from the paper.
func umeyama(src, dst []vectors.Point) Affine {
	n := float64(len(src))
	var ms, md [2]float64
	for i := range src {
		ms[0] += float64(src[i].X) / n
		ms[1] += float64(src[i].Y) / n
		md[0] += float64(dst[i].X) / n
		md[1] += float64(dst[i].Y) / n
	}
	cov := mat.NewDense(2, 2, nil)
	var varS float64
	for i := range src {
		s := [2]float64{float64(src[i].X) - ms[0], float64(src[i].Y) - ms[1]}
		d := [2]float64{float64(dst[i].X) - md[0], float64(dst[i].Y) - md[1]}
		varS += (s[0]*s[0] + s[1]*s[1]) / n
		for r := 0; r < 2; r++ {
			for c := 0; c < 2; c++ {
				cov.Set(r, c, cov.At(r, c)+d[r]*s[c]/n)
			}
		}
	}
	var svd mat.SVD
	if !svd.Factorize(cov, mat.SVDFull) {
		panic("svd failed")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	sv := svd.Values(nil)
	sgn := 1.0
	if mat.Det(&u)*mat.Det(&v) < 0 {
		sgn = -1
	}
	S := mat.NewDiagDense(2, []float64{1, sgn})
	var r, tmp mat.Dense
	tmp.Mul(&u, S)
	r.Mul(&tmp, v.T())
	c := (sv[0] + sgn*sv[1]) / varS
	tx := md[0] - c*(r.At(0, 0)*ms[0]+r.At(0, 1)*ms[1])
	ty := md[1] - c*(r.At(1, 0)*ms[0]+r.At(1, 1)*ms[1])
	return Affine{A: c * r.At(0, 0), B: c * r.At(0, 1), C: tx, D: c * r.At(1, 0), E: c * r.At(1, 1), F: ty}
}

func similarity(scale, theta, tx, ty float64) Affine {
	c, s := scale*math.Cos(theta), scale*math.Sin(theta)
	return Affine{A: c, B: -s, C: tx, D: s, E: c, F: ty}
}

func closeAffine(a, b Affine, tol float64) bool {
	return math.Abs(a.A-b.A) < tol && math.Abs(a.B-b.B) < tol && math.Abs(a.C-b.C) < tol &&
		math.Abs(a.D-b.D) < tol && math.Abs(a.E-b.E) < tol && math.Abs(a.F-b.F) < tol
}

func TestSimilarityRecoversKnownTransforms(t *testing.T) {
	tests := []struct {
		name                 string
		scale, theta, tx, ty float64
	}{
		{"identity", 1, 0, 0, 0},
		{"shift", 1, 0, 12.5, -7.25},
		{"scale down", 0.25, 0, 3, 4},
		{"rotate 30", 1.7, math.Pi / 6, -40, 80},
		{"rotate -90", 2, -math.Pi / 2, 100, 5},
		{"upside down", 0.8, math.Pi, 200, 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := similarity(tc.scale, tc.theta, tc.tx, tc.ty)
			src := ArcFace112[:]
			dst := make([]vectors.Point, 5)
			for i, p := range src {
				x, y := want.Apply(float64(p.X), float64(p.Y))
				dst[i] = vectors.Point{X: float32(x), Y: float32(y)}
			}
			got, err := Similarity(src, dst)
			if err != nil {
				t.Fatal(err)
			}
			// float32 points limit the precision to about 1e-4 pixels.
			if !closeAffine(got, want, 1e-3) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestSimilarityMatchesUmeyama(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		n := 2 + rng.IntN(8)
		src := make([]vectors.Point, n)
		dst := make([]vectors.Point, n)
		for j := range src {
			src[j] = vectors.Point{X: float32(rng.Float64() * 300), Y: float32(rng.Float64() * 300)}
			dst[j] = vectors.Point{X: float32(rng.Float64() * 112), Y: float32(rng.Float64() * 112)}
		}
		got, err := Similarity(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		want := umeyama(src, dst)
		if !closeAffine(got, want, 1e-6*(1+math.Abs(want.C)+math.Abs(want.F))) {
			t.Fatalf("case %d: got %+v, reference %+v", i, got, want)
		}
		if det := got.A*got.E - got.B*got.D; det < 0 {
			t.Fatalf("case %d: reflection (det %v)", i, det)
		}
	}
}

func TestSimilarityNeverReflects(t *testing.T) {
	// A mirrored template: the best proper similarity has a positive
	// determinant and leaves a residual.
	dst := make([]vectors.Point, 5)
	for i, p := range ArcFace112 {
		dst[i] = vectors.Point{X: 112 - p.X, Y: p.Y}
	}
	m, err := Similarity(ArcFace112[:], dst)
	if err != nil {
		t.Fatal(err)
	}
	if m.A*m.E-m.B*m.D <= 0 {
		t.Fatalf("reflection %+v", m)
	}
}

func TestSimilarityDegenerate(t *testing.T) {
	p := vectors.Point{X: 5, Y: 5}
	nan := vectors.Point{X: float32(math.NaN()), Y: 1}
	for _, tc := range []struct {
		name     string
		src, dst []vectors.Point
	}{
		{"one point", []vectors.Point{p}, []vectors.Point{p}},
		{"length mismatch", ArcFace112[:], ArcFace112[:4]},
		{"coincident source", []vectors.Point{p, p, p}, ArcFace112[:3]},
		{"coincident target", ArcFace112[:3], []vectors.Point{p, p, p}},
		{"nan", []vectors.Point{nan, p, {X: 9, Y: 9}}, ArcFace112[:3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Similarity(tc.src, tc.dst); !errors.Is(err, ErrDegenerate) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestAffineAlgebra(t *testing.T) {
	m := similarity(1.3, 0.4, 10, -3)
	n := similarity(0.5, -1.1, 2, 7)
	inv, err := m.Invert()
	if err != nil {
		t.Fatal(err)
	}
	if !closeAffine(m.Then(inv), Identity, 1e-12) {
		t.Fatalf("m then inverse = %+v", m.Then(inv))
	}
	x, y := m.Then(n).Apply(3, 4)
	x1, y1 := m.Apply(3, 4)
	x2, y2 := n.Apply(x1, y1)
	if math.Abs(x-x2) > 1e-12 || math.Abs(y-y2) > 1e-12 {
		t.Fatal("Then does not compose in order")
	}
	if _, err := (Affine{}).Invert(); !errors.Is(err, ErrDegenerate) {
		t.Fatal("singular map inverted")
	}
}

// warpRef is the plain twin of Warp: float64 bilinear from image.At.
func warpRef(img image.Image, inv Affine, w, h int) *image.RGBA {
	b := img.Bounds()
	get := func(x, y int) [3]float64 {
		if x < 0 || y < 0 || x >= b.Dx() || y >= b.Dy() {
			return [3]float64{}
		}
		r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bb >> 8)}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := inv.Apply(float64(x), float64(y))
			x0, y0 := math.Floor(sx), math.Floor(sy)
			ax, ay := sx-x0, sy-y0
			var v [3]float64
			for _, c := range []struct {
				dx, dy int
				w      float64
			}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
				p := get(int(x0)+c.dx, int(y0)+c.dy)
				for k := range v {
					v[k] += c.w * p[k]
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(math.Round(v[0])), uint8(math.Round(v[1])), uint8(math.Round(v[2])), 255})
		}
	}
	return out
}

func noise(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	return m
}

func TestWarpMatchesReference(t *testing.T) {
	src := noise(97, 83, 3)
	sub := src.SubImage(image.Rect(10, 7, 80, 70))
	gray := image.NewGray(image.Rect(0, 0, 50, 40))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	for _, tc := range []struct {
		name string
		img  image.Image
		inv  Affine
	}{
		{"identity", src, Identity},
		{"subpixel shift", src, Affine{A: 1, C: 0.37, E: 1, F: -0.61}},
		{"rotate and scale", src, similarity(0.71, 0.5, 20, -10)},
		{"outside", src, similarity(3, 2, -50, 400)},
		{"subimage", sub, similarity(1.2, -0.3, 5, 5)},
		{"gray source", gray, similarity(0.5, 0.2, 3, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Warp(tc.img, tc.inv, 64, 48)
			want := warpRef(tc.img, tc.inv, 64, 48)
			for i := range got.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				if d < -1 || d > 1 {
					t.Fatalf("byte %d: %d vs reference %d", i, got.Pix[i], want.Pix[i])
				}
			}
			f := make([]float32, 64*48*3)
			WarpFloat(f, tc.img, tc.inv, 64, 48, 1/127.5, -1)
			for i := 0; i < 64*48; i++ {
				for k := 0; k < 3; k++ {
					v := (f[3*i+k] + 1) * 127.5
					if math.Abs(float64(v)-float64(want.Pix[4*i+k])) > 0.51 {
						t.Fatalf("float pixel %d/%d: %v vs %d", i, k, v, want.Pix[4*i+k])
					}
				}
			}
		})
	}
}

// atLoop is the sampler's general loop alone (every sample through the
// per-neighbour checks): the twin the interior fast path must reproduce.
func (s *sampler) atLoop(x, y float64, out *[3]float32) {
	out[0], out[1], out[2] = 0, 0, 0
	if math.IsNaN(x) || math.IsNaN(y) || x <= -1 || y <= -1 || x >= float64(s.w) || y >= float64(s.h) {
		return
	}
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	ax, ay := float32(x-fx), float32(y-fy)
	ws := [4]float32{(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay}
	for k, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		px, py := ix+d[0], iy+d[1]
		if px < 0 || py < 0 || px >= s.w || py >= s.h || ws[k] == 0 {
			continue
		}
		o := py*s.stride + px*4
		out[0] += ws[k] * float32(s.pix[o])
		out[1] += ws[k] * float32(s.pix[o+1])
		out[2] += ws[k] * float32(s.pix[o+2])
	}
}

// TestSamplerFastPathBitExact: bilinear samples at random, integer,
// half-pixel and border positions (a whole image and a sub-image whose
// rows run on past it) are bit for bit those of the general loop.
func TestSamplerFastPathBitExact(t *testing.T) {
	src := noise(61, 47, 9)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, img := range []image.Image{src, src.SubImage(image.Rect(5, 4, 40, 30))} {
		s := newSampler(img)
		pts := [][2]float64{{0, 0}, {float64(s.w - 1), float64(s.h - 1)}, {float64(s.w) - 1.5, 0.5}, {-0.5, 3}, {float64(s.w) - 0.999, 2}, {3, float64(s.h - 2)}}
		for range 20000 {
			pts = append(pts, [2]float64{rng.Float64()*float64(s.w+2) - 1.5, rng.Float64()*float64(s.h+2) - 1.5})
			pts = append(pts, [2]float64{float64(rng.IntN(s.w)), float64(rng.IntN(s.h)) + 0.5})
		}
		for _, pt := range pts {
			var got, want [3]float32
			s.at(pt[0], pt[1], &got)
			s.atLoop(pt[0], pt[1], &want)
			for k := range got {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("at(%v, %v)[%d] = %v, the loop gives %v", pt[0], pt[1], k, got[k], want[k])
				}
			}
		}
	}
}

func TestCropPutsLandmarksOnTemplate(t *testing.T) {
	// Five bright dots at a rotated, scaled copy of the template: after Crop
	// each dot sits on its template point.
	fwd := similarity(2.2, 0.35, 40, 25)
	img := image.NewRGBA(image.Rect(0, 0, 400, 400))
	var five [5]vectors.Point
	for i, p := range ArcFace112 {
		x, y := fwd.Apply(float64(p.X), float64(p.Y))
		five[i] = vectors.Point{X: float32(x), Y: float32(y)}
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				img.SetRGBA(int(math.Round(x))+dx, int(math.Round(y))+dy, color.RGBA{255, 255, 255, 255})
			}
		}
	}
	crop, m, err := Crop(img, five, 112)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ArcFace112 {
		q := m.ApplyPoint(five[i])
		if math.Abs(float64(q.X-p.X)) > 1e-3 || math.Abs(float64(q.Y-p.Y)) > 1e-3 {
			t.Fatalf("landmark %d maps to %v, template %v", i, q, p)
		}
		if c := crop.RGBAAt(int(math.Round(float64(p.X))), int(math.Round(float64(p.Y)))); c.R < 200 {
			t.Fatalf("no dot at template point %d: %v", i, c)
		}
	}
	if _, _, err := Crop(img, [5]vectors.Point{}, 112); !errors.Is(err, ErrDegenerate) {
		t.Fatalf("zero landmarks: %v", err)
	}
}

func BenchmarkCrop112(b *testing.B) {
	img := noise(640, 480, 1)
	var five [5]vectors.Point
	fwd := similarity(2, 0.1, 200, 100)
	for i, p := range ArcFace112 {
		five[i] = fwd.ApplyPoint(p)
	}
	for b.Loop() {
		if _, _, err := Crop(img, five, 112); err != nil {
			b.Fatal(err)
		}
	}
}
