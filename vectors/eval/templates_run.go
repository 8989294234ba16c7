package eval

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// TemplatesOptions configures [MeasureTemplates].
type TemplatesOptions struct {
	// Dataset is a folder of one sub-folder of photos per person (LFW);
	// Part the half of it the figures are reported on. "" skips the photo
	// measurements.
	Dataset string
	Part    Part
	// Exclude, if not nil, lists photos and folders of Dataset to leave
	// out (the LFW errata, as in [Options]); ExcludeFile names it.
	Exclude     *Exclude
	ExcludeFile string
	// Recordings is the liveness recordings folder ([RecordingTakes]); ""
	// skips the recording measurements.
	Recordings string
	// Embed configures detection and embedding (cache, workers, limits).
	Embed EmbedOptions
	// FuseImages are the photos fused per side in [FusionLFW].
	FuseImages []int
	// CaptureSizes and Captures configure [FusionRecordings]; Rand is its
	// randomness (required with Recordings).
	CaptureSizes []int
	Captures     int
	Rand         *rand.Rand
	// Fixed are the engine's fixed thresholds (required: the template rule
	// and the first open-set run use them); Curve, if not nil, adds the
	// thresholds it gives under Policy at the number of identities and at
	// the number of vectors of the two-template gallery.
	Fixed  *vectors.Thresholds
	Curve  *calib.Curve
	Policy calib.Policy
	// Levels is the template rule's strong-match and near-copy levels.
	// With LevelsFromCurve they come from Curve under Policy instead, at
	// the two-template gallery's number of vectors, as the enclave derives
	// them under a threshold rule ([calib.Curve.TemplateLevelsAt]).
	Levels          TemplateLevels
	LevelsFromCurve bool
}

// TakeInfo describes one recording take used.
type TakeInfo struct {
	Person string `json:"person"`
	Name   string `json:"name"`
	Frames int    `json:"frames"` // frames with a usable face
	Failed int    `json:"failed"` // frames without one
}

// TemplatesReport is everything [MeasureTemplates] measured.
type TemplatesReport struct {
	Engine  EngineInfo `json:"engine"`
	Dataset string     `json:"dataset,omitempty"`
	Part    string     `json:"part,omitempty"`
	Images  int        `json:"images,omitempty"` // usable photos of the part
	Failed  int        `json:"failed,omitempty"` // photos without a usable face
	// Exclude is set when photos were left out ([TemplatesOptions.Exclude]).
	Exclude    *ExcludeJSON        `json:"excluded,omitempty"`
	FusionLFW  []FusionLFWResult   `json:"fusion_lfw,omitempty"`
	Takes      []TakeInfo          `json:"takes,omitempty"`
	Recordings []RecordingFusion   `json:"fusion_recordings,omitempty"`
	Templates  *TemplatesLFWResult `json:"templates_lfw,omitempty"`
	// Notes are thresholds that could not be derived, and why.
	Notes []string `json:"notes,omitempty"`
}

// MeasureTemplates embeds the photos and recordings (through opt.Embed's
// cache) and runs [FusionLFW], [FusionRecordings] and [TemplatesLFW].
func MeasureTemplates(e vectors.Engine, opt TemplatesOptions) (TemplatesReport, error) {
	info, _ := Info(e)
	rep := TemplatesReport{Engine: info}
	if opt.Fixed == nil {
		return rep, fmt.Errorf("%w: the engine has no fixed thresholds", ErrTemplates)
	}
	if opt.Dataset != "" {
		people, err := LoadDataset(opt.Dataset)
		if err != nil {
			return rep, err
		}
		if opt.Exclude != nil {
			var st ExcludeStats
			people, st = opt.Exclude.Apply(people, opt.Dataset)
			rep.Exclude = &ExcludeJSON{File: opt.ExcludeFile, Images: st.Images, People: st.People, Missing: st.Missing}
		}
		people = Select(people, opt.Part)
		rep.Dataset, rep.Part = opt.Dataset, opt.Part.String()
		res, err := EmbedImages(e, people, opt.Embed)
		if err != nil {
			return rep, err
		}
		imgs, err := QualityImages(e, res, opt.Embed)
		if err != nil {
			return rep, err
		}
		rep.Images, rep.Failed = len(imgs), len(res)-len(imgs)
		for _, m := range opt.FuseImages {
			f, err := FusionLFW(imgs, m)
			if err != nil {
				return rep, err
			}
			rep.FusionLFW = append(rep.FusionLFW, f)
		}
		ths := []NamedThresholds{{Name: "engine", Thresholds: *opt.Fixed}}
		if opt.Curve != nil {
			ids, vecs := templatesCounts(imgs)
			for _, c := range []struct {
				what string
				n    int
			}{{"identities", ids}, {"vectors", vecs}} {
				th, err := opt.Curve.ThresholdsAt(c.n, opt.Policy)
				name := fmt.Sprintf("curve at N=%d %s", c.n, c.what)
				if err != nil {
					rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %v", name, err))
					continue
				}
				ths = append(ths, NamedThresholds{Name: name, Thresholds: th})
			}
		}
		levels := opt.Levels
		if opt.LevelsFromCurve {
			if opt.Curve == nil {
				return rep, fmt.Errorf("%w: template levels from a curve, but no curve", ErrTemplates)
			}
			_, vecs := templatesCounts(imgs)
			lv, err := opt.Curve.TemplateLevelsAt(vecs, opt.Policy)
			switch {
			case errors.Is(err, calib.ErrOverCapacity):
				// No strong level: the rule keeps nothing (a best score of 1
				// is a near-copy of the vector it matched).
				levels = TemplateLevels{Strong: 1, Novel: 1}
				rep.Notes = append(rep.Notes, fmt.Sprintf("template levels at N=%d vectors: %v", vecs, err))
			case err != nil:
				return rep, err
			default:
				levels = TemplateLevels{Strong: lv.Strong, Novel: lv.Novel}
				ex := ""
				if lv.Extrapolated {
					ex = " (extrapolated)"
				}
				rep.Notes = append(rep.Notes, fmt.Sprintf("template levels from the curve at N=%d vectors (template epsilon %g): strong %.4f%s, novel %.4f",
					vecs, opt.Policy.TemplateEpsilon, lv.Strong, ex, lv.Novel))
			}
		}
		t, err := TemplatesLFW(imgs, ths, levels)
		if err != nil {
			return rep, err
		}
		rep.Templates = &t
	}
	if opt.Recordings != "" {
		if opt.Rand == nil {
			return rep, errors.New("eval: recordings need randomness")
		}
		specs, err := RecordingTakes(opt.Recordings)
		if err != nil {
			return rep, err
		}
		people := make([]Person, len(specs))
		for i, s := range specs {
			people[i] = Person{Name: s.Name, Files: s.Files}
		}
		res, err := EmbedImages(e, people, opt.Embed)
		if err != nil {
			return rep, err
		}
		imgs, err := QualityImages(e, res, opt.Embed)
		if err != nil {
			return rep, err
		}
		takes := make([]Take, len(specs))
		for i, s := range specs {
			takes[i] = Take{Person: s.Person, Name: s.Name}
		}
		for _, q := range imgs {
			takes[q.Person].Frames = append(takes[q.Person].Frames, q)
		}
		for i, t := range takes {
			rep.Takes = append(rep.Takes, TakeInfo{Person: t.Person, Name: t.Name, Frames: len(t.Frames), Failed: len(specs[i].Files) - len(t.Frames)})
		}
		if rep.Recordings, err = FusionRecordings(takes, opt.CaptureSizes, opt.Captures, opt.Rand); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// templatesCounts is the size of [TemplatesLFW]'s gallery: identities, and
// vectors when every returning person keeps two.
func templatesCounts(imgs []QualityImage) (identities, vecs int) {
	singles := 0
	for _, ps := range byPerson(imgs) {
		switch {
		case len(ps) >= 3:
			identities++
			vecs += 2
		case len(ps) == 2:
			identities++
			vecs++
		default:
			if singles%2 == 0 {
				identities++
				vecs++
			}
			singles++
		}
	}
	return identities, vecs
}

// WriteText prints the report for people.
func (r TemplatesReport) WriteText(w io.Writer) error {
	var b strings.Builder
	pr := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	q := func(x Quantiles) string {
		return fmt.Sprintf("n %d mean %.4f min %.4f p0.1 %.4f p1 %.4f median %.4f p99 %.4f p99.9 %.4f max %.4f",
			x.N, x.Mean, x.Min, x.P001, x.P01, x.P50, x.P99, x.P999, x.Max)
	}
	pd := func(p Paired) string {
		return fmt.Sprintf("mean %+.4f sd %.4f, higher in %.1f %%", p.MeanDiff, p.SDDiff, 100*p.Higher)
	}
	pr("engine %s (%d-d, model %s)\n", r.Engine.Name, r.Engine.Dim, r.Engine.ModelSHA256)
	if r.Dataset != "" {
		pr("\nphotos: %s, %s part: %d usable, %d without a usable face\n", r.Dataset, r.Part, r.Images, r.Failed)
		if x := r.Exclude; x != nil {
			pr("%s\n", x)
		}
	}
	if len(r.FusionLFW) > 0 {
		pr("\n(* : fewer than 10/FAR impostor pairs: low confidence)\n")
	}
	for _, f := range r.FusionLFW {
		pr("\n(a) fusion of photos, %d per side, %d people (genuine: a person's two sides; impostor: sides of two people)\n", f.Images, f.People)
		for _, m := range f.Methods {
			pr("  %-15s genuine mean %.4f p1 %.4f | impostor mean %.4f p99 %.4f max %.4f | EER %.4f",
				m.Name, m.Report.Genuine.Mean, m.Report.Genuine.P01, m.Report.Impostor.Mean, m.Report.Impostor.P99, m.Report.Impostor.Max, m.Report.EER)
			for _, p := range m.Report.Points {
				switch {
				case p.Measurable && !p.LowConfidence:
					pr(" | TAR@%.0e %.4f", p.TargetFAR, p.TAR)
				case p.Measurable:
					pr(" | TAR@%.0e %.4f*", p.TargetFAR, p.TAR)
				}
			}
			pr("\n")
		}
		pr("  against the plain mean, paired:\n")
		for _, m := range f.Methods[1:] {
			pr("    %-15s genuine %s; impostor %s\n", m.Name, pd(m.GenuineGain), pd(m.ImpostorGain))
		}
	}
	if len(r.Takes) > 0 {
		pr("\nrecordings:")
		for _, t := range r.Takes {
			pr(" %s=%s (%d frames, %d unusable);", t.Person, t.Name, t.Frames, t.Failed)
		}
		pr("\n")
	}
	for _, f := range r.Recordings {
		pr("\n(a) fusion of simulated captures of %d frames\n", f.Frames)
		for _, m := range f.Methods {
			pr("  %s\n    genuine (two takes)   %s\n    impostor              %s\n    same person (LOO)     %s\n    intruder frame (LOO)  %s\n",
				m.Name, q(m.Scores.Genuine), q(m.Scores.Impostor), q(m.Scores.SamePerson), q(m.Scores.Intruder))
		}
		pr("  against the plain mean, paired:\n")
		for _, m := range f.Methods[1:] {
			pr("    %-15s genuine %s; impostor %s\n", m.Name, pd(m.GenuineGain), pd(m.ImpostorGain))
		}
	}
	if t := r.Templates; t != nil {
		pr("\n(b) templates: %d people enrol photo 1, keep photo 2, search with photo 3; %d other identities enrolled; %d new people search\n",
			t.People, t.Distractors, t.NewPeople)
		pr("  genuine, one template   %s\n  genuine, best of two    %s\n  two − one: %s\n", q(t.GenuineOne), q(t.GenuineTwo), pd(t.GenuineGain))
		pr("  the service's rule (strong ≥ %.4f, novel < %.4f) keeps photo 2 for %d of %d people; without the strong level (existing and novel) for %d\n",
			t.Levels.Strong, t.Levels.Novel, t.RuleKept, t.People, t.ExistingKept)
		pr("  impostor exposure over %d (search, other identity) comparisons: share whose identity score reaches t\n", t.Comparisons)
		for _, x := range t.Exposure {
			ratio := "–"
			if x.One > 0 {
				ratio = fmt.Sprintf("×%.2f", x.Two/x.One)
			}
			pr("    t=%.4f  one template %.3e  two %.3e  %s\n", x.Threshold, x.One, x.Two, ratio)
		}
		pr("  open set under vectors.Decide (returning: existing / ambiguous / new / wrong person; new: new / ambiguous / wrong person)\n")
		for _, o := range t.OpenSet {
			rt, nw := o.Returning, o.New
			pr("    %-28s match %.4f new %.4f margin %.4f  %-4s (%d vectors): returning %5.1f %% / %5.1f %% / %5.1f %% / %d;  new %5.1f %% / %5.1f %% / %d\n",
				o.Thresholds, o.Values.Match, o.Values.New, o.Values.Margin, o.Templates, o.Vectors,
				100*rt.Rate(rt.Existing), 100*rt.Rate(rt.Ambiguous), 100*rt.Rate(rt.New), rt.WrongPerson,
				100*nw.Rate(nw.New), 100*nw.Rate(nw.Ambiguous), nw.WrongPerson)
		}
	}
	for _, n := range r.Notes {
		pr("note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
