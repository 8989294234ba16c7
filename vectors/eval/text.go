package eval

import (
	"fmt"
	"io"
	"strings"
)

func thresholdText(t *float32) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprintf("%.4f", *t)
}

// WriteText prints the evaluation for people: today's report first (the
// dataset, the score distributions, EER, TAR at FAR, recommended
// thresholds, gallery estimates), then the k-fold accuracy, the open-set
// outcome rates, the capacity and the timing, each naming the part of the
// dataset it comes from.
func (ev Evaluation) WriteText(w io.Writer) error {
	var b strings.Builder
	pr := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	ds := ev.Dataset
	pr("engine %s (model %s)\n", ev.Engine.Name, ev.Engine.ModelSHA256[:16])
	pr("dataset %s: %d people, %d images, %d without a usable face\n", ds.Dir, ds.People, ds.Images, ds.Failed)
	for _, f := range ds.Failures {
		pr("  failed: %s\n", f.Error)
	}
	if x := ds.Exclude; x != nil {
		pr("%s\n", x)
	}
	pr("split %s: %s\n", ds.Part, ds.SplitDescription)
	pr("  reported part (%s): %d people, %d images; calibration part (%s): %d people, %d images\n",
		ds.Part, ds.ReportedPeople, ds.ReportedImages, ds.CalibrationPart, ds.CalibrationPeople, ds.CalibrationImages)
	pr("all pairs of the %s part:\n", ds.Part)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	b.Reset()
	if err := ev.Report.WriteText(w); err != nil {
		return err
	}
	if t := ev.EngineThresholds; t != nil {
		pr("engine defaults: match %.4f (FMR %.2e, FNMR %.4f here), new-person %.4f (FNMR %.4f here)\n",
			t.Match, t.FMRAtMatch, t.FNMRAtMatch, t.New, t.FNMRAtNew)
		pr("  FMR at the new-person threshold %.2e: the share of different-person pairs that keep a new person from `new`\n", t.FMRAtNew)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		b.Reset()
		if err := ev.Dist.GalleryAt(float64(t.Match), ev.Report.Impostor).WriteText(w, ev.Report.Impostor.N); err != nil {
			return err
		}
	}
	if k := ev.KFold; k != nil {
		pr("%d-fold accuracy (pairs file, %d pairs from both parts; each fold's threshold chosen on the other folds): %.2f %% ± %.2f %% (std; standard error %.2f %%)\n",
			k.Folds, k.Pairs, 100*k.Mean, 100*k.Std, 100*k.StdErr)
		pr("  %d pairs with an image without a usable face, each counted as an error of its fold\n", k.Unscored)
	}
	cal := ev.Calibration
	if cal.Error != "" {
		pr("calibration curve (%s part): none: %s\n", cal.Part, cal.Error)
	} else {
		pr("calibration curve (%s part, sha256 %s): capacity %d people (%s)\n", cal.Part, cal.CurveSHA256[:16], cal.Capacity, cal.Policy)
	}
	if cal.ShippedCapacity >= 0 {
		pr("shipped curve: capacity %d people\n", cal.ShippedCapacity)
	}
	if len(ev.TailCheck) > 0 {
		pr("tail check: FMR of curves fitted on the %s part (and on thinner subsets of its people) against the FMR the %s part measures; ratio > 1: overstated (* extrapolated)\n", cal.Part, ds.Part)
	}
	for _, tc := range ev.TailCheck {
		capped := ""
		if tc.MaxImages > 0 {
			capped = fmt.Sprintf(", both parts at most %d images per person", tc.MaxImages)
		}
		pr("  %s (%d people, %d impostor pairs%s):", tc.Fit, tc.People, tc.ImpostorPairs, capped)
		if tc.Error != "" {
			pr(" no curve: %s\n", tc.Error)
			continue
		}
		for _, p := range tc.Points {
			ex := ""
			if p.Extrapolated {
				ex = "*"
			}
			pr(" | t %.4f measured %.1e predicted %.1e%s ×%.2g", p.Threshold, p.MeasuredFMR, p.PredictedFMR, ex, p.Ratio)
		}
		pr("\n")
	}
	if tp := ev.TailPeople; tp != nil {
		pr("  the %s part's %d impostor pairs at or above %.4f (FMR %.0e), by pair of people:", ds.Part, tp.Pairs, tp.Threshold, tp.TargetFMR)
		for _, p := range tp.Top {
			pr(" %s / %s %d;", p.A, p.B, p.Pairs)
		}
		pr("\n")
	}
	for _, o := range ev.OpenSet {
		from := "the engine's fixed thresholds"
		switch o.ThresholdsFrom {
		case "calibration":
			from = fmt.Sprintf("the %s part's curve at N=%d as the service applies it (bucket %d: %s)", cal.Part, o.Gallery, o.Bucket, o.State)
		case "shipped":
			from = fmt.Sprintf("the shipped curve at N=%d as the service applies it (bucket %d: %s)", o.Gallery, o.Bucket, o.State)
		}
		th := o.Thresholds
		pr("open set (%s part: gallery %d identities, %d returning, %d new people; %d people without a usable image left out), %s; match %s, new %s, margin %.4f:\n",
			ds.Part, o.Gallery, o.Returning.People, o.New.People, o.Unusable, from, thresholdText(th.Match), thresholdText(th.New), th.Margin)
		r := o.Returning
		pr("  returning: existing %5.1f %%  new %5.1f %%  ambiguous %5.1f %%  wrong person %5.1f %% (%d)\n",
			100*r.ExistingRate, 100*r.NewRate, 100*r.AmbiguousRate, 100*r.WrongPersonRate, r.WrongPerson)
		n := o.New
		pr("  new:       new      %5.1f %%  ambiguous %5.1f %%  wrong person %5.1f %% (%d)\n",
			100*n.NewRate, 100*n.AmbiguousRate, 100*n.WrongPersonRate, n.WrongPerson)
		if o.Reason != "" {
			pr("  why: %s\n", o.Reason)
		}
		if p := o.Predicted; p != nil {
			ex := ""
			if p.MatchExtrapolated {
				ex = ", extrapolated by the tail model"
			}
			pr("  the curve predicted: FMR at match %.2e%s; new people refused %.1f %%; returning people below new %.1f %%, below match %.1f %%\n",
				p.MatchFMR, ex, 100*p.NewRefused, 100*p.Duplicate, 100*p.NotRecognised)
		}
	}
	t := ev.Timing
	if t.Measured > 0 {
		pr("time per face: detect %.1f ms, align+embed %.1f ms (median wall time of %d faces; %d embedded in this run, %d from the cache, timed when computed)\n",
			t.DetectMS, t.EmbedMS, t.Measured, t.Computed, t.Cached)
	}
	if len(ev.SideBySide) > 0 {
		pr("time per face side by side (one image at a time, engines alternating, median wall time):\n")
		for _, r := range ev.SideBySide {
			pr("  %-16s %5d faces  detect %6.1f ms  align+embed %6.1f ms  pipeline %6.1f ms\n", r.Engine, r.Faces, r.DetectMS, r.EmbedMS, r.TotalMS)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
