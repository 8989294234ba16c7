package calib

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Errors, one per failure class.
var (
	// ErrTooFew: the calibration set is too small to build a curve from.
	ErrTooFew = errors.New("calib: too few scores")
	// ErrScores: the scores handed to [Build] are inconsistent.
	ErrScores = errors.New("calib: inconsistent scores")
	// ErrCurve: a curve file is malformed or inconsistent.
	ErrCurve = errors.New("calib: bad curve")
	// ErrPolicy: policy settings out of range.
	ErrPolicy = errors.New("calib: bad policy")
	// ErrOverCapacity: no thresholds satisfy the policy at this gallery size.
	ErrOverCapacity = errors.New("calib: gallery over capacity")
	// ErrNoEngine: no curve ships for the engine.
	ErrNoEngine = errors.New("calib: no curve for engine")
)

// Format names the curve file format; [Parse] accepts only this one.
const Format = "facesign-calib-curve/1"

// MinCount is the number of impostor pairs at or above a threshold below
// which the calibration set is taken not to measure FMR there: above the
// MinCount-th highest impostor score, FMR comes from the tail model and is
// labelled extrapolated.
const MinCount = 10

// Source says where a curve's scores came from.
type Source struct {
	Dataset string `json:"dataset"` // e.g. "LFW deep-funneled, 13,233 images"
	Split   string `json:"split"`   // which identities (e.g. "calibrate: folders whose SHA-256 ... is even")
	Command string `json:"command"` // the command that wrote the curve
	Note    string `json:"note,omitempty"`
	// Provisional marks a curve made from too little data to run a
	// service on (a development curve): tools show its figures, and the
	// enclave's default policy does not derive thresholds from it.
	Provisional bool `json:"provisional,omitempty"`
}

// Input is what [Build] makes a curve from.
type Input struct {
	Engine      string   // engine ID (vectors.FaceVector.Engine)
	ModelSHA256 [32]byte // the weights the scores came from
	Margin      float32  // the engine's calibrated margin (vectors.Thresholds.Margin)
	Scores      Scores
	Source      Source
}

// Curve is one engine's calibrated score distributions: FMR(t), the share
// of impostor pairs scoring ≥ t, and FNMR(t), the share of genuine pairs
// scoring < t, from the all-pairs scores of a calibration set, with a tail
// model above what the set measures (package doc). A Curve is immutable;
// make one with [Build] or [Parse]. The zero Curve holds no data: its
// figures are errors ([ErrCurve]).
type Curve struct {
	file  curveFile
	imp   []int64 // impostor histogram, len Bins
	impGE []int64 // impGE[b] = impostor scores in bins ≥ b, len Bins+1
	gen   []int64 // genuine histogram
	genLT []int64 // genLT[b] = genuine scores in bins < b, len Bins+1
	model [32]byte
	// keptInLowBin is how many kept top scores share the lowest kept
	// score's bin.
	keptInLowBin int64
	raw          []byte // canonical JSON
	sum          [32]byte
}

type curveFile struct {
	Format      string   `json:"format"`
	Engine      string   `json:"engine"`
	ModelSHA256 string   `json:"model_sha256"`
	Margin      float32  `json:"margin"`
	Source      Source   `json:"source"`
	Bins        int      `json:"bins"`
	Genuine     histFile `json:"genuine"`
	Impostor    histFile `json:"impostor"`
	Tail        Tail     `json:"tail"`
}

// histFile is a histogram over [Bins] bins stored from its first to its
// last non-empty bin.
type histFile struct {
	Count  int64     `json:"count"`
	First  int       `json:"first_bin"`
	Counts []int64   `json:"counts"`
	Top    []float32 `json:"top,omitempty"` // impostors: the highest scores, descending
}

// Build makes the curve of in (see [Scores] for what it must hold).
func Build(in Input) (Curve, error) {
	h, err := in.Scores.check()
	if err != nil {
		return Curve{}, err
	}
	if in.Engine == "" {
		return Curve{}, fmt.Errorf("%w: no engine", ErrScores)
	}
	if !(in.Margin >= 0 && in.Margin < 2) {
		return Curve{}, fmt.Errorf("%w: margin %v", ErrScores, in.Margin)
	}
	g := make([]int64, Bins)
	for _, x := range in.Scores.Genuine {
		g[binOf(x, Bins)]++
	}
	top := slices.Clone(in.Scores.ImpostorTop[:min(len(in.Scores.ImpostorTop), TopKeep)])
	f := curveFile{
		Format:      Format,
		Engine:      in.Engine,
		ModelSHA256: hex.EncodeToString(in.ModelSHA256[:]),
		Margin:      in.Margin,
		Source:      in.Source,
		Bins:        Bins,
		Genuine:     sparse(g, nil),
		Impostor:    sparse(h, top),
	}
	f.Tail, err = fitTail(top, in.Scores.Impostors)
	if err != nil {
		return Curve{}, err
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return Curve{}, fmt.Errorf("calib: %w", err)
	}
	return Parse(raw)
}

func sparse(h []int64, top []float32) histFile {
	var total int64
	first, last := -1, -1
	for b, c := range h {
		total += c
		if c != 0 {
			if first < 0 {
				first = b
			}
			last = b
		}
	}
	hf := histFile{Count: total, Top: top, Counts: []int64{}}
	if first >= 0 {
		hf.First, hf.Counts = first, slices.Clone(h[first:last+1])
	}
	return hf
}

// Parse reads a curve file (the JSON [Curve.MarshalJSON] writes), checking
// every field: the format, the histograms against their counts, the kept
// top scores against the histogram, and the tail against a fresh fit of
// the top scores. Unknown fields are errors.
func Parse(data []byte) (Curve, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f curveFile
	if err := dec.Decode(&f); err != nil {
		return Curve{}, fmt.Errorf("%w: %v", ErrCurve, err)
	}
	if dec.More() {
		return Curve{}, fmt.Errorf("%w: data after the curve", ErrCurve)
	}
	if f.Format != Format {
		return Curve{}, fmt.Errorf("%w: format %q, want %q", ErrCurve, f.Format, Format)
	}
	if f.Bins != Bins {
		return Curve{}, fmt.Errorf("%w: %d bins, want %d", ErrCurve, f.Bins, Bins)
	}
	if f.Engine == "" {
		return Curve{}, fmt.Errorf("%w: no engine", ErrCurve)
	}
	var c Curve
	if b, err := hex.DecodeString(f.ModelSHA256); err != nil || len(b) != 32 {
		return Curve{}, fmt.Errorf("%w: model_sha256 %q", ErrCurve, f.ModelSHA256)
	} else {
		copy(c.model[:], b)
	}
	if !(f.Margin >= 0 && f.Margin < 2) {
		return Curve{}, fmt.Errorf("%w: margin %v", ErrCurve, f.Margin)
	}
	var err error
	if c.gen, err = f.Genuine.dense("genuine"); err != nil {
		return Curve{}, err
	}
	if c.imp, err = f.Impostor.dense("impostor"); err != nil {
		return Curve{}, err
	}
	if f.Genuine.Top != nil {
		return Curve{}, fmt.Errorf("%w: genuine histogram with top scores", ErrCurve)
	}
	if _, err := checkImpostors(f.Impostor.Count, c.imp, f.Impostor.Top); err != nil {
		return Curve{}, fmt.Errorf("%w: %v", ErrCurve, err)
	}
	if f.Genuine.Count < MinGenuine {
		return Curve{}, fmt.Errorf("%w: %d genuine scores", ErrCurve, f.Genuine.Count)
	}
	if len(f.Impostor.Top) > TopKeep {
		return Curve{}, fmt.Errorf("%w: %d top scores, at most %d", ErrCurve, len(f.Impostor.Top), TopKeep)
	}
	want, err := fitTail(f.Impostor.Top, f.Impostor.Count)
	if err != nil {
		return Curve{}, fmt.Errorf("%w: %v", ErrCurve, err)
	}
	if !want.near(f.Tail) {
		return Curve{}, fmt.Errorf("%w: tail %+v does not match the fit of the top scores %+v", ErrCurve, f.Tail, want)
	}
	f.Tail.m = f.Impostor.Count // the stored figures, so that the hash is the same on every machine
	c.file = f
	c.impGE = make([]int64, Bins+1)
	for b := Bins - 1; b >= 0; b-- {
		c.impGE[b] = c.impGE[b+1] + c.imp[b]
	}
	top := f.Impostor.Top
	for _, x := range top {
		if binOf(x, Bins) == binOf(top[len(top)-1], Bins) {
			c.keptInLowBin++
		}
	}
	c.genLT = make([]int64, Bins+1)
	for b := range Bins {
		c.genLT[b+1] = c.genLT[b] + c.gen[b]
	}
	if c.raw, err = json.Marshal(f); err != nil {
		return Curve{}, fmt.Errorf("calib: %w", err)
	}
	c.sum = sha256.Sum256(c.raw)
	return c, nil
}

// dense expands a stored histogram to [Bins] bins.
func (h histFile) dense(what string) ([]int64, error) {
	if h.First < 0 || h.First+len(h.Counts) > Bins {
		return nil, fmt.Errorf("%w: %s histogram bins %d..%d outside 0..%d", ErrCurve, what, h.First, h.First+len(h.Counts), Bins)
	}
	if len(h.Counts) > 0 && (h.Counts[0] == 0 || h.Counts[len(h.Counts)-1] == 0) {
		return nil, fmt.Errorf("%w: %s histogram not trimmed to its non-empty bins", ErrCurve, what)
	}
	if len(h.Counts) == 0 && h.First != 0 {
		return nil, fmt.Errorf("%w: empty %s histogram starts at bin %d", ErrCurve, what, h.First)
	}
	d := make([]int64, Bins)
	var total int64
	for i, c := range h.Counts {
		if c < 0 {
			return nil, fmt.Errorf("%w: negative %s count", ErrCurve, what)
		}
		d[h.First+i] = c
		total += c
		if total < 0 {
			return nil, fmt.Errorf("%w: %s counts overflow", ErrCurve, what)
		}
	}
	if total != h.Count {
		return nil, fmt.Errorf("%w: %s histogram holds %d scores, count says %d", ErrCurve, what, total, h.Count)
	}
	return d, nil
}

// MarshalJSON returns the curve's canonical JSON, the bytes [Curve.SHA256]
// hashes.
func (c Curve) MarshalJSON() ([]byte, error) {
	if c.raw == nil {
		return nil, fmt.Errorf("%w: zero curve", ErrCurve)
	}
	return slices.Clone(c.raw), nil
}

// SHA256 is the SHA-256 of the curve's canonical JSON ([Curve.MarshalJSON]):
// what an attested policy names the curve by.
func (c Curve) SHA256() [32]byte { return c.sum }

// Engine is the engine ID the curve was measured for.
func (c Curve) Engine() string { return c.file.Engine }

// ModelSHA256 is the SHA-256 of the weights the curve was measured with.
func (c Curve) ModelSHA256() [32]byte { return c.model }

// Margin is the engine's calibrated margin ([vectors.Thresholds.Margin]).
func (c Curve) Margin() float32 { return c.file.Margin }

// Source says which data and command made the curve.
func (c Curve) Source() Source { return c.file.Source }

// Tail is the fitted impostor tail model.
func (c Curve) Tail() Tail { return c.file.Tail }

// Pairs returns the number of genuine and impostor pairs behind the curve.
func (c Curve) Pairs() (genuine, impostor int64) {
	return c.file.Genuine.Count, c.file.Impostor.Count
}

func (c Curve) ok() bool { return c.raw != nil }

// impostorsAtLeast is the number of impostor scores ≥ t: exact above the
// lowest kept top score s (or when every score is kept); below s, the kept
// count plus the histogram's scores between t and s — the unkept scores of
// s's bin (taken to lie below s) spread evenly over [bin start, s), the
// bins in between, and t's own bin interpolated linearly.
func (c Curve) impostorsAtLeast(t float32) float64 {
	top := c.file.Impostor.Top
	k := len(top)
	if int64(k) == c.file.Impostor.Count || t > top[k-1] {
		return float64(sort.Search(k, func(i int) bool { return top[i] < t }))
	}
	s := top[k-1]
	bs, bt := binOf(s, Bins), binOf(t, Bins)
	below := float64(c.imp[bs] - c.keptInLowBin)
	if bt == bs {
		lo := binLow(bs)
		frac := 1.0
		if float64(s) > lo {
			frac = (float64(s) - float64(t)) / (float64(s) - lo)
		}
		return float64(k) + min(max(frac, 0), 1)*below
	}
	frac := (binLow(bt+1) - float64(t)) / binWidth
	frac = min(max(frac, 0), 1)
	return float64(k) + below + float64(c.impGE[bt+1]-c.impGE[bs]) + frac*float64(c.imp[bt])
}

// FMR is the share of impostor pairs scoring ≥ t, and whether the figure is
// extrapolated: true where fewer than [MinCount] impostor pairs of the
// calibration set score ≥ t, and the figure comes from the tail model
// ([Curve.Tail]; never below what the set measured, never above the last
// measured figure). FMR never increases with t. A zero Curve gives (1, true).
func (c Curve) FMR(t float32) (fmr float64, extrapolated bool) {
	if !c.ok() {
		return 1, true
	}
	if math.IsNaN(float64(t)) {
		return 1, true
	}
	m := float64(c.file.Impostor.Count)
	tl := c.file.Tail
	if t <= tl.From {
		return c.impostorsAtLeast(t) / m, false
	}
	last := c.impostorsAtLeast(tl.From) / m
	return min(last, max(tl.fmr(t), c.impostorsAtLeast(t)/m)), true
}

// FNMR is the share of genuine pairs scoring < t (read from the histogram,
// interpolated linearly inside t's bin). FNMR never decreases with t. A zero
// Curve gives 1.
func (c Curve) FNMR(t float32) float64 {
	if !c.ok() || math.IsNaN(float64(t)) {
		return 1
	}
	b := binOf(t, Bins)
	frac := (float64(t) - binLow(b)) / binWidth
	frac = min(max(frac, 0), 1)
	return (float64(c.genLT[b]) + frac*float64(c.gen[b])) / float64(c.file.Genuine.Count)
}
