package calib

import (
	"fmt"
	"math"
)

// ShapeSignificance is how many standard errors above 0 the fitted shape
// must lie before the tail is taken to be heavier than exponential.
const ShapeSignificance = 3

// MaxShape bounds the tail's shape parameter: the probability-weighted
// moment fit is valid below ξ = 0.5.
const MaxShape = 0.5

// Tail is the impostor tail model: a generalised Pareto distribution of the
// excesses over Threshold (u), fitted to the Exceedances (k) highest of the
// calibration set's m impostor scores, used for FMR above From:
//
//	FMR(t) ≈ (k/m) · (1 + ξ·(t−u)/σ)^(−1/ξ)   (ξ > 0)
//	FMR(t) ≈ (k/m) · exp(−(t−u)/σ)           (ξ = 0, exponential)
//
// The shape is never below 0: FittedShape is what the data suggested; Shape,
// what is used, is 0 (exponential) unless FittedShape lies more than
// [ShapeSignificance] standard errors above 0, and then FittedShape capped
// at [MaxShape] (package doc: why a tail lighter than exponential is never
// assumed).
type Tail struct {
	Model       string  `json:"model"` // "exponential" (Shape 0) or "gpd"
	From        float32 `json:"from"`  // FMR above this score is extrapolated: the MinCount-th highest impostor score
	Threshold   float32 `json:"threshold"`
	Exceedances int     `json:"exceedances"`
	Scale       float64 `json:"scale"`
	Shape       float64 `json:"shape"`
	FittedShape float64 `json:"fitted_shape"`
	// m is the impostor count (not stored: the curve's impostor count).
	m int64
}

// fitTail fits the tail model to the highest impostor scores top
// (descending) of m impostor pairs: k = min(len(top)−1, max(MinFit, ⌈√m⌉))
// exceedances over u = top[k], shape and scale by probability-weighted
// moments (Hosking & Wallis 1987), the shape then set as [Tail] says and
// the scale so that the model's mean excess equals the sample's.
func fitTail(top []float32, m int64) (Tail, error) {
	if len(top) < MinFit+1 || int64(len(top)) > m {
		return Tail{}, fmt.Errorf("%w: %d top scores of %d for the tail fit", ErrTooFew, len(top), m)
	}
	k := min(len(top)-1, max(MinFit, int(math.Ceil(math.Sqrt(float64(m))))))
	u := top[k]
	// excesses ascending: y_(j) = top[k−j] − u, j = 1..k
	var a0, a1 float64
	for j := 1; j <= k; j++ {
		y := float64(top[k-j]) - float64(u)
		a0 += y
		a1 += float64(k-j) / float64(k-1) * y
	}
	a0 /= float64(k)
	a1 /= float64(k)
	if !(a0 > 0) {
		return Tail{}, fmt.Errorf("%w: the %d highest impostor scores have no spread", ErrTooFew, k)
	}
	fitted := MaxShape
	if d := a0 - 2*a1; d > 0 {
		fitted = 2 - a0/d // ξ = −κ, κ = a0/(a0 − 2a1) − 2
	}
	// Exponential unless the data show a heavier tail beyond sampling
	// noise: the PWM shape estimate's standard error at ξ = 0 is
	// √(4/(3k)) (Hosking & Wallis 1987).
	shape := 0.0
	if fitted > ShapeSignificance*math.Sqrt(4/(3*float64(k))) {
		shape = min(fitted, MaxShape)
	}
	t := Tail{
		Model:       "exponential",
		From:        top[MinCount-1],
		Threshold:   u,
		Exceedances: k,
		Scale:       a0 * (1 - shape), // GPD mean excess σ/(1−ξ) = a0
		Shape:       shape,
		FittedShape: fitted,
		m:           m,
	}
	if shape > 0 {
		t.Model = "gpd"
	}
	return t, nil
}

// fmr is the model's FMR at t ≥ Threshold.
func (t Tail) fmr(x float32) float64 {
	y := max(float64(x)-float64(t.Threshold), 0)
	p := float64(t.Exceedances) / float64(t.m)
	if t.Shape == 0 {
		return p * math.Exp(-y/t.Scale)
	}
	return p * math.Pow(1+t.Shape*y/t.Scale, -1/t.Shape)
}

// near reports whether u is t up to floating-point noise (a fit recomputed
// on another architecture may differ in the last bits).
func (t Tail) near(u Tail) bool {
	rel := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b), 1e-300) }
	return t.Model == u.Model && t.From == u.From && t.Threshold == u.Threshold &&
		t.Exceedances == u.Exceedances && rel(t.Scale, u.Scale) && (t.Shape == u.Shape || rel(t.Shape, u.Shape)) &&
		(t.FittedShape == u.FittedShape || rel(t.FittedShape, u.FittedShape))
}
