package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// synthDataset makes people with 1..4 synthetic vectors each, as the
// results EmbedImages would give, plus one image without a face.
func synthDataset(rng *rand.Rand, people int) ([]Person, []ImageResult) {
	const dir = "ds"
	l := randomLabelled(rng, 3*people, 32, 4, 0.45)
	var ps []Person
	var res []ImageResult
	for i, p := range l.Person {
		if p >= people {
			break
		}
		if p == len(ps) {
			ps = append(ps, Person{Name: fmt.Sprintf("person_%04d", p)})
		}
		name := ps[p].Name
		f := filepath.Join(dir, name, fmt.Sprintf("%s_%04d.jpg", name, len(ps[p].Files)+1))
		ps[p].Files = append(ps[p].Files, f)
		v := vectors.FaceVector{Engine: "synthetic", Values: l.Values[i*l.Dim : (i+1)*l.Dim]}
		res = append(res, ImageResult{Person: p, File: f, Vector: &v, EmbedNS: 2e6, DetectNS: 1e6})
	}
	// The first person gets an extra image without a usable face.
	f := filepath.Join(dir, ps[0].Name, ps[0].Name+"_0009.jpg")
	ps[0].Files = append(ps[0].Files, f)
	res = append(res[:len(ps[0].Files)-1], append([]ImageResult{{Person: 0, File: f, Err: fmt.Errorf("%s: %w", f, vectors.ErrNoFace)}}, res[len(ps[0].Files)-1:]...)...)
	return ps, res
}

func TestEvaluateSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	people, res := synthDataset(rng, 600)
	// A 2-fold pairs file: genuine pairs from people with two images,
	// impostor pairs of neighbours; one pair names the faceless image.
	pairs := Pairs{Folds: 2, PerFold: 20}
	var gen, imp []Pair
	for i, p := range people {
		if len(p.Files) >= 2 && len(gen) < 40 {
			gen = append(gen, Pair{Same: true, A: ImageRef{p.Name, 1}, B: ImageRef{p.Name, 2}})
		}
		if i > 0 && len(imp) < 40 {
			imp = append(imp, Pair{A: ImageRef{people[i-1].Name, 1}, B: ImageRef{p.Name, 1}})
		}
	}
	gen[0].B.Num = 9
	for f := range 2 {
		for _, q := range append(gen[20*f:20*f+20:20*f+20], imp[20*f:20*f+20]...) {
			q.Fold = f
			pairs.Pairs = append(pairs.Pairs, q)
		}
	}
	fixed := vectors.Thresholds{Match: 0.8, New: 0.5, Margin: 0.05}
	info := EngineInfo{Name: "synthetic", ModelSHA256: strings.Repeat("ab", 32), Dim: 32}
	ev, err := Evaluate(info, people, res, Options{Dataset: "ds", Part: PartReport, Pairs: &pairs, Fixed: &fixed,
		Source: calib.Source{Dataset: "synthetic", Command: "go test"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := ev.Dataset
	if ds.People != 600 || ds.Failed != 1 || ds.ReportedPeople+ds.CalibrationPeople != 600 || ds.ReportedImages+ds.CalibrationImages != ds.Images || ds.Part != "report" || ds.CalibrationPart != "calibrate" {
		t.Fatalf("dataset %+v", ds)
	}
	// The figures come from the report half, the curve from the other.
	var rep, cal [][]vectors.FaceVector
	all := Group(res, len(people))
	for i, p := range people {
		if PartOf(p.Name) == PartReport {
			rep = append(rep, all[i])
		} else {
			cal = append(cal, all[i])
		}
	}
	wantRep, _ := distOf(rep)
	wantCal, _ := distOf(cal)
	if ev.Dist.N != wantRep.N || len(ev.Dist.Genuine) != len(wantRep.Genuine) || ev.CalDist.N != wantCal.N || ev.Report.Impostor.N != int(wantRep.N) {
		t.Fatalf("parts: %d/%d impostors, want %d/%d", ev.Dist.N, ev.CalDist.N, wantRep.N, wantCal.N)
	}
	if ev.Calibration.Error != "" || ev.Curve.Engine() != "synthetic" || ev.Calibration.Capacity < 1 || ev.Calibration.ShippedCapacity != -1 {
		t.Fatalf("calibration %+v", ev.Calibration)
	}
	if g, i := ev.Curve.Pairs(); g != int64(len(wantCal.Genuine)) || i != wantCal.N || !strings.Contains(ev.Curve.Source().Split, "calibrate part") {
		t.Fatalf("curve from %d/%d pairs, split %q", g, i, ev.Curve.Source().Split)
	}
	if ev.Curve.Margin() != fixed.Margin {
		t.Fatalf("curve margin %v", ev.Curve.Margin())
	}
	// Open set: the engine's thresholds, then the curve's at N.
	if len(ev.OpenSet) != 2 || ev.OpenSet[0].ThresholdsFrom != "engine" || ev.OpenSet[1].ThresholdsFrom != "calibration" {
		t.Fatalf("open set %+v", ev.OpenSet)
	}
	direct, err := OpenSet(rep, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if o := ev.OpenSet[0]; o.Gallery != direct.Gallery || *o.Returning != *rates(direct.Returning) || *o.New != *rates(direct.New) {
		t.Fatalf("engine open set %+v, want %+v", o, direct)
	}
	n := GallerySize(rep)
	if o := ev.OpenSet[1]; o.Gallery != n {
		t.Fatalf("calibrated open set at %d, want %d", o.Gallery, n)
	}
	th, bucket, st := ServiceThresholds(ev.Curve, n, calib.DefaultPolicy())
	direct, err = OpenSet(rep, th)
	if err != nil {
		t.Fatal(err)
	}
	if o := ev.OpenSet[1]; o.Bucket != bucket || o.State != st.String() || *o.Returning != *rates(direct.Returning) || *o.New != *rates(direct.New) || (o.Predicted != nil) != (st == WithinCapacity) {
		t.Fatalf("calibrated open set %+v (%+v), want %+v at %d, %v", o, *o.Thresholds, direct, bucket, st)
	}
	// The tail check: three fits (every, every 4th, every 16th calibration
	// person), all images and at most TailMaxImages per person; the full
	// fit is the curve above.
	if len(ev.TailCheck) != 6 || ev.TailCheck[0].People != len(cal) || ev.TailCheck[0].ImpostorPairs != wantCal.N ||
		ev.TailCheck[1].People != (len(cal)+3)/4 || ev.TailCheck[3].MaxImages != TailMaxImages || ev.TailCheck[0].MaxImages != 0 {
		t.Fatalf("tail check %+v", ev.TailCheck)
	}
	if pts := ev.TailCheck[0].Points; ev.TailCheck[0].Error != "" || len(pts) == 0 {
		t.Fatalf("tail check of the full fit: %+v", ev.TailCheck[0])
	} else if f, _ := ev.Curve.FMR(pts[0].Threshold); f != pts[0].PredictedFMR {
		t.Fatalf("full fit predicts %g at %v, the curve %g", pts[0].PredictedFMR, pts[0].Threshold, f)
	}
	// k-fold: 80 pairs, one unscored.
	if k := ev.KFold; k == nil || k.Pairs != 80 || k.Unscored != 1 || k.Folds != 2 || k.Mean <= 0.5 || k.Mean > 79.0/80 {
		t.Fatalf("k-fold %+v", ev.KFold)
	}
	if ev.Timing.Measured != len(res)-1 || ev.Timing.EmbedMS != 2 || ev.Timing.DetectMS != 1 || ev.Timing.Computed != len(res)-1 {
		t.Fatalf("timing %+v", ev.Timing)
	}

	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"engine", "dataset", "all_pairs", "engine_thresholds", "lfw_10fold", "open_set", "calibration", "timing"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var text bytes.Buffer
	if err := ev.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"split report:", "all pairs of the report part", "2-fold accuracy", "1 pairs with an image without a usable face",
		"calibration curve (calibrate part", "open set (report part", "the engine's fixed thresholds", "the calibrate part's curve at N=", "time per face",
		"tail check: FMR of curves fitted on the calibrate part", "every 4th person of the calibration part", "both parts at most 4 images per person"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

// TestEvaluateExclude: excluded images leave the all-pairs and open-set
// figures but not the pairs file's protocol.
func TestEvaluateExclude(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	people, res := synthDataset(rng, 40)
	info := EngineInfo{Name: "synthetic", ModelSHA256: strings.Repeat("ab", 32), Dim: 32}
	pairs := Pairs{Folds: 2, PerFold: 1, Pairs: []Pair{
		{Fold: 0, Same: true, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[0].Name, 2}},
		{Fold: 0, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[1].Name, 1}},
		{Fold: 1, Same: true, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[0].Name, 3}},
		{Fold: 1, A: ImageRef{people[1].Name, 1}, B: ImageRef{people[2].Name, 1}},
	}}
	ex := Exclude{Images: map[string]bool{people[0].Name + "/" + people[0].Name + "_0001.jpg": true}, People: map[string]bool{people[1].Name: true}}
	ev, err := Evaluate(info, people, res, Options{Dataset: "ds", Pairs: &pairs, Exclude: &ex, ExcludeFile: "x.txt"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := Evaluate(info, people, res, Options{Dataset: "ds", Pairs: &pairs})
	if err != nil {
		t.Fatal(err)
	}
	x := ev.Dataset.Exclude
	if x == nil || x.File != "x.txt" || x.Images != 1+len(people[1].Files) || x.People != 1 || x.Missing != 0 {
		t.Fatalf("excluded %+v", x)
	}
	if ev.Dataset.People != 40 || ev.Dataset.ReportedPeople != 39 || ev.Dataset.ReportedImages != full.Dataset.ReportedImages-x.Images {
		t.Fatalf("dataset %+v", ev.Dataset)
	}
	if ev.KFold == nil || ev.KFold.Pairs != 4 || ev.KFold.Mean != full.KFold.Mean {
		t.Fatalf("k-fold %+v, want %+v", ev.KFold, full.KFold)
	}
	if ev.Dist.N >= full.Dist.N {
		t.Fatalf("impostor pairs %d, not fewer than %d", ev.Dist.N, full.Dist.N)
	}
}

func TestEvaluateErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	people, res := synthDataset(rng, 30)
	info := EngineInfo{Name: "synthetic", ModelSHA256: strings.Repeat("ab", 32), Dim: 32}
	if _, err := Evaluate(info, people, res[1:], Options{}); err == nil || !strings.Contains(err.Error(), "results for") {
		t.Fatalf("short results: %v", err)
	}
	missing := Pairs{Folds: 2, PerFold: 1, Pairs: []Pair{
		{Fold: 0, Same: true, A: ImageRef{"nobody", 1}, B: ImageRef{"nobody", 2}},
		{Fold: 0, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[1].Name, 1}},
		{Fold: 1, Same: true, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[0].Name, 2}},
		{Fold: 1, A: ImageRef{people[0].Name, 1}, B: ImageRef{people[2].Name, 1}},
	}}
	if _, err := Evaluate(info, people, res, Options{Dataset: "ds", Pairs: &missing}); !errorsIs(err, ErrPairs) || !strings.Contains(err.Error(), "nobody/nobody_0001.jpg") {
		t.Fatalf("missing pair images: %v", err)
	}
	if _, err := Evaluate(info, people, res, Options{Policy: calib.Policy{Epsilon: 2}}); !errorsIs(err, calib.ErrPolicy) {
		t.Fatalf("bad policy: %v", err)
	}
}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }
