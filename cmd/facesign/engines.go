package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/spf13/cobra"
)

// engineInfo is one line of `facesign engines --json`.
type engineInfo struct {
	Name        string `json:"name"`
	Default     bool   `json:"default"`
	Dim         int    `json:"dim"`
	ModelSHA256 string `json:"model_sha256"`
	Gallery     int    `json:"gallery"`
	// Source is where the thresholds come from: "curve" (derived from the
	// engine's calibration curve at Gallery), "fixed" (the engine's own
	// fixed thresholds: no curve ships for it) or "none".
	Source       string          `json:"source"`
	Thresholds   *thresholdsJSON `json:"thresholds"`
	Extrapolated *extrapolated   `json:"extrapolated,omitempty"`
	Rates        *ratesJSON      `json:"rates,omitempty"`
	// Capacity is the largest gallery the curve supports under the policy
	// (null without a curve); OverCapacity: Gallery exceeds it, so there
	// are no thresholds, and MatchOnly is the match threshold alone (what
	// the enclave keeps answering returning people with), if any.
	Capacity              *int       `json:"capacity"`
	OverCapacity          bool       `json:"over_capacity"`
	Reason                string     `json:"reason,omitempty"` // why there are no thresholds
	MatchOnly             *float32   `json:"match_only,omitempty"`
	MatchOnlyExtrapolated bool       `json:"match_only_extrapolated,omitempty"`
	Curve                 *curveJSON `json:"curve,omitempty"`
	// TemplateLevels are the template rule's levels at N under the
	// policy's template epsilon (absent where none meets it).
	TemplateLevels *templateLevelsJSON `json:"template_levels,omitempty"`
	Error          string              `json:"error,omitempty"`
}

type templateLevelsJSON struct {
	Strong       float32 `json:"strong"`
	Novel        float32 `json:"novel"`
	Extrapolated bool    `json:"extrapolated"`
}

type thresholdsJSON struct {
	Match  float32 `json:"match"`
	New    float32 `json:"new"`
	Margin float32 `json:"margin"`
}

type extrapolated struct {
	Match bool `json:"match"`
	New   bool `json:"new"`
}

type ratesJSON struct {
	MatchFMR      float64 `json:"match_fmr"`
	NewFMR        float64 `json:"new_fmr"`
	NewRefused    float64 `json:"new_refused"`
	Duplicate     float64 `json:"duplicate"`
	NotRecognised float64 `json:"not_recognised"`
}

type curveJSON struct {
	SHA256        string `json:"sha256"`
	Provisional   bool   `json:"provisional"`
	Dataset       string `json:"dataset"`
	Split         string `json:"split"`
	GenuinePairs  int64  `json:"genuine_pairs"`
	ImpostorPairs int64  `json:"impostor_pairs"`
	TailModel     string `json:"tail_model"`
}

// describeEngine opens engine name and works out its thresholds at a
// gallery of n under p.
func describeEngine(name string, n int, p calib.Policy) engineInfo {
	info := engineInfo{Name: name, Default: name == defaultEngine, Gallery: n, Source: "none"}
	e, err := vectors.Open(name)
	if err != nil {
		info.Error = err.Error()
		return info
	}
	h := e.ModelSHA256()
	info.Dim, info.ModelSHA256 = e.Dim(), hex.EncodeToString(h[:])
	c, ok := calib.ForEngine(e.ID())
	if ok && c.ModelSHA256() != h {
		info.Error = fmt.Sprintf("the shipped curve was measured with other weights (%x)", c.ModelSHA256())
		ok = false
	}
	if !ok {
		if cal, isCal := e.(vectors.Calibrated); isCal {
			th := cal.Thresholds()
			info.Source, info.Thresholds = "fixed", &thresholdsJSON{Match: th.Match, New: th.New, Margin: th.Margin}
		}
		return info
	}
	info.Source = "curve"
	g, m := c.Pairs()
	sum := c.SHA256()
	src := c.Source()
	info.Curve = &curveJSON{SHA256: hex.EncodeToString(sum[:]), Provisional: src.Provisional, Dataset: src.Dataset, Split: src.Split,
		GenuinePairs: g, ImpostorPairs: m, TailModel: c.Tail().Model}
	capacity := c.Capacity(p)
	info.Capacity = &capacity
	if lv, err := c.TemplateLevelsAt(n, p); err == nil {
		info.TemplateLevels = &templateLevelsJSON{Strong: lv.Strong, Novel: lv.Novel, Extrapolated: lv.Extrapolated}
	}
	o, err := c.At(n, p)
	switch {
	case errors.Is(err, calib.ErrOverCapacity):
		info.OverCapacity, info.Reason = true, strings.TrimPrefix(err.Error(), calib.ErrOverCapacity.Error()+": ")
		if tm, ex, err := c.MatchAt(n, p); err == nil {
			info.MatchOnly, info.MatchOnlyExtrapolated = &tm, ex
		}
	case err != nil:
		info.Error = err.Error()
	default:
		th := o.Thresholds
		info.Thresholds = &thresholdsJSON{Match: th.Match, New: th.New, Margin: th.Margin}
		info.Extrapolated = &extrapolated{Match: o.MatchExtrapolated, New: o.NewExtrapolated}
		info.Rates = &ratesJSON{MatchFMR: o.MatchFMR, NewFMR: o.NewFMR, NewRefused: o.NewRefused, Duplicate: o.Duplicate, NotRecognised: o.NotRecognised}
	}
	return info
}

func writeEngineTable(w io.Writer, infos []engineInfo, n int, p calib.Policy) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ENGINE\tDEFAULT\tDIM\tMODEL\tMATCH\tNEW\tMARGIN\tCAPACITY\tTHRESHOLDS\n")
	star := false
	for _, in := range infos {
		def := ""
		if in.Default {
			def = "yes"
		}
		model := in.ModelSHA256
		if len(model) > 12 {
			model = model[:12]
		}
		match, nw, margin := "-", "-", "-"
		if t := in.Thresholds; t != nil {
			match, nw, margin = fmt.Sprintf("%.4f", t.Match), fmt.Sprintf("%.4f", t.New), fmt.Sprintf("%.4f", t.Margin)
			if x := in.Extrapolated; x != nil {
				if x.Match {
					match += "*"
				}
				if x.New {
					nw += "*"
				}
				star = star || x.Match || x.New
			}
		}
		capacity := "-"
		if in.Capacity != nil {
			capacity = fmt.Sprint(*in.Capacity)
		}
		note := in.Source
		switch {
		case in.Error != "":
			note = "error: " + in.Error
		case in.OverCapacity && in.MatchOnly != nil:
			mo := fmt.Sprintf("%.4f", *in.MatchOnly)
			if in.MatchOnlyExtrapolated {
				mo += "*"
				star = true
			}
			note = fmt.Sprintf("over capacity (%s); match only %s", in.Reason, mo)
		case in.OverCapacity:
			note = fmt.Sprintf("over capacity (%s)", in.Reason)
		case in.Curve != nil && in.Curve.Provisional:
			note = "curve (provisional)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, def, in.Dim, model, match, nw, margin, capacity, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nthresholds at a gallery of %d; policy: epsilon %g, max new refused %g, max duplicate %g\n", n, p.Epsilon, p.MaxNewRefused, p.MaxDuplicate)
	for _, in := range infos {
		if lv := in.TemplateLevels; lv != nil {
			ex := ""
			if lv.Extrapolated {
				ex, star = "*", true
			}
			fmt.Fprintf(w, "template levels of %s at %d (template epsilon %g): strong %.4f%s, near-copy %.4f\n", in.Name, n, p.TemplateEpsilon, lv.Strong, ex, lv.Novel)
		}
	}
	if star {
		fmt.Fprintln(w, "* extrapolated: fewer than 10 impostor pairs of the calibration set score that high; the figure comes from the curve's tail model")
	}
	_, err := fmt.Fprintln(w, "capacity: the largest gallery with thresholds that meet the policy (vectors/calib)")
	return err
}

func init() {
	register(func() *cobra.Command {
		var (
			asJSON  bool
			gallery int
			p       = calib.DefaultPolicy()
		)
		cmd := &cobra.Command{
			Use:   "engines [--json] [--gallery N]",
			Short: "List the registered face engines with their thresholds at a gallery size",
			Long: `List the registered face engines: dimension, weights, and the decision thresholds at a
gallery of N enrolled vectors, derived from the engine's shipped calibration curve under the
policy (epsilon: N x FMR(match) bound; max new refused: share of new people refused; max
duplicate: share of returning people below the new threshold; template epsilon: N x FMR bound
at the level a capture must reach to become a template), with the capacity - the largest
gallery the curve supports - and the template levels. Figures marked extrapolated come from the
curve's tail model.
Engines without a curve show their fixed thresholds.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if gallery < 1 {
					return fmt.Errorf("--gallery must be at least 1, got %d", gallery)
				}
				if err := p.Check(); err != nil {
					return err
				}
				var infos []engineInfo
				for _, name := range vectors.Engines() {
					infos = append(infos, describeEngine(name, gallery, p))
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					return enc.Encode(infos)
				}
				return writeEngineTable(cmd.OutOrStdout(), infos, gallery, p)
			},
		}
		f := cmd.Flags()
		f.BoolVar(&asJSON, "json", false, "print JSON (one array, an object per engine)")
		f.IntVar(&gallery, "gallery", 1000, "gallery size N: the number of enrolled vectors a search compares against")
		f.Float64Var(&p.Epsilon, "epsilon", p.Epsilon, "policy: bound on N x FMR at the match threshold")
		f.Float64Var(&p.MaxNewRefused, "max-new-refused", p.MaxNewRefused, "policy: largest share of new people refused as ambiguous")
		f.Float64Var(&p.MaxDuplicate, "max-duplicate", p.MaxDuplicate, "policy: largest share of returning people below the new threshold")
		f.Float64Var(&p.TemplateEpsilon, "template-epsilon", p.TemplateEpsilon, "policy: bound on N x FMR at the template strong-match level (0: no templates)")
		return cmd
	})
}
