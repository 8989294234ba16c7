package calib

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// synth draws genuine and impostor scores from known distributions.
type synth struct {
	genuine  func(*rand.Rand) float64
	impostor func(*rand.Rand) float64
	trueFMR  func(t float64) float64 // the impostor distribution's exact FMR
}

var (
	// expTail: impostors 0.2 + Exp(scale 0.03): FMR(t) = exp(−(t−0.2)/0.03).
	expTail = synth{
		genuine:  func(r *rand.Rand) float64 { return 0.75 + 0.06*r.NormFloat64() },
		impostor: func(r *rand.Rand) float64 { return 0.2 + 0.03*r.ExpFloat64() },
		trueFMR:  func(t float64) float64 { return math.Exp(-(t - 0.2) / 0.03) },
	}
	// normalTail: impostors N(0, 0.1²), a tail lighter than exponential.
	normalTail = synth{
		genuine:  func(r *rand.Rand) float64 { return 0.7 + 0.08*r.NormFloat64() },
		impostor: func(r *rand.Rand) float64 { return 0.1 * r.NormFloat64() },
		trueFMR:  func(t float64) float64 { return 0.5 * math.Erfc(t/(0.1*math.Sqrt2)) },
	}
	// paretoTail: impostors 0.1 + GPD(ξ = 0.2, σ = 0.02), heavier than exponential.
	paretoTail = synth{
		genuine: func(r *rand.Rand) float64 { return 0.8 + 0.05*r.NormFloat64() },
		impostor: func(r *rand.Rand) float64 {
			u := r.Float64()
			return 0.1 + 0.02/0.2*(math.Pow(1-u, -0.2)-1)
		},
		trueFMR: func(t float64) float64 { return math.Pow(1+0.2*(t-0.1)/0.02, -1/0.2) },
	}
)

func clamp(x float64) float32 { return float32(min(max(x, -1), 1)) }

func (s synth) scores(seed uint64, gen, imp int) (g, i []float32) {
	r := rand.New(rand.NewPCG(seed, 7))
	g = make([]float32, gen)
	for k := range g {
		g[k] = clamp(s.genuine(r))
	}
	i = make([]float32, imp)
	for k := range i {
		i[k] = clamp(s.impostor(r))
	}
	return g, i
}

func (s synth) curve(t testing.TB, seed uint64, gen, imp int) (Curve, []float32, []float32) {
	t.Helper()
	g, i := s.scores(seed, gen, imp)
	c, err := Build(Input{Engine: "synthetic", Margin: 0.01, Scores: ScoresOf(g, i), Source: Source{Dataset: "synthetic"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, g, i
}

// slowFMR and slowFNMR are the obviously-correct twins over every score.
func slowFMR(imp []float32, t float32) float64 {
	n := 0
	for _, x := range imp {
		if x >= t {
			n++
		}
	}
	return float64(n) / float64(len(imp))
}

func slowFNMR(gen []float32, t float32) float64 {
	n := 0
	for _, x := range gen {
		if x < t {
			n++
		}
	}
	return float64(n) / float64(len(gen))
}

// TestFMRAgainstEveryScore compares the curve with a count over every
// score: exact where the curve keeps the scores, within the histogram's
// resolution below, and labelled extrapolated exactly where fewer than
// MinCount impostors lie above t.
func TestFMRAgainstEveryScore(t *testing.T) {
	for _, tc := range []struct {
		name string
		imp  int
	}{{"all kept", 3000}, {"top kept", 200_000}} {
		t.Run(tc.name, func(t *testing.T) {
			c, gen, imp := normalTail.curve(t, 1, 2000, tc.imp)
			sorted := slices.Clone(imp)
			slices.SortFunc(sorted, func(a, b float32) int { return cmpFloat32(b, a) })
			keptLow := sorted[min(len(sorted), TopKeep)-1]
			m := float64(len(imp))
			for x := float32(-0.5); x <= 1; x += 0.0013 {
				got, ex := c.FMR(x)
				want := slowFMR(imp, x)
				if ex != (want*m < MinCount) {
					t.Fatalf("t=%v: extrapolated=%v with %v impostors above", x, ex, want*m)
				}
				switch {
				case ex:
					if got < want || got > float64(MinCount)/m {
						t.Fatalf("t=%v: extrapolated FMR %g outside [%g, %g]", x, got, want, float64(MinCount)/m)
					}
				case x > keptLow || len(imp) <= TopKeep:
					if got != want {
						t.Fatalf("t=%v: FMR %g, want exactly %g", x, got, want)
					}
				default:
					b := binOf(x, Bins)
					inBin := slowFMR(imp, float32(binLow(b))) - slowFMR(imp, float32(binLow(b+1)))
					if math.Abs(got-want) > inBin+1e-12 {
						t.Fatalf("t=%v: FMR %g, want %g ± %g", x, got, want, inBin)
					}
				}
				fn := c.FNMR(x)
				b := binOf(x, Bins)
				inBin := slowFNMR(gen, float32(binLow(b+1))) - slowFNMR(gen, float32(binLow(b)))
				if w := slowFNMR(gen, x); math.Abs(fn-w) > inBin+1e-12 {
					t.Fatalf("t=%v: FNMR %g, want %g ± %g", x, fn, w, inBin)
				}
			}
		})
	}
}

// TestMonotone: FMR never rises and FNMR never falls with t, across the
// junctions between histogram, exact top and tail model.
func TestMonotone(t *testing.T) {
	for _, s := range []synth{expTail, normalTail, paretoTail} {
		c, _, _ := s.curve(t, 2, 500, 100_000)
		prevF, prevN := math.Inf(1), math.Inf(-1)
		for k := key(-1); k <= key(1); k += 4099 {
			x := unkey(k)
			f, _ := c.FMR(x)
			n := c.FNMR(x)
			if f > prevF || n < prevN || f < 0 || f > 1 || n < 0 || n > 1 {
				t.Fatalf("t=%v: FMR %g after %g, FNMR %g after %g", x, f, prevF, n, prevN)
			}
			prevF, prevN = f, n
		}
	}
}

// TestTailFit checks the fit on synthetic data whose tail is known: an
// exponential tail is recovered, a normal (lighter) tail is overstated,
// never understated, and a heavier-than-exponential tail gets a positive
// shape.
func TestTailFit(t *testing.T) {
	const m = 400_000
	t.Run("exponential", func(t *testing.T) {
		c, _, _ := expTail.curve(t, 3, 500, m)
		tl := c.Tail()
		if math.Abs(tl.FittedShape) > 0.1 || math.Abs(tl.Scale-0.03)/0.03 > 0.15 {
			t.Fatalf("fit %+v, want shape ≈ 0, scale ≈ 0.03", tl)
		}
		if tl.Model != "exponential" {
			t.Fatalf("fit %+v, want exponential", tl)
		}
		for _, want := range []float64{1e-7, 1e-9, 1e-11} {
			x := float32(0.2 - 0.03*math.Log(want))
			got, ex := c.FMR(x)
			if !ex || got/want > 3 || want/got > 3 {
				t.Fatalf("FMR(%v) = %g (extrapolated %v), true %g", x, got, ex, want)
			}
		}
	})
	t.Run("normal", func(t *testing.T) {
		c, _, _ := normalTail.curve(t, 4, 500, m)
		tl := c.Tail()
		if tl.FittedShape >= 0 || tl.Shape != 0 || tl.Model != "exponential" {
			t.Fatalf("fit %+v, want a negative fitted shape clamped to 0", tl)
		}
		// (just above From the measured count, noisy itself, caps the model)
		for x := tl.From + 0.02; x <= 1; x += 0.01 {
			got, _ := c.FMR(x)
			if want := normalTail.trueFMR(float64(x)); got < want {
				t.Fatalf("FMR(%v) = %g below the true %g", x, got, want)
			}
		}
	})
	t.Run("heavier", func(t *testing.T) {
		c, _, _ := paretoTail.curve(t, 5, 500, m)
		tl := c.Tail()
		if tl.Model != "gpd" || math.Abs(tl.Shape-0.2) > 0.1 {
			t.Fatalf("fit %+v, want shape ≈ 0.2", tl)
		}
		for _, x := range []float32{0.6, 0.8, 0.95} {
			got, _ := c.FMR(x)
			want := paretoTail.trueFMR(float64(x))
			if got/want > 4 || want/got > 4 {
				t.Fatalf("FMR(%v) = %g, true %g", x, got, want)
			}
		}
	})
}

func TestRoundTrip(t *testing.T) {
	c, _, _ := expTail.curve(t, 6, 300, 20_000)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(c2)
	if !bytes.Equal(b, b2) || c.SHA256() != c2.SHA256() {
		t.Fatal("parse → marshal changed the curve")
	}
	// Formatting does not change the curve or its hash.
	var ind bytes.Buffer
	if err := json.Indent(&ind, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	c3, err := Parse(ind.Bytes())
	if err != nil || c3.SHA256() != c.SHA256() {
		t.Fatalf("indented curve: %v", err)
	}
	g, m := c.Pairs()
	if g != 300 || m != 20_000 || c.Engine() != "synthetic" || c.Margin() != 0.01 || c.Source().Dataset != "synthetic" {
		t.Fatalf("fields: %d %d %q %v %+v", g, m, c.Engine(), c.Margin(), c.Source())
	}
}

func TestBuildBadInput(t *testing.T) {
	g, i := expTail.scores(7, 200, 5000)
	good := func() Input {
		return Input{Engine: "e", Margin: 0.01, Scores: ScoresOf(g, i)}
	}
	if _, err := Build(good()); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	tests := []struct {
		name string
		edit func(*Input)
		want error
	}{
		{"few genuine", func(in *Input) { in.Scores.Genuine = in.Scores.Genuine[:MinGenuine-1] }, ErrTooFew},
		{"few impostors", func(in *Input) { in.Scores = ScoresOf(g, i[:MinImpostors-1]) }, ErrTooFew},
		{"few top", func(in *Input) { in.Scores.ImpostorTop = in.Scores.ImpostorTop[:MinFit] }, ErrTooFew},
		{"top short of TopKeep", func(in *Input) { in.Scores.ImpostorTop = in.Scores.ImpostorTop[:TopKeep-1] }, ErrScores},
		{"NaN genuine", func(in *Input) { in.Scores.Genuine[3] = nan }, ErrScores},
		{"NaN top", func(in *Input) { in.Scores.ImpostorTop[0] = nan }, ErrScores},
		{"top not descending", func(in *Input) { t := in.Scores.ImpostorTop; t[1], t[2] = t[2]+0.5, t[1] }, ErrScores},
		{"count mismatch", func(in *Input) { in.Scores.Impostors++ }, ErrScores},
		{"odd histogram", func(in *Input) { in.Scores.ImpostorHist = in.Scores.ImpostorHist[:Bins-1] }, ErrScores},
		{"negative bin", func(in *Input) { in.Scores.ImpostorHist[0] = -1; in.Scores.ImpostorHist[1] += 1 }, ErrScores},
		{"top missing from histogram", func(in *Input) {
			h := in.Scores.ImpostorHist
			b := binOf(in.Scores.ImpostorTop[0], Bins)
			h[b]--
			h[0]++
		}, ErrScores},
		{"top not the highest", func(in *Input) {
			in.Scores.ImpostorTop = in.Scores.ImpostorTop[len(in.Scores.ImpostorTop)-MinFit-1:]
			in.Scores.Impostors, in.Scores.ImpostorHist = int64(len(i)), ScoresOf(g, i).ImpostorHist
		}, ErrScores},
		{"no engine", func(in *Input) { in.Engine = "" }, ErrScores},
		{"bad margin", func(in *Input) { in.Margin = -0.1 }, ErrScores},
		{"no spread", func(in *Input) {
			same := make([]float32, 2000)
			in.Scores = ScoresOf(g, same)
		}, ErrTooFew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.edit(&in)
			if _, err := Build(in); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBuildFromHistogram: a finer histogram (as vectors/eval's all-pairs
// run keeps) and a top list trimmed to TopKeep give the curve every score
// gives.
func TestBuildFromHistogram(t *testing.T) {
	g, imp := normalTail.scores(8, 300, 30_000)
	all, err := Build(Input{Engine: "e", Scores: ScoresOf(g, imp)})
	if err != nil {
		t.Fatal(err)
	}
	const fine = 8 * Bins
	s := Scores{Genuine: g, Impostors: int64(len(imp)), ImpostorHist: make([]int64, fine)}
	for _, x := range imp {
		s.ImpostorHist[binOf(x, fine)]++
	}
	s.ImpostorTop = ScoresOf(nil, imp).ImpostorTop[:TopKeep]
	part, err := Build(Input{Engine: "e", Scores: s})
	if err != nil {
		t.Fatal(err)
	}
	if all.SHA256() != part.SHA256() {
		t.Fatal("a finer histogram and a trimmed top gave another curve")
	}
}

func TestParseBadInput(t *testing.T) {
	c, _, _ := expTail.curve(t, 9, 300, 5000)
	good, _ := json.Marshal(c)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sub := func(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not json", []byte("curve")},
		{"trailing data", append(slices.Clone(good), []byte(" {}")...)},
		{"unknown field", edit(func(m map[string]any) { m["extra"] = 1 })},
		{"format", edit(func(m map[string]any) { m["format"] = "facesign-calib-curve/0" })},
		{"bins", edit(func(m map[string]any) { m["bins"] = 4096 })},
		{"no engine", edit(func(m map[string]any) { m["engine"] = "" })},
		{"model hash", edit(func(m map[string]any) { m["model_sha256"] = "00" })},
		{"margin", edit(func(m map[string]any) { m["margin"] = 2 })},
		{"count", edit(func(m map[string]any) { sub(m, "genuine")["count"] = 1e6 })},
		{"first bin", edit(func(m map[string]any) { sub(m, "impostor")["first_bin"] = Bins })},
		{"untrimmed", edit(func(m map[string]any) {
			h := sub(m, "genuine")
			h["counts"] = append([]any{0.0}, h["counts"].([]any)...)
			h["first_bin"] = h["first_bin"].(float64) - 1
		})},
		{"genuine top", edit(func(m map[string]any) { sub(m, "genuine")["top"] = []float32{0.5} })},
		{"tail scale", edit(func(m map[string]any) { sub(m, "tail")["scale"] = sub(m, "tail")["scale"].(float64) * 0.9 })},
		{"tail shape", edit(func(m map[string]any) { sub(m, "tail")["shape"] = 0.3 })},
		{"top raised", edit(func(m map[string]any) {
			top := sub(m, "impostor")["top"].([]any)
			top[0] = 1.0
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.data); !errors.Is(err, ErrCurve) {
				t.Fatalf("got %v, want ErrCurve", err)
			}
		})
	}
}

// FuzzParse: whatever Parse accepts marshals to bytes it accepts again
// unchanged. A valid curve is ~10 KB, which makes the fuzzer's
// minimisation slow; run with a bound on it:
//
//	go test ./vectors/calib -run '^$' -fuzz FuzzParse -fuzzminimizetime 5x
func FuzzParse(f *testing.F) {
	c, _, _ := expTail.curve(f, 10, 100, 2000)
	good, _ := json.Marshal(c)
	f.Add(good)
	for _, id := range Shipped() {
		sc, _ := ForEngine(id)
		b, _ := json.Marshal(sc)
		f.Add(b)
	}
	f.Add([]byte(`{"format":"facesign-calib-curve/1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrCurve) {
				t.Fatalf("error %v does not wrap ErrCurve", err)
			}
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if b2, _ := json.Marshal(c2); !bytes.Equal(b, b2) {
			t.Fatal("marshal is not stable")
		}
		for _, x := range []float32{-1, 0, 0.5, 0.9, 1} {
			f, _ := c.FMR(x)
			if !(f >= 0 && f <= 1) || !(c.FNMR(x) >= 0 && c.FNMR(x) <= 1) {
				t.Fatalf("FMR/FNMR out of range at %v", x)
			}
		}
	})
}

func TestZeroCurve(t *testing.T) {
	var c Curve
	if f, ex := c.FMR(0.5); f != 1 || !ex || c.FNMR(0.5) != 1 {
		t.Fatal("zero curve figures")
	}
	if _, err := c.ThresholdsAt(10, DefaultPolicy()); !errors.Is(err, ErrCurve) {
		t.Fatal(err)
	}
	if _, _, err := c.MatchAt(10, DefaultPolicy()); !errors.Is(err, ErrCurve) {
		t.Fatal(err)
	}
	if c.Capacity(DefaultPolicy()) != 0 {
		t.Fatal("zero curve capacity")
	}
	if _, err := json.Marshal(c); err == nil {
		t.Fatal("zero curve marshalled")
	}
}
