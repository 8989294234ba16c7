package eval

import (
	"errors"
	"fmt"
	"math"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
)

// OpenSetCounts counts the decisions for one group of searches. For a
// returning person, Existing is the right identity and WrongPerson another
// one; for a new person every "existing" decision is WrongPerson (someone
// else's identity and entropy), so Existing stays 0.
type OpenSetCounts struct {
	People                                int
	New, Existing, Ambiguous, WrongPerson int
}

// Rate returns n as a share of c.People (0 when there are none).
func (c OpenSetCounts) Rate(n int) float64 {
	if c.People == 0 {
		return 0
	}
	return float64(n) / float64(c.People)
}

// OpenSetResult is the outcome of [OpenSet].
type OpenSetResult struct {
	// Gallery is the number of enrolled identities (one vector each).
	Gallery int
	// Returning are searches of enrolled people (their second image), New
	// of people nobody enrolled.
	Returning, New OpenSetCounts
	Thresholds     vectors.Thresholds
	// Unusable is the number of people left out for having no vector at all.
	Unusable int
}

// ErrOpenSet reports a dataset the open-set protocol cannot run on.
var ErrOpenSet = errors.New("eval: open-set protocol cannot run")

// openSetPlan is the protocol's assignment of vectors to the gallery and to
// the two groups of searches.
type openSetPlan struct {
	gallery       []vectors.FaceVector // slot = index
	returning     []vectors.FaceVector
	returningSlot []int
	newcomers     []vectors.FaceVector
	unusable      int
}

// planOpenSet applies the protocol of issue 12 to vecs (vecs[p] = the
// usable vectors of person p, in file order; people in a fixed order):
//
//   - a person with two or more vectors enrols the first and searches with
//     the second (a returning person);
//   - people with exactly one vector alternate, in order: the 1st, 3rd, 5th …
//     enrol, the 2nd, 4th … search (new people);
//   - people with none are left out (counted as Unusable).
func planOpenSet(vecs [][]vectors.FaceVector) openSetPlan {
	var p openSetPlan
	single := 0
	for _, vs := range vecs {
		switch {
		case len(vs) == 0:
			p.unusable++
		case len(vs) >= 2:
			p.returningSlot = append(p.returningSlot, len(p.gallery))
			p.gallery = append(p.gallery, vs[0])
			p.returning = append(p.returning, vs[1])
		default:
			if single%2 == 0 {
				p.gallery = append(p.gallery, vs[0])
			} else {
				p.newcomers = append(p.newcomers, vs[0])
			}
			single++
		}
	}
	return p
}

// GallerySize is the number of identities the open-set protocol enrols from
// vecs (see [OpenSet]): what thresholds that depend on the gallery size must
// be derived for.
func GallerySize(vecs [][]vectors.FaceVector) int { return len(planOpenSet(vecs).gallery) }

// OpenSet runs the open-set de-duplication protocol on vecs (see
// [planOpenSet] for who enrols and who searches): every search goes
// through an exact float32 [vectors.Gallery] (the service's search kernel)
// and the service's own rule [vectors.Decide] with thresholds th, one
// vector per identity. th must have New ≤ Match and a margin in [0, 2);
// infinite thresholds are allowed (the service's over-capacity states,
// [ServiceThresholds]). [OpenSetReference] is its plain twin.
func OpenSet(vecs [][]vectors.FaceVector, th vectors.Thresholds) (OpenSetResult, error) {
	p, err := checkPlan(vecs, th)
	if err != nil {
		return OpenSetResult{}, err
	}
	g, err := vectors.NewGallery(len(p.gallery[0].Values), vectors.GalleryOptions{})
	if err != nil {
		return OpenSetResult{}, fmt.Errorf("%w: %w", ErrOpenSet, err)
	}
	for i, v := range p.gallery {
		if s, err := g.Add(v.Values); err != nil || int(s) != i {
			return OpenSetResult{}, fmt.Errorf("%w: enrol %d: slot %d, %v", ErrOpenSet, i, s, err)
		}
	}
	// One entry per identity, so the best and second best entries are the
	// best and second best identities: all Decide reads.
	k := min(2, len(p.gallery))
	search := func(vs []vectors.FaceVector) ([]vectors.Decision, error) {
		qs := make([][]float32, len(vs))
		for i, v := range vs {
			qs[i] = v.Values
		}
		res, err := g.SearchBatch(qs, k)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrOpenSet, err)
		}
		ds := make([]vectors.Decision, len(res))
		for i, m := range res {
			ds[i] = vectors.Decide(th, m)
		}
		return ds, nil
	}
	ret, err := search(p.returning)
	if err != nil {
		return OpenSetResult{}, err
	}
	nw, err := search(p.newcomers)
	if err != nil {
		return OpenSetResult{}, err
	}
	return tally(p, th, ret, nw), nil
}

// OpenSetReference is the slow twin of [OpenSet]: every search scores every
// enrolled vector with [vectors.Cosine] and hands the full list to
// [vectors.Decide].
func OpenSetReference(vecs [][]vectors.FaceVector, th vectors.Thresholds) (OpenSetResult, error) {
	p, err := checkPlan(vecs, th)
	if err != nil {
		return OpenSetResult{}, err
	}
	search := func(vs []vectors.FaceVector) ([]vectors.Decision, error) {
		var ds []vectors.Decision
		for _, q := range vs {
			var ms []vectors.Match
			for slot, e := range p.gallery {
				s, err := vectors.Cosine(q, e)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrOpenSet, err)
				}
				ms = append(ms, vectors.Match{Slot: vectors.Slot(slot), Score: s})
			}
			ds = append(ds, vectors.Decide(th, ms))
		}
		return ds, nil
	}
	ret, err := search(p.returning)
	if err != nil {
		return OpenSetResult{}, err
	}
	nw, err := search(p.newcomers)
	if err != nil {
		return OpenSetResult{}, err
	}
	return tally(p, th, ret, nw), nil
}

func checkPlan(vecs [][]vectors.FaceVector, th vectors.Thresholds) (openSetPlan, error) {
	// The service's over-capacity states use infinite thresholds (nobody
	// new: New = −∞; nobody existing: Match = +∞), so only the order and
	// the margin are checked here.
	if !(th.New <= th.Match) || !(th.Margin >= 0 && th.Margin < 2) {
		return openSetPlan{}, fmt.Errorf("%w: %w: new %v, match %v, margin %v", ErrOpenSet, vectors.ErrThresholds, th.New, th.Match, th.Margin)
	}
	if _, err := Label(vecs); err != nil {
		return openSetPlan{}, fmt.Errorf("%w: %w", ErrOpenSet, err)
	}
	p := planOpenSet(vecs)
	if len(p.gallery) == 0 || len(p.returning)+len(p.newcomers) == 0 {
		return openSetPlan{}, fmt.Errorf("%w: %d identities to enrol and %d searches", ErrOpenSet, len(p.gallery), len(p.returning)+len(p.newcomers))
	}
	return p, nil
}

func tally(p openSetPlan, th vectors.Thresholds, ret, nw []vectors.Decision) OpenSetResult {
	r := OpenSetResult{Gallery: len(p.gallery), Thresholds: th, Unusable: p.unusable}
	r.Returning.People = len(ret)
	for i, d := range ret {
		switch d.Outcome {
		case vectors.OutcomeNew:
			r.Returning.New++
		case vectors.OutcomeExisting:
			if int(d.Slot) == p.returningSlot[i] {
				r.Returning.Existing++
			} else {
				r.Returning.WrongPerson++
			}
		default:
			r.Returning.Ambiguous++
		}
	}
	r.New.People = len(nw)
	for _, d := range nw {
		switch d.Outcome {
		case vectors.OutcomeNew:
			r.New.New++
		case vectors.OutcomeExisting:
			r.New.WrongPerson++
		default:
			r.New.Ambiguous++
		}
	}
	return r
}

// ServiceState is where a gallery of a given size stands against a curve's
// capacity, as the service sees it.
type ServiceState int

// The states (enclave/thresholds.go).
const (
	// WithinCapacity: the curve's thresholds at the gallery size.
	WithinCapacity ServiceState = iota
	// MatchOnly: over capacity; nobody is answered new, returning people
	// only at the match threshold that still keeps N × FMR ≤ ε.
	MatchOnly
	// RefuseAll: over capacity with no such match threshold either.
	RefuseAll
)

func (s ServiceState) String() string {
	switch s {
	case WithinCapacity:
		return "within capacity"
	case MatchOnly:
		return "over capacity: nobody answered new, returning people at the match threshold"
	case RefuseAll:
		return "over capacity: every decision refused"
	}
	return fmt.Sprintf("ServiceState(%d)", int(s))
}

// ServiceBucket is the gallery size the service computes thresholds for
// when a search compares against n vectors: the next power of two ≥ n, but
// no more than capacity while n is within it (enclave/thresholds.go,
// bucketOf: stricter than n on both sides of the rule, recomputed only when
// the bucket changes).
func ServiceBucket(n, capacity int) int {
	n = max(n, 1)
	b := 1
	for b < n {
		b *= 2
	}
	if n <= capacity {
		b = min(b, capacity)
	}
	return b
}

// ServiceThresholds returns the thresholds the service applies to a search
// against n vectors under curve c and policy p, as enclave/thresholds.go
// derives them: the curve's thresholds at [ServiceBucket](n, capacity);
// over capacity New = −∞ (nobody is answered new) and the match threshold
// for that size when one exists ([calib.Curve.MatchAt]), else Match = +∞
// (every decision refused). bucket is the size the thresholds are for.
func ServiceThresholds(c calib.Curve, n int, p calib.Policy) (th vectors.Thresholds, bucket int, st ServiceState) {
	bucket = ServiceBucket(n, c.Capacity(p))
	th, err := c.ThresholdsAt(bucket, p)
	if err == nil {
		return th, bucket, WithinCapacity
	}
	inf := float32(math.Inf(1))
	if tm, _, err := c.MatchAt(bucket, p); err == nil {
		return vectors.Thresholds{Match: tm, New: -inf, Margin: c.Margin()}, bucket, MatchOnly
	}
	return vectors.Thresholds{Match: inf, New: -inf, Margin: c.Margin()}, bucket, RefuseAll
}
