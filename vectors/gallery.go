package vectors

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/facesign/facesign/vectors/internal/scan"
)

// Slot identifies one entry of a [Gallery]. A slot never moves while its
// entry lives; after [Gallery.Remove] the slot may be handed out again by a
// later [Gallery.Add] (always the lowest free slot, so the same sequence of
// calls gives the same slots).
type Slot uint32

// Match is one search result. Score is the inner product of the query and
// the stored vector — their cosine similarity, since both are L2-normalised —
// computed in float32 as one fused multiply-add chain in dimension order.
// [Decide] takes Matches too, reading Slot as an identity in the caller's
// numbering (the best score per identity).
type Match struct {
	Slot  Slot
	Score float32
}

// GalleryType selects how a [Gallery] stores its vectors.
type GalleryType int

const (
	// GalleryFloat32 stores each vector as float32 and scans it directly.
	GalleryFloat32 GalleryType = iota
	// GalleryInt8 scans symmetric int8 codes (one float32 scale per vector)
	// and re-ranks the best candidates against float32 copies, so its
	// results equal GalleryFloat32's bit for bit.
	GalleryInt8
)

func (t GalleryType) String() string {
	switch t {
	case GalleryFloat32:
		return "f32"
	case GalleryInt8:
		return "int8"
	}
	return fmt.Sprintf("GalleryType(%d)", int(t))
}

// ParseGalleryType maps "f32"/"float32" and "int8" to a GalleryType.
func ParseGalleryType(s string) (GalleryType, error) {
	switch s {
	case "f32", "float32":
		return GalleryFloat32, nil
	case "int8", "i8":
		return GalleryInt8, nil
	}
	return 0, fmt.Errorf("%w: unknown gallery type %q (want f32 or int8)", ErrGalleryOptions, s)
}

// GalleryOptions configures [NewGallery].
type GalleryOptions struct {
	// Type is the storage type; the zero value is GalleryFloat32.
	Type GalleryType
	// Threads is the number of goroutines one search uses; 0 means
	// runtime.GOMAXPROCS(0) at the time of the search.
	Threads int
	// Rerank is, for GalleryInt8, how many of the best int8 candidates are
	// re-scored in float32 (at least k are always re-scored); 0 means
	// [DefaultRerank]. It is a speed knob only: results are exact whatever
	// its value (see [Gallery]).
	Rerank int
}

// DefaultRerank is the int8 re-rank depth used when GalleryOptions.Rerank is 0.
const DefaultRerank = 256

// Errors returned by the gallery. Each failure class has one sentinel; the
// returned errors wrap it with details, so test with errors.Is.
var (
	ErrGalleryOptions   = errors.New("vectors: invalid gallery options")
	ErrGalleryDim       = errors.New("vectors: vector has the wrong dimension")
	ErrGalleryNotFinite = errors.New("vectors: vector has a NaN or infinite value")
	ErrGalleryNotUnit   = errors.New("vectors: vector is not L2-normalised")
	ErrUnknownSlot      = errors.New("vectors: no live entry at this slot")
	ErrBadK             = errors.New("vectors: k must be positive")
	ErrGalleryFull      = errors.New("vectors: gallery has no free slot")
)

// UnitTolerance is how far the L2 norm of a stored vector or query may be
// from 1.
const UnitTolerance = 1e-4

const (
	segSlots    = 2048 // slots per segment: the unit of parallel work
	segBlocks   = segSlots / scan.Lanes
	chunkBlocks = 16 // blocks per kernel call in the one-query scan
	batchBlocks = 8  // blocks kept hot in cache while all query groups pass over them
	maxSlots    = 1 << 32
)

// Gallery is an in-memory set of face vectors searched exhaustively by
// inner product: search is exact, never approximate, because a missed
// duplicate would mint a second identity.
//
// # Storage and memory per identity
//
// Vectors are kept in blocks of 16 (dimension-major inside a block) so that
// the scan needs no horizontal sums; blocks are grouped in segments of 2048
// slots that are the unit of parallel work. Per identity of dimension D:
//
//   - GalleryFloat32: 4·D bytes scanned and stored (768 B at D = 192);
//   - GalleryInt8: D rounded up to a multiple of 4 bytes of codes and a
//     4-byte scale are scanned (196 B at D = 192, 25.5 % of float32), and a
//     4·D-byte float32 copy is kept for re-ranking, so it stores 5·D + 4
//     bytes (964 B at D = 192): int8 trades 25.5 % more memory for a scan
//     that reads 3.9× fewer bytes.
//
// Both add one bit of liveness per slot; segments are allocated whole, so
// up to 2047 slots of slack exist at the end.
//
// # Exactness
//
// Scores are computed in float32 by one fused multiply-add chain per vector
// in dimension order, identically by every kernel, so Search, SearchBatch and
// both storage types return the same matches with the same score bits. Ties
// are broken by the lower slot.
//
// GalleryInt8 first scores every vector from its int8 codes (symmetric,
// one scale per vector) against the query quantised to 7-bit codes, keeps the best max(Rerank, k) candidates, and re-scores them from
// the float32 copies. It then checks a certificate: every vector left out
// scores at most its int8 score plus ε, a proven bound from the stored
// quantisation residuals, the query's own residual and float32 rounding.
// When the k-th re-ranked score beats the best left-out bound, the answer is
// the float32 answer; otherwise (many near-equal scores) it scans the codes
// again, re-scores everything within ε and still returns the exact answer.
// [Gallery.Stats] counts how often that second pass ran.
//
// # Concurrency
//
// A Gallery is safe for concurrent use: searches run in parallel with each
// other, each on Threads goroutines; Add, Set and Remove are exclusive.
// Invalid input returns an error wrapping one of the ErrGallery* sentinels,
// [ErrUnknownSlot] or [ErrBadK] and leaves the gallery unchanged.
type Gallery struct {
	dim, pdim int
	typ       GalleryType
	threads   int
	rerank    int

	mu    sync.RWMutex
	segs  []*segment
	live  []uint64
	hw    int     // high-water mark: slots ≥ hw were never used
	count int     // live entries
	free  int     // no free slot below this one
	rmax  float64 // int8: largest residual ‖v − s·codes‖ stored so far

	mem *arena // the scanned memory and the int8 float32 copies (write lock)

	nSearch, nFallback, nReranked atomic.Uint64
}

type segment struct {
	f32 []float32 // float32: blocks; int8: row-major float32 copies
	i8  []byte    // int8 blocks: codes and per-slot scales (scan.I8BlockLen)
}

// NewGallery returns an empty gallery for vectors of length dim.
func NewGallery(dim int, opts GalleryOptions) (*Gallery, error) {
	if dim <= 0 || dim > scan.MaxDim {
		return nil, fmt.Errorf("%w: dimension %d not in [1, %d]", ErrGalleryOptions, dim, scan.MaxDim)
	}
	if opts.Type != GalleryFloat32 && opts.Type != GalleryInt8 {
		return nil, fmt.Errorf("%w: unknown type %d", ErrGalleryOptions, int(opts.Type))
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("%w: threads %d < 0", ErrGalleryOptions, opts.Threads)
	}
	if opts.Rerank < 0 {
		return nil, fmt.Errorf("%w: rerank %d < 0", ErrGalleryOptions, opts.Rerank)
	}
	r := opts.Rerank
	if r == 0 {
		r = DefaultRerank
	}
	g := &Gallery{dim: dim, pdim: scan.PadDim(dim), typ: opts.Type, threads: opts.Threads, rerank: r, mem: &arena{mapFrom: defaultMapFrom}}
	// The scanned memory of a large gallery lives in mappings outside the Go
	// heap (see arena); they are unmapped once the gallery is unreachable.
	runtime.AddCleanup(g, func(a *arena) { a.release() }, g.mem)
	return g, nil
}

// Dim is the vector length the gallery holds.
func (g *Gallery) Dim() int { return g.dim }

// Type is the storage type.
func (g *Gallery) Type() GalleryType { return g.typ }

// Len is the number of live entries.
func (g *Gallery) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.count
}

// BytesPerIdentity is the memory one entry takes (vectors, codes, scale),
// excluding the per-slot liveness bit and segment slack.
func (g *Gallery) BytesPerIdentity() int {
	if g.typ == GalleryInt8 {
		return g.pdim + 4 + 4*g.dim
	}
	return 4 * g.dim
}

// ScanBytesPerIdentity is the number of bytes one search reads per entry.
func (g *Gallery) ScanBytesPerIdentity() int {
	if g.typ == GalleryInt8 {
		return g.pdim + 4
	}
	return 4 * g.dim
}

// GalleryStats counts searches since the gallery was made.
type GalleryStats struct {
	Searches  uint64 // queries answered (a batch of n counts n)
	Reranked  uint64 // int8: candidates re-scored in float32
	Fallbacks uint64 // int8: queries that needed the second, certified pass
}

// Stats returns the search counters.
func (g *Gallery) Stats() GalleryStats {
	return GalleryStats{Searches: g.nSearch.Load(), Reranked: g.nReranked.Load(), Fallbacks: g.nFallback.Load()}
}

// checkVector validates a vector to store or a query.
func (g *Gallery) checkVector(v []float32) error {
	if len(v) != g.dim {
		return fmt.Errorf("%w: got %d values, want %d", ErrGalleryDim, len(v), g.dim)
	}
	var s float64
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: value %d is %v", ErrGalleryNotFinite, i, x)
		}
		s += f * f
	}
	if n := math.Sqrt(s); math.Abs(n-1) > UnitTolerance {
		return fmt.Errorf("%w: norm %.6f", ErrGalleryNotUnit, n)
	}
	return nil
}

func (g *Gallery) isLive(s int) bool {
	return s < g.hw && g.live[s>>6]&(1<<(s&63)) != 0
}

// Add stores v in the lowest free slot and returns it.
func (g *Gallery) Add(v []float32) (Slot, error) {
	if err := g.checkVector(v); err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.hw
	if g.count < g.hw {
		for s = g.free; g.isLive(s); s++ {
		}
	}
	if s >= maxSlots-1 {
		return 0, ErrGalleryFull
	}
	g.put(s, v)
	g.free = s + 1
	return Slot(s), nil
}

// MaxSetGap is how far beyond the highest slot in use Set may write: a
// guard against a corrupt slot number allocating gigabytes.
const MaxSetGap = 1 << 24

// Set stores v at slot s, replacing the entry there if s is live. It is how
// a gallery is rebuilt from a log of (slot, vector) records; slots between
// the previous high-water mark and s become free. s may be at most
// MaxSetGap beyond the highest slot ever used.
func (g *Gallery) Set(s Slot, v []float32) error {
	if err := g.checkVector(v); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if int(s) >= maxSlots-1 || int(s) >= g.hw+MaxSetGap {
		return fmt.Errorf("%w: slot %d out of range (%d slots in use)", ErrGalleryFull, s, g.hw)
	}
	g.put(int(s), v)
	return nil
}

// put writes v at slot s (write lock held, v validated).
func (g *Gallery) put(s int, v []float32) {
	for s >= len(g.segs)*segSlots {
		seg := &segment{}
		if g.typ == GalleryInt8 {
			seg.f32 = g.mem.allocF32(segSlots * g.dim)
			seg.i8 = g.mem.alloc(segBlocks * scan.I8BlockLen(g.dim))
			scan.ClearI8Blocks(seg.i8, g.dim)
		} else {
			seg.f32 = g.mem.allocF32(segBlocks * scan.F32BlockLen(g.dim))
		}
		g.segs = append(g.segs, seg)
	}
	if s >= g.hw {
		g.hw = s + 1
		if need := (g.hw + 63) >> 6; need > len(g.live) {
			g.live = append(g.live, make([]uint64, need-len(g.live))...)
		}
	}
	if !g.isLive(s) {
		g.count++
		g.live[s>>6] |= 1 << (s & 63)
	}
	seg, i := g.segs[s/segSlots], s%segSlots
	b, l := i/scan.Lanes, i%scan.Lanes
	if g.typ == GalleryInt8 {
		codes := make([]int8, g.pdim)
		scale, r := scan.QuantizeI8(v, codes)
		bl := scan.I8BlockLen(g.dim)
		scan.SetI8Lane(seg.i8[b*bl:(b+1)*bl], g.dim, l, codes, scale)
		copy(seg.f32[i*g.dim:(i+1)*g.dim], v)
		g.rmax = max(g.rmax, r)
		return
	}
	bl := scan.F32BlockLen(g.dim)
	scan.SetF32Lane(seg.f32[b*bl:(b+1)*bl], l, v)
}

// Remove deletes the entry at slot s; the slot becomes free.
func (g *Gallery) Remove(s Slot) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := int(s)
	if !g.isLive(i) {
		return fmt.Errorf("%w: %d", ErrUnknownSlot, s)
	}
	g.live[i>>6] &^= 1 << (i & 63)
	g.count--
	g.free = min(g.free, i)
	// Zero the entry so that dead lanes score 0 and rarely pass the filter.
	zero := make([]float32, g.dim)
	seg, j := g.segs[i/segSlots], i%segSlots
	b, l := j/scan.Lanes, j%scan.Lanes
	if g.typ == GalleryInt8 {
		bl := scan.I8BlockLen(g.dim)
		scan.SetI8Lane(seg.i8[b*bl:(b+1)*bl], g.dim, l, make([]int8, g.pdim), 0)
		copy(seg.f32[j*g.dim:(j+1)*g.dim], zero)
		return nil
	}
	bl := scan.F32BlockLen(g.dim)
	scan.SetF32Lane(seg.f32[b*bl:(b+1)*bl], l, zero)
	return nil
}

// Vector returns a copy of the vector stored at slot s.
func (g *Gallery) Vector(s Slot) ([]float32, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	i := int(s)
	if !g.isLive(i) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownSlot, s)
	}
	v := make([]float32, g.dim)
	seg, j := g.segs[i/segSlots], i%segSlots
	if g.typ == GalleryInt8 {
		copy(v, seg.f32[j*g.dim:])
		return v, nil
	}
	bl := scan.F32BlockLen(g.dim)
	scan.F32Lane(seg.f32[j/scan.Lanes*bl:(j/scan.Lanes+1)*bl], j%scan.Lanes, v)
	return v, nil
}

// Search returns the k entries with the highest score against q, best
// first, ties broken by the lower slot; fewer than k when the gallery holds
// fewer entries. q must be L2-normalised and finite with length Dim.
func (g *Gallery) Search(q []float32, k int) ([]Match, error) {
	if err := g.checkQuery(q, k); err != nil {
		return nil, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.nSearch.Add(1)
	if g.typ == GalleryInt8 {
		return g.searchI8([][]float32{q}, k)[0], nil
	}
	return g.searchF32One(q, k), nil
}

// SearchBatch answers several queries with one pass over the gallery
// (matrix-matrix instead of matrix-vector): result i is what Search(qs[i], k)
// returns. If any query is invalid, the error names the first one and no
// query is answered.
func (g *Gallery) SearchBatch(qs [][]float32, k int) ([][]Match, error) {
	if k <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrBadK, k)
	}
	for i, q := range qs {
		if err := g.checkVector(q); err != nil {
			return nil, fmt.Errorf("query %d: %w", i, err)
		}
	}
	if len(qs) == 0 {
		return [][]Match{}, nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.nSearch.Add(uint64(len(qs)))
	if g.typ == GalleryInt8 {
		return g.searchI8(qs, k), nil
	}
	if len(qs) == 1 {
		return [][]Match{g.searchF32One(qs[0], k)}, nil
	}
	return g.searchF32Batch(qs, k), nil
}

func (g *Gallery) checkQuery(q []float32, k int) error {
	if k <= 0 {
		return fmt.Errorf("%w: %d", ErrBadK, k)
	}
	return g.checkVector(q)
}
