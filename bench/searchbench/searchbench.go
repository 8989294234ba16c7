package searchbench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/facesign/facesign/vectors"
)

// ErrConfig reports an invalid benchmark configuration.
var ErrConfig = errors.New("searchbench: invalid configuration")

// Config describes one benchmark run.
type Config struct {
	N       int                 // gallery size
	Dim     int                 // vector length
	Type    vectors.GalleryType // storage
	Queries int                 // 1: Search; more: one SearchBatch
	Threads int                 // 0: GOMAXPROCS
	K       int                 // results per query
	Reps    int                 // timed repetitions (median reported)
	Seed    uint64              // gallery seed; queries use Seed+1
	Rerank  int                 // int8 re-rank depth (0: default)
}

func (c Config) check() error {
	switch {
	case c.N <= 0 || c.N >= 1<<32-1:
		return fmt.Errorf("%w: n = %d", ErrConfig, c.N)
	case c.Dim <= 0 || c.Dim > 4096:
		return fmt.Errorf("%w: dim = %d", ErrConfig, c.Dim)
	case c.Queries <= 0:
		return fmt.Errorf("%w: queries = %d", ErrConfig, c.Queries)
	case c.Threads < 0:
		return fmt.Errorf("%w: threads = %d", ErrConfig, c.Threads)
	case c.K <= 0:
		return fmt.Errorf("%w: k = %d", ErrConfig, c.K)
	case c.Reps <= 0:
		return fmt.Errorf("%w: reps = %d", ErrConfig, c.Reps)
	}
	return nil
}

// Result is one run's measurements. The first eight fields are the stable
// keys `facesign bench search --json` promises.
type Result struct {
	N               int     `json:"n"`
	Dim             int     `json:"dim"`
	Type            string  `json:"type"`
	Queries         int     `json:"queries"`
	Threads         int     `json:"threads"`
	MsPerQuery      float64 `json:"ms_per_query"`
	GBPerS          float64 `json:"gb_per_s"`
	ComparisonsPerS float64 `json:"comparisons_per_s"`

	K             int       `json:"k"`
	Reps          int       `json:"reps"`
	MsPerPass     float64   `json:"ms_per_pass"`     // median time of one Search or SearchBatch
	MsPerPassMin  float64   `json:"ms_per_pass_min"` // fastest repetition
	ReadGBPerS    float64   `json:"read_gb_per_s"`   // plain streaming read, same memory, same run
	PctOfRead     float64   `json:"pct_of_read"`     // gb_per_s / read_gb_per_s · 100
	BytesPerEntry int       `json:"bytes_per_entry"` // memory per identity
	ScanBytes     int64     `json:"scan_bytes"`      // bytes read per pass
	Reranked      uint64    `json:"reranked"`        // int8: float32 re-scores per query
	Fallbacks     uint64    `json:"fallbacks"`       // int8: certified second passes, all reps
	Top1          []uint32  `json:"top1"`            // best slot per query
	Top1Score     []float32 `json:"top1_score"`      // its score
	BuildSeconds  float64   `json:"build_seconds"`   // time to generate and add the gallery
	// CPU time of the process (all threads) during one pass and during one
	// streaming read, medians over the repetitions; 0 where the system does
	// not report it. On a machine shared with other work the wall time of a
	// pass depends on how much CPU the scheduler grants; the CPU time much
	// less so, which makes it the steadier figure for comparing two runs.
	CPUMsPerPass float64 `json:"cpu_ms_per_pass"`
	CPUMsRead    float64 `json:"cpu_ms_read"`
}

// Vectors returns n unit vectors of length dim drawn from seed (see the
// package documentation), generated on all cores.
func Vectors(n, dim int, seed uint64) [][]float32 { return rows(0, n, dim, seed) }

func fillRow(row []float32, seed, i uint64) {
	r := rand.New(rand.NewPCG(seed, i))
	for {
		x := make([]float64, len(row))
		var s float64
		for d := range x {
			x[d] = r.NormFloat64()
			s += x[d] * x[d]
		}
		if s == 0 {
			continue
		}
		inv := 1 / math.Sqrt(s)
		for d := range x {
			row[d] = float32(x[d] * inv)
		}
		return
	}
}

// Run builds the gallery and measures it.
func Run(c Config) (Result, error) {
	if err := c.check(); err != nil {
		return Result{}, err
	}
	threads := c.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	t0 := time.Now()
	g, err := vectors.NewGallery(c.Dim, vectors.GalleryOptions{Type: c.Type, Threads: threads, Rerank: c.Rerank})
	if err != nil {
		return Result{}, err
	}
	const chunk = 1 << 16
	for lo := 0; lo < c.N; lo += chunk {
		hi := min(c.N, lo+chunk)
		for i, v := range rows(lo, hi, c.Dim, c.Seed) {
			if s, err := g.Add(v); err != nil {
				return Result{}, fmt.Errorf("adding vector %d: %w", lo+i, err)
			} else if int(s) != lo+i {
				return Result{}, fmt.Errorf("searchbench: vector %d got slot %d", lo+i, s)
			}
		}
	}
	build := time.Since(t0)
	qs := Vectors(c.Queries, c.Dim, c.Seed+1)

	pass := func() ([][]Match, error) {
		if len(qs) == 1 {
			m, err := g.Search(qs[0], c.K)
			return [][]Match{m}, err
		}
		return g.SearchBatch(qs, c.K)
	}
	res, err := pass() // warm-up: page faults, caches
	if err != nil {
		return Result{}, err
	}
	st0 := g.Stats()
	var times, reads, cpuPass, cpuRead []float64
	var readBytes int64
	cpuOK := true
	for r := 0; r < c.Reps; r++ {
		c0, ok0 := processCPU()
		t := time.Now()
		readBytes = g.StreamRead()
		reads = append(reads, time.Since(t).Seconds())
		c1, ok1 := processCPU()
		t = time.Now()
		if _, err := pass(); err != nil {
			return Result{}, err
		}
		times = append(times, time.Since(t).Seconds())
		c2, ok2 := processCPU()
		cpuOK = cpuOK && ok0 && ok1 && ok2
		cpuRead = append(cpuRead, (c1 - c0).Seconds())
		cpuPass = append(cpuPass, (c2 - c1).Seconds())
	}
	st := g.Stats()
	med, rd := median(times), median(reads)
	scanBytes := int64(c.N) * int64(g.ScanBytesPerIdentity())
	out := Result{
		N: c.N, Dim: c.Dim, Type: c.Type.String(), Queries: c.Queries, Threads: threads,
		MsPerQuery:      med * 1e3 / float64(c.Queries),
		GBPerS:          float64(scanBytes) / med / 1e9,
		ComparisonsPerS: float64(c.N) * float64(c.Queries) / med,
		K:               c.K, Reps: c.Reps,
		MsPerPass:     med * 1e3,
		MsPerPassMin:  slices.Min(times) * 1e3,
		ReadGBPerS:    float64(readBytes) / rd / 1e9,
		BytesPerEntry: g.BytesPerIdentity(),
		ScanBytes:     scanBytes,
		Reranked:      (st.Reranked - st0.Reranked) / uint64(c.Reps*c.Queries),
		Fallbacks:     st.Fallbacks,
		BuildSeconds:  build.Seconds(),
	}
	if cpuOK {
		out.CPUMsPerPass = median(cpuPass) * 1e3
		out.CPUMsRead = median(cpuRead) * 1e3
	}
	out.PctOfRead = 100 * out.GBPerS / out.ReadGBPerS
	for _, m := range res {
		if len(m) > 0 {
			out.Top1 = append(out.Top1, uint32(m[0].Slot))
			out.Top1Score = append(out.Top1Score, m[0].Score)
		}
	}
	return out, nil
}

// Match is vectors.Match, named here for brevity.
type Match = vectors.Match

// rows returns rows lo..hi-1 of the data set drawn from seed.
func rows(lo, hi, dim int, seed uint64) [][]float32 {
	out := make([][]float32, hi-lo)
	flat := make([]float32, (hi-lo)*dim)
	nw := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo + w; i < hi; i += nw {
				row := flat[(i-lo)*dim : (i-lo+1)*dim : (i-lo+1)*dim]
				fillRow(row, seed, uint64(i))
				out[i-lo] = row
			}
		}()
	}
	wg.Wait()
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// WriteData writes the gallery (seed) and query (seed+1) sets of a Config
// as NumPy .npy (version 1.0, '<f4', C order, shape (rows, dim)) files,
// generating in chunks so that memory stays small.
func WriteData(base, queries io.Writer, n, dim, nq int, seed uint64) error {
	if err := writeChunked(base, n, dim, seed); err != nil {
		return err
	}
	return writeChunked(queries, nq, dim, seed+1)
}

func writeChunked(w io.Writer, n, dim int, seed uint64) error {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, dim)
	pad := (64 - (10+len(header)+1)%64) % 64
	header += spaces(pad) + "\n"
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	buf := make([]byte, 4*dim)
	const chunk = 1 << 16
	for lo := 0; lo < n; lo += chunk {
		for _, r := range rows(lo, min(n, lo+chunk), dim, seed) {
			for d, x := range r {
				binary.LittleEndian.PutUint32(buf[4*d:], math.Float32bits(x))
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
