package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
)

// unitVec is a deterministic random unit vector of dim 16.
func unitVec(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	v := make([]float32, 16)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	vectors.Normalize(v)
	return v
}

// mix returns normalize(a + w·b).
func mix(a, b []float32, w float32) vectors.FaceVector {
	v := make([]float32, len(a))
	for i := range v {
		v[i] = a[i] + w*b[i]
	}
	vectors.Normalize(v)
	return vectors.FaceVector{Engine: "t", Values: v}
}

// TestFusionLFWWeightsDownweightBadPhotos: each side has one good photo
// (the person, quality 1) and one bad photo (mostly noise, quality 0.05):
// weighted fusion scores the genuine pairs higher than the plain mean, and
// with equal qualities the two methods are the same.
func TestFusionLFWWeightsDownweightBadPhotos(t *testing.T) {
	var imgs []QualityImage
	for p := range 6 {
		base := unitVec(uint64(p))
		for k := range 4 {
			q := float32(1)
			v := mix(base, unitVec(uint64(100+10*p+k)), 0.2)
			if k%2 == 1 {
				q = 0.05
				v = mix(base, unitVec(uint64(100+10*p+k)), 3)
			}
			imgs = append(imgs, QualityImage{Person: p, Vector: v, Quality: q})
		}
	}
	imgs = append(imgs, QualityImage{Person: 9, Vector: mix(unitVec(9), unitVec(99), 0), Quality: 1}) // too few photos
	r, err := FusionLFW(imgs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Methods) != len(Weightings) || r.Methods[0].Name != "plain mean" || r.Methods[1].Name != "quality" {
		t.Fatalf("methods %+v", r.Methods)
	}
	plain, weighted := r.Methods[0], r.Methods[1]
	if r.People != 6 || r.Images != 2 || plain.Report.Genuine.N != 6 || plain.Report.Impostor.N != 30 {
		t.Fatalf("people %d, pairs %d/%d", r.People, plain.Report.Genuine.N, plain.Report.Impostor.N)
	}
	if !(weighted.GenuineGain.MeanDiff > 0.05) || weighted.GenuineGain.Higher != 1 || !(weighted.Report.Genuine.Mean > plain.Report.Genuine.Mean) {
		t.Fatalf("weighted genuine gain %+v", weighted.GenuineGain)
	}
	if plain.GenuineGain != (Paired{}) {
		t.Fatalf("plain against itself: %+v", plain.GenuineGain)
	}
	for i := range imgs {
		imgs[i].Quality = 0.3
	}
	r, err = FusionLFW(imgs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g, i := r.Methods[1].GenuineGain, r.Methods[1].ImpostorGain; math.Abs(g.MeanDiff) > 1e-6 || math.Abs(i.MeanDiff) > 1e-6 {
		t.Fatalf("equal weights differ from the plain mean: %+v %+v", g, i)
	}
	if _, err := FusionLFW(imgs, 4); !errors.Is(err, ErrTemplates) {
		t.Fatalf("nobody with 8 photos: %v", err)
	}
	if _, err := FusionLFW(imgs, 0); !errors.Is(err, ErrTemplates) {
		t.Fatalf("m = 0: %v", err)
	}
}

func TestFusionRecordings(t *testing.T) {
	take := func(person string, seed uint64, n int, noisyEvery int) Take {
		tk := Take{Person: person, Name: person + string(rune('0'+seed%10))}
		base := unitVec(uint64(person[0]))
		for k := range n {
			q := float32(1)
			v := mix(base, unitVec(seed*1000+uint64(k)), 0.3)
			if noisyEvery > 0 && k%noisyEvery == 0 {
				q, v = 0.02, mix(base, unitVec(seed*1000+uint64(k)), 4)
			}
			tk.Frames = append(tk.Frames, QualityImage{Vector: v, Quality: q})
		}
		return tk
	}
	takes := []Take{take("A", 1, 10, 3), take("A", 2, 10, 3), take("B", 3, 10, 3), take("C", 4, 6, 0)}
	res, err := FusionRecordings(takes, []int{4, 6}, 50, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Frames != 4 || res[1].Frames != 6 {
		t.Fatalf("%+v", res)
	}
	for _, rf := range res {
		plain, weighted := rf.Methods[0].Scores, rf.Methods[1].Scores
		// Genuine: person A only (two takes), 50 draws; impostor: 3 pairs
		// of people, 50 draws each; leave-one-out: every frame of A's
		// first captures; intruders: one per impostor draw.
		if plain.Genuine.N != 50 || plain.Impostor.N != 150 || plain.SamePerson.N != 50*rf.Frames || plain.Intruder.N != 150 {
			t.Fatalf("%d frames: counts %+v", rf.Frames, plain)
		}
		if g := rf.Methods[1].GenuineGain; !(g.MeanDiff > 0) || !(weighted.SamePerson.Min > plain.SamePerson.Min-1e-9) {
			t.Fatalf("%d frames: weighting did not help: %+v", rf.Frames, g)
		}
		if !(plain.Intruder.Max < plain.SamePerson.P50) {
			t.Fatalf("intruders score like the person: %+v", plain)
		}
	}
	// The same seed gives the same figures.
	again, err := FusionRecordings(takes, []int{4, 6}, 50, rand.New(rand.NewPCG(1, 1)))
	if err != nil || again[1].Methods[1].Scores.Genuine != res[1].Methods[1].Scores.Genuine {
		t.Fatalf("not reproducible: %v", err)
	}
	for name, tc := range map[string]struct {
		takes []Take
		sizes []int
	}{
		"one person":       {takes[:2], []int{4}},
		"capture too long": {takes, []int{7}},
		"one frame":        {takes, []int{1}},
	} {
		if _, err := FusionRecordings(tc.takes, tc.sizes, 5, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrTemplates) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTemplatesLFW on a constructed gallery where the answers are known:
// each returning person's photo 3 is close to photo 2 and far from photo 1.
func TestTemplatesLFW(t *testing.T) {
	var imgs []QualityImage
	person := 0
	add := func(vs ...vectors.FaceVector) {
		for _, v := range vs {
			imgs = append(imgs, QualityImage{Person: person, Vector: v, Quality: 1})
		}
		person++
	}
	// Four returning people: p1 = base, p2 = base drifted, p3 = further
	// along the drift (cos(p3, p1) below the match threshold, cos(p3, p2)
	// above it).
	for p := range 4 {
		base, drift := unitVec(uint64(p)), unitVec(uint64(50+p))
		add(mix(base, drift, 0), mix(base, drift, 0.35), mix(base, drift, 0.8))
	}
	add(mix(unitVec(20), unitVec(21), 0), mix(unitVec(20), unitVec(22), 0.1)) // two photos: a distractor
	for p := range 4 {                                                        // singles: 2 enrol, 2 search as new
		add(mix(unitVec(uint64(30+p)), unitVec(0), 0))
	}
	th := vectors.Thresholds{Match: 0.85, New: 0.6, Margin: 0.05}
	r, err := TemplatesLFW(imgs, []NamedThresholds{{"test", th}}, TemplateLevels{Strong: 0.9, Novel: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	if r.People != 4 || r.Distractors != 3 || r.NewPeople != 2 {
		t.Fatalf("people %d, distractors %d, new %d", r.People, r.Distractors, r.NewPeople)
	}
	if !(r.GenuineTwo.Mean > r.GenuineOne.Mean) || r.GenuineGain.Higher != 1 {
		t.Fatalf("genuine one %+v, two %+v", r.GenuineOne, r.GenuineTwo)
	}
	ids, vecs := templatesCounts(imgs)
	modes := map[string]TemplatesOpenSet{}
	for _, o := range r.OpenSet {
		modes[o.Templates] = o
	}
	if len(modes) != 4 || modes["one"].Vectors != ids || modes["two"].Vectors != vecs || ids != 7 || vecs != 11 {
		t.Fatalf("counts %d/%d, open set %+v", ids, vecs, r.OpenSet)
	}
	one, two := modes["one"].Returning, modes["two"].Returning
	if one.People != 4 || one.Existing != 0 || two.Existing != 4 || two.WrongPerson != 0 {
		t.Fatalf("returning: one %+v, two %+v", one, two)
	}
	if nw := modes["two"].New; nw.People != 2 || nw.WrongPerson != 0 {
		t.Fatalf("new: %+v", nw)
	}
	// The rule: photo 2 is decided existing against photo 1 at
	// cos ≈ 0.94, strong (≥ 0.9) and novel (< 0.99): kept for everyone.
	if r.RuleKept != 4 || r.ExistingKept != 4 || modes["rule"].Returning.Existing != 4 {
		t.Fatalf("rule kept %d (%d without the strong level), %+v", r.RuleKept, r.ExistingKept, modes["rule"].Returning)
	}
	// A strong level above every photo 2's score keeps none; without it,
	// the same four are kept.
	r2, err := TemplatesLFW(imgs, []NamedThresholds{{"test", th}}, TemplateLevels{Strong: 0.99, Novel: 0.999})
	if err != nil {
		t.Fatal(err)
	}
	if r2.RuleKept != 0 || r2.ExistingKept != 4 {
		t.Fatalf("strong 0.99: rule kept %d, without strong %d", r2.RuleKept, r2.ExistingKept)
	}
	// Exposure is counted over every search and every other identity.
	if r.Comparisons != (4+2)*7-4 {
		t.Fatalf("%d comparisons", r.Comparisons)
	}
	for _, x := range r.Exposure {
		if x.Two < x.One {
			t.Fatalf("two templates exposed less than one at %v", x.Threshold)
		}
	}
	thresholds := []float64{}
	for _, x := range r.Exposure {
		thresholds = append(thresholds, x.Threshold)
	}
	if !slices.Equal(thresholds, []float64{float64(float32(0.6)), float64(float32(0.85)), float64(float32(0.9))}) {
		t.Fatalf("exposure at %v", thresholds)
	}
	if _, err := TemplatesLFW(imgs[:3], []NamedThresholds{{"test", th}}, r.Levels); !errors.Is(err, ErrTemplates) {
		t.Fatalf("one person: %v", err)
	}
	if _, err := TemplatesLFW(imgs, nil, r.Levels); !errors.Is(err, ErrTemplates) {
		t.Fatalf("no thresholds: %v", err)
	}
	if _, err := TemplatesLFW(imgs, []NamedThresholds{{"bad", vectors.Thresholds{Match: 0.5, New: 0.6}}}, r.Levels); !errors.Is(err, ErrTemplates) {
		t.Fatalf("bad thresholds: %v", err)
	}
}

func TestRecordingTakes(t *testing.T) {
	dir := t.TempDir()
	touch := func(folder string, names ...string) {
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, folder, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := RecordingTakes(dir); !errors.Is(err, ErrDataset) {
		t.Fatalf("empty: %v", err)
	}
	touch("head-turn-a", "frame_0001.jpg", "frame_0056.jpg", "frame_0057.jpg", "frame_0112.jpg", "notes.txt")
	touch("talking-b-take1", "frame_0001.jpg", "real.jpg")
	touch("three-people", "frame_0001.jpg")
	takes, err := RecordingTakes(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range takes {
		for _, f := range tk.Files {
			got = append(got, tk.Person+":"+filepath.Base(f))
		}
	}
	want := []string{"A:frame_0001.jpg", "A:frame_0056.jpg", "A:frame_0057.jpg", "A:frame_0112.jpg", "B:frame_0001.jpg", "B:real.jpg"}
	if !slices.Equal(got, want) || len(takes) != 3 {
		t.Fatalf("got %v in %d takes", got, len(takes))
	}
}
