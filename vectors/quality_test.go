package vectors

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// texture draws a deterministic random grey texture of the given size; blur
// passes of a 3×3 box filter take its fine detail away.
func texture(w, h, blur int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 7))
	g := make([]float64, w*h)
	for i := range g {
		g[i] = 40 + 170*r.Float64()
	}
	for range blur {
		out := make([]float64, len(g))
		for y := range h {
			for x := range w {
				var s float64
				var n int
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < w && yy < h {
							s += g[yy*w+xx]
							n++
						}
					}
				}
				out[y*w+x] = s / float64(n)
			}
		}
		g = out
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, v := range g {
		c := uint8(v + 0.5)
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = c, c, c, 255
	}
	return img
}

// nrgba converts to another image type, so the slow At path runs.
func nrgba(m *image.RGBA) *image.NRGBA {
	out := image.NewNRGBA(m.Bounds())
	for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
		for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
			out.Set(x, y, m.At(x, y))
		}
	}
	return out
}

func TestSharpnessOrdersBlur(t *testing.T) {
	box := Box{X: 10, Y: 10, W: 100, H: 100}
	prev := math.Inf(1)
	for blur := range 5 {
		s := Sharpness(texture(120, 120, blur, 1), box)
		if !(s < prev) {
			t.Fatalf("blur %d: sharpness %.4f not below %.4f", blur, s, prev)
		}
		prev = s
	}
	flat := image.NewRGBA(image.Rect(0, 0, 50, 50))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	if s := Sharpness(flat, Box{X: 0, Y: 0, W: 50, H: 50}); s > 1e-12 {
		t.Fatalf("flat patch: %v", s)
	}
}

// TestSharpnessFastPathMatchesAt: the *image.RGBA fast path equals the
// image.Image.At twin.
func TestSharpnessFastPathMatchesAt(t *testing.T) {
	img := texture(90, 70, 1, 3)
	for _, box := range []Box{{5, 5, 60, 50}, {-10, -10, 40, 40}, {70, 50, 40, 40}, {0.5, 0.25, 33.3, 21.7}} {
		a, b := Sharpness(img, box), Sharpness(nrgba(img), box)
		if math.Abs(a-b) > 1e-9*math.Max(1, a) {
			t.Fatalf("box %v: fast %.12f, slow %.12f", box, a, b)
		}
	}
}

func TestSharpnessBadBoxes(t *testing.T) {
	img := texture(40, 40, 0, 2)
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, box := range []Box{{0, 0, 0, 10}, {0, 0, 10, -1}, {100, 100, 10, 10}, {-50, 0, 20, 20}, {nan, 0, 10, 10}, {0, 0, inf, 10}} {
		if s := Sharpness(img, box); s != 0 {
			t.Errorf("box %v: sharpness %v, want 0", box, s)
		}
		if q := Quality(Face{Box: box, Score: 1}, img); q != QualityFloor {
			t.Errorf("box %v: quality %v, want the floor", box, q)
		}
	}
	if s := Sharpness(image.NewRGBA(image.Rectangle{}), Box{0, 0, 10, 10}); s != 0 {
		t.Errorf("empty image: %v", s)
	}
}

// TestQualityFactors checks each factor on constructed faces: the factors
// multiply, and each moves the weight the documented way.
func TestQualityFactors(t *testing.T) {
	img := texture(300, 300, 0, 5)
	base := Face{Box: Box{X: 20, Y: 20, W: 224, H: 224}, Score: 1}
	q0 := Quality(base, img)
	s := Sharpness(img, base.Box)
	want := s / (s + QualitySharpness)
	if math.Abs(float64(q0)-want) > 1e-6 {
		t.Fatalf("frontal, large, score 1: %v, want the sharpness factor %v", q0, want)
	}
	if fs := Factors(base, img); fs.Detector != 1 || fs.Pose != 1 || fs.Size != 1 || math.Abs(fs.Sharpness-want) > 1e-12 || fs.Weight() != q0 {
		t.Fatalf("factors %+v, weight %v", fs, fs.Weight())
	}
	ratio := func(f Face) float64 { return float64(Quality(f, img)) / float64(q0) }
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-5 {
			t.Errorf("%s: ratio %.6f, want %.6f", name, got, want)
		}
	}
	f := base
	f.Score = 0.5
	near("score 0.5", ratio(f), 0.5)
	f.Score = 0.01
	near("score below the clamp", ratio(f), 0.05)
	f = base
	f.Yaw = QualityPoseSigma
	near("yaw σ", ratio(f), math.Exp(-0.5))
	f.Yaw, f.Pitch = -30, 40
	near("yaw −30 pitch 40", ratio(f), math.Exp(-(900.0+1600)/(2*QualityPoseSigma*QualityPoseSigma)))
	f = base
	f.Roll = 40
	near("roll is ignored", ratio(f), 1)
	// Size: the same texture region seen smaller. The sharpness of the
	// resampled patch changes too, so compare against the formula.
	small := Face{Box: Box{X: 20, Y: 20, W: 56, H: 80}, Score: 1}
	ss := Sharpness(img, small.Box)
	near("56 px face", float64(Quality(small, img)), 56.0/QualityFaceSize*ss/(ss+QualitySharpness))
	// Every weight stays in [floor, 1].
	for _, f := range []Face{base, {Box: base.Box, Score: float32(math.NaN())}, {Box: base.Box, Score: 2, Yaw: 90, Pitch: 90}, {Box: base.Box, Score: 1, Yaw: float32(math.NaN())}} {
		if q := Quality(f, img); !(q >= QualityFloor && q <= 1) {
			t.Errorf("%+v: quality %v out of [floor, 1]", f, q)
		}
	}
}

func fv(vals ...float32) FaceVector { return FaceVector{Engine: "e", Values: vals} }

func TestFuse(t *testing.T) {
	s2 := float32(1 / math.Sqrt2)
	tests := []struct {
		name    string
		vecs    []FaceVector
		weights []float32
		want    []float32
		err     error
	}{
		{"equal weights: plain mean", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{1, 1}, []float32{s2, s2}, nil},
		{"scale free", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{0.001, 0.001}, []float32{s2, s2}, nil},
		{"3:1", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{3, 1}, []float32{float32(3 / math.Sqrt(10)), float32(1 / math.Sqrt(10))}, nil},
		{"one vector", []FaceVector{fv(0.6, 0.8)}, []float32{0.2}, []float32{0.6, 0.8}, nil},
		{"empty", nil, nil, nil, ErrNothingToFuse},
		{"empty vector", []FaceVector{fv()}, []float32{1}, nil, ErrNothingToFuse},
		{"weights missing", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{1}, nil, ErrBadWeight},
		{"zero weight", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{1, 0}, nil, ErrBadWeight},
		{"negative weight", []FaceVector{fv(1, 0), fv(0, 1)}, []float32{1, -1}, nil, ErrBadWeight},
		{"NaN weight", []FaceVector{fv(1, 0)}, []float32{float32(math.NaN())}, nil, ErrBadWeight},
		{"infinite weight", []FaceVector{fv(1, 0)}, []float32{float32(math.Inf(1))}, nil, ErrBadWeight},
		{"cancel out", []FaceVector{fv(1, 0), fv(-1, 0)}, []float32{2, 2}, nil, ErrCancelled},
		{"NaN value", []FaceVector{fv(float32(math.NaN()), 0)}, []float32{1}, nil, ErrCancelled},
		{"other engine", []FaceVector{fv(1, 0), {Engine: "f", Values: []float32{1, 0}}}, []float32{1, 1}, nil, ErrEngineMismatch},
		{"other dimension", []FaceVector{fv(1, 0), fv(1, 0, 0)}, []float32{1, 1}, nil, ErrEngineMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before [][]float32
			for _, v := range tt.vecs {
				before = append(before, append([]float32(nil), v.Values...))
			}
			got, err := Fuse(tt.vecs, tt.weights)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got.Values != nil {
					t.Fatalf("got %v, %v; want %v", got, err, tt.err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got.Engine != "e" || len(got.Values) != len(tt.want) {
					t.Fatalf("got %+v", got)
				}
				for i := range tt.want {
					if math.Abs(float64(got.Values[i]-tt.want[i])) > 1e-6 {
						t.Fatalf("got %v, want %v", got.Values, tt.want)
					}
				}
			}
			for i, v := range tt.vecs {
				for j := range v.Values {
					if math.Float32bits(v.Values[j]) != math.Float32bits(before[i][j]) {
						t.Fatal("input modified")
					}
				}
			}
		})
	}
}

// TestFuseWeightsPullTowardsQuality: a heavier frame pulls the fused vector
// towards itself — measured as the cosine to each input.
func TestFuseWeightsPullTowardsQuality(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	mk := func() FaceVector {
		v := make([]float32, 64)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		Normalize(v)
		return FaceVector{Engine: "e", Values: v}
	}
	a, b := mk(), mk()
	prev := float32(-2)
	for _, w := range []float32{0.1, 0.5, 1, 2, 10} {
		f, err := Fuse([]FaceVector{a, b}, []float32{w, 1})
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := Cosine(f, a)
		if ca <= prev {
			t.Fatalf("weight %v: cosine to a %.4f not above %.4f", w, ca, prev)
		}
		prev = ca
	}
}
