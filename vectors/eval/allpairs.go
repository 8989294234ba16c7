package eval

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// HistBins is the number of equal bins [Dist] spreads impostor scores over,
// covering the cosine range [-1, 1]: 2/HistBins ≈ 3·10⁻⁵ wide.
const HistBins = 1 << 16

// exactImpostors is the impostor count up to which [Dist] keeps every
// impostor score, so that small datasets get exact figures everywhere.
const exactImpostors = 1 << 16

// Dist is the score distribution of every pair of a labelled set of
// vectors, held without keeping one float per impostor pair:
//
//   - every genuine score, exactly;
//   - the impostor count, sum, sum of squares, minimum and maximum, exactly;
//   - the highest impostor scores exactly — at least the top 1 % plus one,
//     which is what thresholds at FAR ≤ 10⁻² need, and all of them when
//     there are at most 65,536;
//   - a histogram of all impostor scores ([HistBins] bins over [-1, 1]) for
//     the rest (EER, percentiles below the exact top, the DET curve).
//
// Figures that read only the exact parts are exact; the others are marked
// where they are reported. Build one with [AllPairs] (or [DistOf] from
// score slices).
type Dist struct {
	// Genuine holds every genuine score, ascending.
	Genuine []float32
	// N is the number of impostor pairs; Sum and SumSq their scores' sum
	// and sum of squares (float64); Min and Max the extremes.
	N          int64
	Sum, SumSq float64
	Min, Max   float32
	// Hist counts impostor scores per bin: bin b holds scores in
	// [-1 + b·w, -1 + (b+1)·w), w = 2/HistBins; scores outside [-1, 1]
	// (rounding) fall in the end bins.
	Hist []int64
	// Top holds the len(Top) highest impostor scores, descending.
	Top []float32
}

// topKeep is how many of n impostor scores Dist keeps exactly.
func topKeep(n int64) int64 {
	k := max(int64(math.Floor(FARTargets[0]*float64(n)))+1, exactImpostors)
	return min(k, n)
}

// binOf returns the histogram bin of score s.
func binOf(s float32) int {
	b := int(math.Floor((float64(s) + 1) * HistBins / 2))
	return min(max(b, 0), HistBins-1)
}

// binLow is the lower edge of bin b.
func binLow(b int) float64 { return -1 + float64(b)*2/HistBins }

// acc accumulates one worker's share of the pairs.
type acc struct {
	gen        []float32
	n          int64
	sum, sumsq float64
	min, max   float32
	hist       []int64
	top        []float32
	keep       int
	cutoff     float32 // scores ≤ cutoff cannot enter the top any more
}

func newAcc(keep int64) *acc {
	return &acc{min: float32(math.Inf(1)), max: float32(math.Inf(-1)), hist: make([]int64, HistBins), keep: int(keep), cutoff: float32(math.Inf(-1))}
}

func (a *acc) impostor(s float32) {
	a.n++
	f := float64(s)
	a.sum += f
	a.sumsq += f * f
	a.min = min(a.min, s)
	a.max = max(a.max, s)
	a.hist[binOf(s)]++
	if s > a.cutoff {
		a.top = append(a.top, s)
		if len(a.top) >= 2*a.keep+1024 {
			a.compact()
		}
	}
}

// compact keeps the keep highest scores of top.
func (a *acc) compact() {
	slices.SortFunc(a.top, func(x, y float32) int { return cmpFloat(float64(y), float64(x)) })
	if len(a.top) > a.keep {
		a.top = a.top[:a.keep]
		a.cutoff = a.top[a.keep-1]
	}
}

// merge combines the accumulators into a Dist.
func merge(accs []*acc) Dist {
	d := Dist{Min: float32(math.Inf(1)), Max: float32(math.Inf(-1)), Hist: make([]int64, HistBins)}
	keep := 0
	for _, a := range accs {
		d.Genuine = append(d.Genuine, a.gen...)
		d.N += a.n
		d.Sum += a.sum
		d.SumSq += a.sumsq
		d.Min = min(d.Min, a.min)
		d.Max = max(d.Max, a.max)
		for b, c := range a.hist {
			d.Hist[b] += c
		}
		d.Top = append(d.Top, a.top...)
		keep = a.keep
	}
	slices.Sort(d.Genuine)
	slices.SortFunc(d.Top, func(x, y float32) int { return cmpFloat(float64(y), float64(x)) })
	if len(d.Top) > keep {
		d.Top = d.Top[:keep]
	}
	if d.N == 0 {
		d.Min, d.Max = 0, 0
	}
	return d
}

// Labelled is a set of vectors of one engine with the person each shows.
type Labelled struct {
	Dim    int
	Values []float32 // len(Person) rows of Dim values, each L2-normalised
	Person []int
}

// ErrVectors reports vectors that cannot be scored together.
var ErrVectors = errors.New("eval: bad vectors")

// Label flattens vecs (vecs[p] = the vectors of person p) into a Labelled
// set; all vectors must come from one engine and have one length.
func Label(vecs [][]vectors.FaceVector) (Labelled, error) {
	var l Labelled
	var first *vectors.FaceVector
	for p, vs := range vecs {
		for i := range vs {
			v := &vs[i]
			if first == nil {
				first = v
				l.Dim = len(v.Values)
			}
			if v.Engine != first.Engine || v.ModelSHA256 != first.ModelSHA256 || len(v.Values) != l.Dim {
				return Labelled{}, fmt.Errorf("%w: %w", ErrVectors, vectors.ErrEngineMismatch)
			}
			l.Values = append(l.Values, v.Values...)
			l.Person = append(l.Person, p)
		}
	}
	return l, nil
}

func (l Labelled) check() error {
	if l.Dim <= 0 && len(l.Person) > 0 || len(l.Values) != l.Dim*len(l.Person) {
		return fmt.Errorf("%w: %d values for %d vectors of %d", ErrVectors, len(l.Values), len(l.Person), l.Dim)
	}
	return nil
}

// pairCounts returns the number of genuine and impostor pairs of l.
func (l Labelled) pairCounts() (gen, imp int64) {
	per := map[int]int64{}
	for _, p := range l.Person {
		per[p]++
	}
	n := int64(len(l.Person))
	for _, c := range per {
		gen += c * (c - 1) / 2
	}
	return gen, n*(n-1)/2 - gen
}

// blockCols is how many vectors one matrix product scores against all
// earlier ones.
const blockCols = 256

// AllPairs scores every pair of l (cosine = inner product, in float32 on
// the project's GEMM kernel, a block of 256 vectors against all earlier ones
// at a time) and accumulates the scores into a [Dist]. It spreads the work
// over GOMAXPROCS goroutines. [AllPairsReference] is its plain twin.
func AllPairs(l Labelled) (Dist, error) {
	if err := l.check(); err != nil {
		return Dist{}, err
	}
	n, dim := len(l.Person), l.Dim
	_, imp := l.pairCounts()
	keep := topKeep(imp)
	workers := max(1, runtime.GOMAXPROCS(0))
	accs := make([]*acc, workers)
	for w := range accs {
		accs[w] = newAcc(keep)
	}
	bt := make([]float32, dim*blockCols)
	for c0 := 0; c0 < n; c0 += blockCols {
		c1 := min(c0+blockCols, n)
		w := c1 - c0
		// Rows 0..c1 against columns c0..c1: every pair i < j with j in the block.
		bt = bt[:dim*w]
		for j := c0; j < c1; j++ {
			for k, v := range l.Values[j*dim : (j+1)*dim] {
				bt[k*w+j-c0] = v
			}
		}
		a, err := nn.FromData(l.Values[:c1*dim], c1, dim)
		if err != nil {
			return Dist{}, fmt.Errorf("%w: %w", ErrVectors, err)
		}
		b, err := nn.FromData(bt, dim, w)
		if err != nil {
			return Dist{}, fmt.Errorf("%w: %w", ErrVectors, err)
		}
		out, err := nn.MatMul(a, b, false, false, nil, nn.Activation{})
		if err != nil {
			return Dist{}, fmt.Errorf("%w: %w", ErrVectors, err)
		}
		var wg sync.WaitGroup
		for wk, ac := range accs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := wk; i < c1; i += workers {
					row := out.Data[i*w : (i+1)*w]
					pi := l.Person[i]
					for jj := max(0, i+1-c0); jj < w; jj++ {
						if l.Person[c0+jj] == pi {
							ac.gen = append(ac.gen, row[jj])
						} else {
							ac.impostor(row[jj])
						}
					}
				}
			}()
		}
		wg.Wait()
	}
	return merge(accs), nil
}

// AllPairsReference is the slow twin of [AllPairs]: one float64 dot
// product per pair in a double loop, one accumulator.
func AllPairsReference(l Labelled) (Dist, error) {
	if err := l.check(); err != nil {
		return Dist{}, err
	}
	_, imp := l.pairCounts()
	a := newAcc(topKeep(imp))
	dim := l.Dim
	for i := range l.Person {
		for j := i + 1; j < len(l.Person); j++ {
			var s float64
			for k := range dim {
				s += float64(l.Values[i*dim+k]) * float64(l.Values[j*dim+k])
			}
			if l.Person[i] == l.Person[j] {
				a.gen = append(a.gen, float32(s))
			} else {
				a.impostor(float32(s))
			}
		}
	}
	return merge([]*acc{a}), nil
}

// DistOf builds a Dist from explicit score lists (tests, and callers that
// have the scores already).
func DistOf(genuine, impostor []float64) Dist {
	a := newAcc(topKeep(int64(len(impostor))))
	for _, s := range genuine {
		a.gen = append(a.gen, float32(s))
	}
	for _, s := range impostor {
		a.impostor(float32(s))
	}
	return merge([]*acc{a})
}
