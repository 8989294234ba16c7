package eval

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// Options configures [Evaluate].
type Options struct {
	// Dataset is the folder the people were loaded from (pairs files name
	// images relative to it).
	Dataset string
	// Part is the part of the dataset the all-pairs and open-set figures are
	// reported on; the calibration curve comes from [PartCalibrate] when
	// Part is [PartReport], and from Part itself otherwise.
	Part Part
	// Pairs, if not nil, adds the k-fold verification accuracy on them
	// (LFW View 2: pairs.txt); it always uses every listed pair, whatever
	// Part.
	Pairs *Pairs
	// Fixed are the engine's own fixed thresholds (nil: it has none).
	Fixed *vectors.Thresholds
	// Source describes the dataset and the command for the calibration
	// curve built from the calibration part (Evaluate fills in the split).
	Source calib.Source
	// Policy turns curves into thresholds at the protocol's gallery size
	// (the zero Policy: [calib.DefaultPolicy]).
	Policy calib.Policy
	// Shipped, if it holds data, is the curve the service ships for the
	// engine; the open-set protocol also runs with its thresholds.
	Shipped calib.Curve
	// Exclude, if not nil, lists images and folders to leave out of the
	// all-pairs, open-set and calibration figures (the LFW errata); the
	// pairs file is still scored on every image. ExcludeFile names it.
	Exclude     *Exclude
	ExcludeFile string
}

// ExcludeJSON names an exclusion list and what it left out.
type ExcludeJSON struct {
	File    string `json:"file"`
	Images  int    `json:"images"`
	People  int    `json:"people"`
	Missing int    `json:"not_in_dataset"`
}

// String is the line the text reports print.
func (x *ExcludeJSON) String() string {
	return fmt.Sprintf("left out as listed in %s: %d images, %d people without images left (%d entries name nothing in this dataset)",
		x.File, x.Images, x.People, x.Missing)
}

// Evaluation holds every figure of one engine on one dataset, as
// `facesign eval` prints it (text or JSON).
type Evaluation struct {
	Engine  EngineInfo  `json:"engine"`
	Dataset DatasetInfo `json:"dataset"`
	// Report is the all-pairs verification report on the reported part.
	Report Report `json:"-"`
	// AllPairs is Report in JSON form.
	AllPairs AllPairsJSON `json:"all_pairs"`
	// EngineThresholds are the engine's fixed thresholds measured on the
	// reported part (nil when the engine has none).
	EngineThresholds *ThresholdFigures `json:"engine_thresholds,omitempty"`
	KFold            *KFoldJSON        `json:"lfw_10fold,omitempty"`
	OpenSet          []OpenSetJSON     `json:"open_set"`
	Calibration      CalibrationJSON   `json:"calibration"`
	// TailCheck compares curves fitted on the calibration part and on
	// thinner subsets of it with the FMR the reported part measures
	// (tailcheck.go); only when the two parts differ (--split report).
	TailCheck []TailCheckJSON `json:"tail_check,omitempty"`
	// TailPeople says which pairs of people make the reported part's
	// impostor tail (with TailCheck).
	TailPeople *TailPeopleJSON `json:"tail_people,omitempty"`
	Timing     Timing          `json:"timing"`
	// SideBySide, if set by the caller ([TimeSideBySide]), times this engine
	// beside others on the same images in one run.
	SideBySide []TimingRow `json:"side_by_side,omitempty"`

	// Dist is the reported part's distribution; CalDist the calibration
	// part's (the same when the parts coincide).
	Dist, CalDist Dist `json:"-"`
	// Curve is the calibration part's curve (zero when it could not be
	// built: Calibration.Error says why).
	Curve calib.Curve `json:"-"`
}

// CalibrationJSON describes the curve built from the calibration part and
// the capacity it gives.
type CalibrationJSON struct {
	Part   string `json:"part"`
	Policy string `json:"policy"`
	// Capacity is the largest gallery at which the policy finds thresholds
	// on the calibration part's curve ([calib.Curve.Capacity]).
	Capacity int `json:"capacity"`
	// ShippedCapacity is the same on the shipped curve (-1: none shipped).
	ShippedCapacity int    `json:"shipped_capacity"`
	CurveSHA256     string `json:"curve_sha256,omitempty"`
	Error           string `json:"error,omitempty"`
}

// EngineInfo names the engine and its weights.
type EngineInfo struct {
	Name        string `json:"name"`
	ModelSHA256 string `json:"model_sha256"`
	Dim         int    `json:"dim"`
}

// DatasetInfo describes the dataset and the split.
type DatasetInfo struct {
	Dir      string        `json:"dir"`
	People   int           `json:"people"`
	Images   int           `json:"images"`
	Failed   int           `json:"failed"`
	Failures []FailureJSON `json:"failures"`
	// Part is the reported part; Reported* count its people and images,
	// Calibration* those of the part the curve came from.
	Part              string `json:"part"`
	ReportedPeople    int    `json:"reported_people"`
	ReportedImages    int    `json:"reported_images"`
	CalibrationPart   string `json:"calibration_part"`
	CalibrationPeople int    `json:"calibration_people"`
	CalibrationImages int    `json:"calibration_images"`
	SplitDescription  string `json:"split"`
	// Exclude is set when images were left out (the LFW errata); People
	// and Images count what remains.
	Exclude *ExcludeJSON `json:"excluded,omitempty"`
}

// FailureJSON is an image that gave no vector.
type FailureJSON struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// ThresholdFigures are one set of thresholds and what they do on the
// reported part's pairs.
type ThresholdFigures struct {
	Match       float32 `json:"match"`
	New         float32 `json:"new"`
	Margin      float32 `json:"margin"`
	FMRAtMatch  float64 `json:"fmr_at_match"`
	FMRAtNew    float64 `json:"fmr_at_new"`
	FNMRAtMatch float64 `json:"fnmr_at_match"`
	FNMRAtNew   float64 `json:"fnmr_at_new"`
}

// KFoldJSON is the k-fold accuracy.
type KFoldJSON struct {
	Folds    int          `json:"folds"`
	Mean     float64      `json:"mean"`
	Std      float64      `json:"std"`
	StdErr   float64      `json:"stderr"`
	Pairs    int          `json:"pairs"`
	Unscored int          `json:"unscored_pairs"`
	PerFold  []FoldResult `json:"per_fold"`
}

// OpenSetJSON is one run of the open-set protocol.
type OpenSetJSON struct {
	// ThresholdsFrom is "engine" (the engine's fixed thresholds) or
	// "calibration" (the policy's thresholds at the gallery size).
	ThresholdsFrom string          `json:"thresholds_from"`
	Thresholds     *ThresholdsJSON `json:"thresholds,omitempty"`
	Gallery        int             `json:"gallery"`
	Unusable       int             `json:"unusable_people"`
	Returning      *OutcomeRates   `json:"returning,omitempty"`
	New            *OutcomeRates   `json:"new_people,omitempty"`
	// Bucket is the gallery size the service derives a curve's thresholds
	// for ([ServiceBucket]), State where that stands against the curve's
	// capacity ([ServiceState]); both are empty for the engine's fixed
	// thresholds.
	Bucket int    `json:"bucket,omitempty"`
	State  string `json:"state,omitempty"`
	// Reason says why the curve has no thresholds at the bucket (over
	// capacity).
	Reason string `json:"over_capacity_reason,omitempty"`
	// Predicted is what the curve predicts at the bucket (within capacity
	// only), to set beside the measured rates.
	Predicted *PredictedJSON `json:"predicted,omitempty"`
}

// PredictedJSON is a [calib.Operating] with JSON names.
type PredictedJSON struct {
	MatchFMR          float64 `json:"match_fmr"`
	MatchExtrapolated bool    `json:"match_extrapolated"`
	NewRefused        float64 `json:"new_refused"`
	Duplicate         float64 `json:"duplicate"`
	NotRecognised     float64 `json:"not_recognised"`
}

// ThresholdsJSON are [vectors.Thresholds] with JSON names; an infinite
// threshold (the service's over-capacity states) is null.
type ThresholdsJSON struct {
	Match  *float32 `json:"match"`
	New    *float32 `json:"new"`
	Margin float32  `json:"margin"`
}

func thresholdsJSON(th vectors.Thresholds) *ThresholdsJSON {
	fin := func(f float32) *float32 {
		if math.IsInf(float64(f), 0) {
			return nil
		}
		return &f
	}
	return &ThresholdsJSON{Match: fin(th.Match), New: fin(th.New), Margin: th.Margin}
}

// OutcomeRates are counts and shares of decisions.
type OutcomeRates struct {
	People          int     `json:"people"`
	New             int     `json:"new"`
	Existing        int     `json:"existing"`
	Ambiguous       int     `json:"ambiguous"`
	WrongPerson     int     `json:"wrong_person"`
	NewRate         float64 `json:"new_rate"`
	ExistingRate    float64 `json:"existing_rate"`
	AmbiguousRate   float64 `json:"ambiguous_rate"`
	WrongPersonRate float64 `json:"wrong_person_rate"`
}

func rates(c OpenSetCounts) *OutcomeRates {
	return &OutcomeRates{People: c.People, New: c.New, Existing: c.Existing, Ambiguous: c.Ambiguous, WrongPerson: c.WrongPerson,
		NewRate: c.Rate(c.New), ExistingRate: c.Rate(c.Existing), AmbiguousRate: c.Rate(c.Ambiguous), WrongPersonRate: c.Rate(c.WrongPerson)}
}

// Timing summarises the measured detection and embedding times.
type Timing struct {
	// Computed is the number of images embedded in this run, Cached the
	// number read from the cache.
	Computed int `json:"computed"`
	Cached   int `json:"cached"`
	// DetectMS and EmbedMS are medians of the wall time per face (ms) over
	// the images whose time is known (measured in this run or when the
	// cache was filled); Measured counts them.
	DetectMS float64 `json:"detect_ms"`
	EmbedMS  float64 `json:"embed_ms"`
	Measured int     `json:"measured"`
}

// AllPairsJSON is a [Report] with JSON names.
type AllPairsJSON struct {
	Genuine     SummaryJSON `json:"genuine"`
	Impostor    SummaryJSON `json:"impostor"`
	EER         float64     `json:"eer"`
	EERThresh   float64     `json:"eer_threshold"`
	Exact       bool        `json:"exact"`
	TARAtFAR    []PointJSON `json:"tar_at_far"`
	Recommended struct {
		Match    float64 `json:"match"`
		New      float64 `json:"new"`
		MatchFAR float64 `json:"match_far"`
	} `json:"recommended"`
	GalleryFPIR GalleryJSON `json:"gallery_fpir_0.003"`
}

// SummaryJSON is a [Summary] with JSON names.
type SummaryJSON struct {
	N    int     `json:"pairs"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	P01  float64 `json:"p01"`
	P50  float64 `json:"median"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// PointJSON is an [OperatingPoint]; TAR is absent when fewer than 10/FAR
// impostor pairs back it (Reported false).
type PointJSON struct {
	FAR         float64  `json:"far"`
	Reported    bool     `json:"reported"`
	Measurable  bool     `json:"measurable"`
	Threshold   float64  `json:"threshold"`
	TAR         *float64 `json:"tar,omitempty"`
	AchievedFAR float64  `json:"achieved_far"`
}

// GalleryJSON is a [Gallery] estimate.
type GalleryJSON struct {
	Threshold   float64 `json:"threshold"`
	MeasuredFMR float64 `json:"measured_fmr"`
	UpperFMR    float64 `json:"upper_fmr"`
	N           float64 `json:"n"`
	GaussFMR    float64 `json:"normal_tail_fmr"`
	GaussN      float64 `json:"normal_tail_n"`
}

func summaryJSON(s Summary) SummaryJSON {
	return SummaryJSON(s)
}

func reportJSON(r Report) AllPairsJSON {
	j := AllPairsJSON{Genuine: summaryJSON(r.Genuine), Impostor: summaryJSON(r.Impostor), EER: r.EER, EERThresh: r.EERThreshold, Exact: r.Exact}
	for _, p := range r.Points {
		pj := PointJSON{FAR: p.TargetFAR, Reported: !p.LowConfidence, Measurable: p.Measurable, Threshold: p.Threshold, AchievedFAR: p.FAR}
		if pj.Reported {
			tar := p.TAR
			pj.TAR = &tar
		}
		j.TARAtFAR = append(j.TARAtFAR, pj)
	}
	j.Recommended.Match, j.Recommended.New, j.Recommended.MatchFAR = r.MatchThreshold, r.NewThreshold, r.MatchFAR
	g := r.Gallery
	gauss := g.GaussN
	if gauss > 1e300 {
		gauss = 1e300 // JSON has no infinity
	}
	j.GalleryFPIR = GalleryJSON{Threshold: g.Threshold, MeasuredFMR: g.MeasuredFMR, UpperFMR: g.UpperFMR, N: g.N, GaussFMR: g.GaussFMR, GaussN: gauss}
	return j
}

// Figures returns what thresholds th do on d's pairs.
func (d Dist) Figures(th vectors.Thresholds) ThresholdFigures {
	f := ThresholdFigures{Match: th.Match, New: th.New, Margin: th.Margin}
	f.FMRAtMatch, _ = d.FMR(float64(th.Match))
	f.FMRAtNew, _ = d.FMR(float64(th.New))
	f.FNMRAtMatch = d.FNMR(float64(th.Match))
	f.FNMRAtNew = d.FNMR(float64(th.New))
	return f
}

// ErrEvaluate reports inputs [Evaluate] cannot work with.
var ErrEvaluate = errors.New("eval: cannot evaluate")

// Info describes e, and returns its fixed thresholds if it has any.
func Info(e vectors.Engine) (EngineInfo, *vectors.Thresholds) {
	sha := e.ModelSHA256()
	info := EngineInfo{Name: e.ID(), ModelSHA256: hex.EncodeToString(sha[:]), Dim: e.Dim()}
	if c, ok := e.(vectors.Calibrated); ok {
		th := c.Thresholds()
		return info, &th
	}
	return info, nil
}

// Evaluate computes every figure of the engine described by info on the
// dataset, from the per-image results of [EmbedImages] over people (the
// whole dataset, in its order).
func Evaluate(info EngineInfo, people []Person, res []ImageResult, opt Options) (Evaluation, error) {
	ev := Evaluation{Engine: info}
	ds := &ev.Dataset
	ds.Dir, ds.People, ds.Failures = opt.Dataset, len(people), []FailureJSON{}
	ds.Part = opt.Part.String()
	for _, p := range people {
		ds.Images += len(p.Files)
	}
	if len(res) != ds.Images {
		return Evaluation{}, fmt.Errorf("%w: %d results for %d images", ErrEvaluate, len(res), ds.Images)
	}
	for _, r := range res {
		if r.Err != nil {
			ds.Failed++
			ds.Failures = append(ds.Failures, FailureJSON{File: r.File, Error: r.Err.Error()})
		}
	}
	ev.Timing = timing(res)

	calPart := opt.Part
	if opt.Part == PartReport {
		calPart = PartCalibrate
	}
	ds.CalibrationPart = calPart.String()
	switch opt.Part {
	case PartAll:
		ds.SplitDescription = "no split: every figure and the calibration come from the whole dataset (optimistic)"
	case PartReport:
		ds.SplitDescription = "figures from the report half; thresholds calibrated on the calibration half (identity-disjoint, by SHA-256 of the folder name)"
	case PartCalibrate:
		ds.SplitDescription = "figures from the calibration half, the same half the calibration comes from (optimistic)"
	}

	figPeople, figRes := people, res
	if opt.Exclude != nil {
		var st ExcludeStats
		figPeople, st = opt.Exclude.Apply(people, opt.Dataset)
		ds.Exclude = &ExcludeJSON{File: opt.ExcludeFile, Images: st.Images, People: st.People, Missing: st.Missing}
		byFile := make(map[string]ImageResult, len(res))
		for _, r := range res {
			byFile[r.File] = r
		}
		figRes = nil
		for i, p := range figPeople {
			for _, f := range p.Files {
				r := byFile[f]
				r.Person = i
				figRes = append(figRes, r)
			}
		}
	}
	all := Group(figRes, len(figPeople))
	part := func(p Part) ([][]vectors.FaceVector, []string, int) {
		var vs [][]vectors.FaceVector
		var names []string
		images := 0
		for i, q := range figPeople {
			if p == PartAll || PartOf(q.Name) == p {
				vs = append(vs, all[i])
				names = append(names, q.Name)
				images += len(q.Files)
			}
		}
		return vs, names, images
	}
	repVecs, repNames, ri := part(opt.Part)
	ds.ReportedPeople, ds.ReportedImages = len(repVecs), ri
	calVecs, _, ci := part(calPart)
	cp := len(calVecs)
	ds.CalibrationPeople, ds.CalibrationImages = cp, ci

	var err error
	if ev.Dist, err = distOf(repVecs); err != nil {
		return Evaluation{}, err
	}
	if ev.Report, err = ev.Dist.Report(); err != nil {
		return Evaluation{}, fmt.Errorf("%w: reported part: %w", ErrEvaluate, err)
	}
	ev.AllPairs = reportJSON(ev.Report)
	ev.CalDist = ev.Dist
	if calPart != opt.Part {
		if ev.CalDist, err = distOf(calVecs); err != nil {
			return Evaluation{}, err
		}
	}
	if opt.Fixed != nil {
		f := ev.Dist.Figures(*opt.Fixed)
		ev.EngineThresholds = &f
	}
	if opt.Pairs != nil {
		kf, err := kfoldOf(opt.Dataset, res, *opt.Pairs)
		if err != nil {
			return Evaluation{}, err
		}
		ev.KFold = kf
	}

	pol := opt.Policy
	if pol == (calib.Policy{}) {
		pol = calib.DefaultPolicy()
	}
	if err := pol.Check(); err != nil {
		return Evaluation{}, fmt.Errorf("%w: %w", ErrEvaluate, err)
	}
	cal := &ev.Calibration
	cal.Part, cal.ShippedCapacity = calPart.String(), -1
	cal.Policy = fmt.Sprintf("epsilon %g, new people refused <= %g, duplicates <= %g", pol.Epsilon, pol.MaxNewRefused, pol.MaxDuplicate)
	src := opt.Source
	src.Split = fmt.Sprintf("%s part (%d people, %d images): %s", calPart, cp, ci, splitRule(calPart))
	if ev.Curve, err = BuildCurve(info, opt.Fixed, ev.CalDist, src); err != nil {
		cal.Error = err.Error()
	} else {
		cal.Capacity = ev.Curve.Capacity(pol)
		sum := ev.Curve.SHA256()
		cal.CurveSHA256 = hex.EncodeToString(sum[:])
	}
	if opt.Shipped.Engine() != "" {
		cal.ShippedCapacity = opt.Shipped.Capacity(pol)
	}
	if calPart != opt.Part {
		if ev.TailCheck, err = tailCheck(info, opt.Fixed, calVecs, repVecs, ev.CalDist, ev.Dist); err != nil {
			return Evaluation{}, err
		}
		ev.TailPeople = tailPeople(repVecs, repNames, ev.Dist)
	}

	n := GallerySize(repVecs)
	ev.OpenSet = []OpenSetJSON{}
	run := func(from string, th vectors.Thresholds, pred *PredictedJSON) error {
		r, err := OpenSet(repVecs, th)
		if err != nil {
			return err
		}
		ev.OpenSet = append(ev.OpenSet, OpenSetJSON{ThresholdsFrom: from, Thresholds: thresholdsJSON(th), Gallery: r.Gallery,
			Unusable: r.Unusable, Returning: rates(r.Returning), New: rates(r.New), Predicted: pred})
		return nil
	}
	if opt.Fixed != nil {
		if err := run("engine", *opt.Fixed, nil); err != nil {
			return Evaluation{}, err
		}
	}
	for _, c := range []struct {
		from  string
		curve calib.Curve
	}{{"calibration", ev.Curve}, {"shipped", opt.Shipped}} {
		if c.curve.Engine() == "" {
			continue
		}
		th, bucket, st := ServiceThresholds(c.curve, n, pol)
		var pred *PredictedJSON
		reason := ""
		if o, err := c.curve.At(bucket, pol); err == nil {
			pred = &PredictedJSON{MatchFMR: o.MatchFMR, MatchExtrapolated: o.MatchExtrapolated, NewRefused: o.NewRefused, Duplicate: o.Duplicate, NotRecognised: o.NotRecognised}
		} else {
			reason = err.Error()
		}
		if err := run(c.from, th, pred); err != nil {
			return Evaluation{}, err
		}
		o := &ev.OpenSet[len(ev.OpenSet)-1]
		o.Bucket, o.State, o.Reason = bucket, st.String(), reason
	}
	return ev, nil
}

// splitRule says how a part is chosen.
func splitRule(p Part) string {
	switch p {
	case PartCalibrate:
		return "person folders whose SHA-256(\"facesign eval split v1\\x00\" || name) starts with an even byte"
	case PartReport:
		return "person folders whose SHA-256(\"facesign eval split v1\\x00\" || name) starts with an odd byte"
	}
	return "every person"
}

// CalibScores returns d in the form [calib.Build] reads.
func (d Dist) CalibScores() calib.Scores {
	return calib.Scores{Genuine: d.Genuine, Impostors: d.N, ImpostorHist: d.Hist, ImpostorTop: d.Top}
}

// BuildCurve builds the calibration curve of the engine described by info
// from d; the margin is the engine's fixed one (0 without).
func BuildCurve(info EngineInfo, fixed *vectors.Thresholds, d Dist, src calib.Source) (calib.Curve, error) {
	var model [32]byte
	if b, err := hex.DecodeString(info.ModelSHA256); err != nil || len(b) != 32 {
		return calib.Curve{}, fmt.Errorf("%w: model hash %q", ErrEvaluate, info.ModelSHA256)
	} else {
		copy(model[:], b)
	}
	in := calib.Input{Engine: info.Name, ModelSHA256: model, Scores: d.CalibScores(), Source: src}
	if fixed != nil {
		in.Margin = fixed.Margin
	}
	return calib.Build(in)
}

func distOf(vecs [][]vectors.FaceVector) (Dist, error) {
	l, err := Label(vecs)
	if err != nil {
		return Dist{}, fmt.Errorf("%w: %w", ErrEvaluate, err)
	}
	return AllPairs(l)
}

// kfoldOf scores the pairs and cross-validates.
func kfoldOf(dir string, res []ImageResult, pairs Pairs) (*KFoldJSON, error) {
	byRel := map[string]*ImageResult{}
	for i := range res {
		rel, err := filepath.Rel(dir, res[i].File)
		if err == nil {
			byRel[rel] = &res[i]
		}
	}
	var missing []string
	ps := make([]PairScore, len(pairs.Pairs))
	for i, p := range pairs.Pairs {
		a, okA := byRel[p.A.Rel()]
		b, okB := byRel[p.B.Rel()]
		for _, m := range []struct {
			ok  bool
			ref ImageRef
		}{{okA, p.A}, {okB, p.B}} {
			if !m.ok && !slices.Contains(missing, m.ref.Rel()) {
				missing = append(missing, m.ref.Rel())
			}
		}
		ps[i] = PairScore{Fold: p.Fold, Same: p.Same}
		if okA && okB && a.Vector != nil && b.Vector != nil {
			s, err := vectors.Cosine(*a.Vector, *b.Vector)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrEvaluate, err)
			}
			ps[i].Scored, ps[i].Score = true, float64(s)
		}
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 3 {
			more = fmt.Sprintf(" and %d more", len(missing)-3)
			missing = missing[:3]
		}
		return nil, fmt.Errorf("%w: pairs name images the dataset does not have: %v%s", ErrPairs, missing, more)
	}
	r, err := KFold(ps, pairs.Folds)
	if err != nil {
		return nil, err
	}
	return &KFoldJSON{Folds: pairs.Folds, Mean: r.Mean, Std: r.Std, StdErr: r.StdErr, Pairs: r.Pairs, Unscored: r.Unscored, PerFold: r.Folds}, nil
}

func timing(res []ImageResult) Timing {
	var t Timing
	var det, emb []float64
	for _, r := range res {
		if r.Vector == nil {
			continue
		}
		if r.Cached {
			t.Cached++
		} else {
			t.Computed++
		}
		if r.DetectNS > 0 && r.EmbedNS > 0 {
			det = append(det, float64(r.DetectNS)/1e6)
			emb = append(emb, float64(r.EmbedNS)/1e6)
		}
	}
	t.Measured = len(det)
	if len(det) > 0 {
		slices.Sort(det)
		slices.Sort(emb)
		t.DetectMS, t.EmbedMS = quantile(det, 0.5), quantile(emb, 0.5)
	}
	return t
}
