package eval

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
)

func linspace(a, b float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return s
}

func TestAnalyzeSeparated(t *testing.T) {
	g := linspace(0.6, 0.9, 50)
	im := linspace(-0.2, 0.4, 2000)
	r, err := Analyze(g, im)
	if err != nil {
		t.Fatal(err)
	}
	if r.EER != 0 {
		t.Fatalf("EER %v for separated scores", r.EER)
	}
	if r.Genuine.N != 50 || r.Impostor.N != 2000 || math.Abs(r.Impostor.Mean-0.1) > 1e-9 {
		t.Fatalf("summaries %+v %+v", r.Genuine, r.Impostor)
	}
	want := []struct {
		measurable, low bool
		far             float64
	}{{true, false, 0.01}, {true, true, 0.001}, {false, true, 0}, {false, true, 0}, {false, true, 0}}
	if len(r.Points) != len(want) {
		t.Fatalf("%d points", len(r.Points))
	}
	for i, p := range r.Points {
		if p.Measurable != want[i].measurable || p.LowConfidence != want[i].low {
			t.Fatalf("point %d flags %+v", i, p)
		}
		if p.FAR > p.TargetFAR || p.TAR != 1 {
			t.Fatalf("point %d %+v", i, p)
		}
	}
	// FAR 1e-2 of 2000 tolerates 20 false matches: threshold just above the
	// 21st highest impostor score.
	if th := r.Points[0].Threshold; !(th > im[2000-21] && th <= im[2000-20]) {
		t.Fatalf("threshold %v", th)
	}
	if r.MatchFAR != 1e-3 || r.MatchThreshold != r.Points[1].Threshold {
		t.Fatalf("match %v at %v", r.MatchThreshold, r.MatchFAR)
	}
	if r.NewThreshold > r.MatchThreshold {
		t.Fatalf("new %v above match %v", r.NewThreshold, r.MatchThreshold)
	}
	gl := r.Gallery
	if gl.MeasuredFMR != 0.001 || math.Abs(gl.N-3) > 1e-9 {
		t.Fatalf("gallery %+v", gl)
	}
	if !(gl.GaussFMR > 0) || math.Abs(gl.GaussN-FPIRTarget/gl.GaussFMR) > 1e-9 {
		t.Fatalf("gauss %+v", gl)
	}
}

func TestAnalyzeOverlap(t *testing.T) {
	// Genuine 0.4..0.9, impostor 0..0.5 uniform: the error curves cross near
	// 0.45, where each loses 10 % of its range.
	g := linspace(0.4, 0.9, 1001)
	im := linspace(0, 0.5, 1001)
	r, err := Analyze(g, im)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.EER-0.1) > 0.002 || math.Abs(r.EERThreshold-0.45) > 0.002 {
		t.Fatalf("EER %v at %v", r.EER, r.EERThreshold)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"EER 0.1", "TAR at FAR 1e-02", "not measurable", "normal-tail extrapolation"} {
		if !strings.Contains(buf.String(), s) {
			t.Fatalf("report lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestAnalyzeNoImpostorAboveThreshold(t *testing.T) {
	// 60 impostor pairs cannot resolve FAR 1e-2: the threshold goes above the
	// highest impostor and the gallery estimate uses the 3/M bound.
	r, err := Analyze([]float64{0.9, 0.95}, linspace(0, 0.3, 60))
	if err != nil {
		t.Fatal(err)
	}
	if r.MatchFAR != 1e-2 || r.Points[0].Measurable || r.Gallery.MeasuredFMR != 0 || math.Abs(r.Gallery.UpperFMR-3.0/60) > 1e-12 || math.Abs(r.Gallery.N-0.06) > 1e-12 {
		t.Fatalf("gallery %+v (match FAR %v)", r.Gallery, r.MatchFAR)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		g, i []float64
	}{
		{"no genuine", nil, []float64{0.1}},
		{"no impostor", []float64{0.9}, nil},
		{"nan", []float64{math.NaN()}, []float64{0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(tc.g, tc.i)
			if err == nil || r.Genuine.N != 0 {
				t.Fatalf("err %v, report %+v", err, r)
			}
		})
	}
	if _, err := Analyze(nil, nil); !errors.Is(err, ErrTooFewPairs) {
		t.Fatal(err)
	}
}

func TestCurveMonotone(t *testing.T) {
	far, tar, thr := Curve(linspace(0.3, 0.9, 40), linspace(0, 0.6, 400))
	for i := 1; i < len(far); i++ {
		if far[i] < far[i-1] || tar[i] < tar[i-1] || thr[i] >= thr[i-1] {
			t.Fatalf("not monotone at %d", i)
		}
	}
	if far[len(far)-1] != 1 || tar[len(tar)-1] != 1 {
		t.Fatal("curve does not end at (1, 1)")
	}
}

func TestWritePlot(t *testing.T) {
	g, im := linspace(0.4, 0.9, 100), linspace(0, 0.5, 1000)
	r, err := Analyze(g, im)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePlot(&buf, r, g, im, "test"); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&buf)
	if err != nil || cfg.Width < 1000 {
		t.Fatalf("png %+v %v", cfg, err)
	}
}

func TestSubject(t *testing.T) {
	b := image.Rect(0, 0, 250, 250)
	face := func(x, y, s float32) vectors.Face { return vectors.Face{Box: vectors.Box{X: x, Y: y, W: s, H: s}} }
	for _, tc := range []struct {
		name  string
		faces []vectors.Face
		want  int
	}{
		{"one", []vectors.Face{face(80, 80, 90)}, 0},
		// A larger bystander cut by the left border loses to the centred subject.
		{"bystander", []vectors.Face{face(-7, 60, 108), face(83, 93, 97)}, 1},
		{"tie goes to the larger", []vectors.Face{face(100, 100, 50), face(75, 75, 100)}, 1},
	} {
		if got := Subject(tc.faces, b); got != tc.want {
			t.Errorf("%s: Subject = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLoadDatasetAndScores(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ann/1.jpg", "ann/2.PNG", "ann/notes.txt", "bob/1.jpeg", ".hidden/x.jpg", "empty/readme"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	people, err := LoadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0].Name != "ann" || len(people[0].Files) != 2 || len(people[1].Files) != 1 {
		t.Fatalf("people %+v", people)
	}
	if _, err := LoadDataset(filepath.Join(dir, "ann")); !errors.Is(err, ErrDataset) {
		t.Fatalf("folder without people: %v", err)
	}

	v := func(x, y float32) vectors.FaceVector {
		return vectors.FaceVector{Engine: "e", Values: []float32{x, y}}
	}
	g, im, err := Scores([][]vectors.FaceVector{{v(1, 0), v(0.8, 0.6)}, {v(0, 1)}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 1 || len(im) != 2 || math.Abs(g[0]-0.8) > 1e-6 {
		t.Fatalf("genuine %v impostor %v", g, im)
	}
	other := vectors.FaceVector{Engine: "other", Values: []float32{1, 0}}
	if _, _, err := Scores([][]vectors.FaceVector{{v(1, 0)}, {other}}); !errors.Is(err, vectors.ErrEngineMismatch) {
		t.Fatalf("mixed engines: %v", err)
	}
}
