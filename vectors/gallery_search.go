package vectors

import (
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/facesign/facesign/vectors/internal/scan"
)

// workers is the number of goroutines a search uses.
func (g *Gallery) workers() int {
	n := g.threads
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(1, min(n, g.nsegs()))
}

func (g *Gallery) nsegs() int { return (g.hw + segSlots - 1) / segSlots }

// segBlocksUsed is the number of blocks of segment si below the high-water mark.
func (g *Gallery) segBlocksUsed(si int) int {
	n := min(segSlots, g.hw-si*segSlots)
	return (n + scan.Lanes - 1) / scan.Lanes
}

// forSegments calls fn(w, si) for every segment si, spread over nw workers
// that take segments one at a time; fn calls with the same w never overlap.
func forSegments(nw, nseg int, fn func(w, si int)) {
	if nw <= 1 {
		for si := 0; si < nseg; si++ {
			fn(0, si)
		}
		return
	}
	var next atomic.Int64
	work := func(w int) {
		for {
			si := int(next.Add(1) - 1)
			if si >= nseg {
				return
			}
			fn(w, si)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0) // the calling goroutine is worker 0
	wg.Wait()
}

// forStreams walks nb blocks the way the one-query kernels read them: as
// scan.Streams streams of nb/scan.Streams blocks (stream s holds blocks
// s·stride … s·stride+stride−1), a few blocks of each per call four(c, n,
// stride) (blocks c+s·stride … c+s·stride+n−1), then the nb mod
// scan.Streams blocks left over at the end with one(c, n). One core reads
// several sequential streams in different pages markedly faster than one
// (docs/search.md).
func forStreams(nb int, four func(c, n, stride int), one func(c, n int)) {
	stride := nb / scan.Streams
	for c := 0; c < stride; c += chunkBlocks / scan.Streams {
		four(c, min(chunkBlocks/scan.Streams, stride-c), stride)
	}
	for c := scan.Streams * stride; c < nb; c += chunkBlocks {
		one(c, min(chunkBlocks, nb-c))
	}
}

// offer pushes the lanes set in mask (scores out, first slot base) that are
// live into t.
func (g *Gallery) offer(t *topK, mask uint32, out []float32, base int) {
	for ; mask != 0; mask &= mask - 1 {
		l := bits.TrailingZeros32(mask)
		if s := base + l; g.isLive(s) {
			t.push(Match{Slot: Slot(s), Score: out[l]})
		}
	}
}

func merge(k int, parts []*topK) []Match {
	t := newTopK(k)
	for _, p := range parts {
		for _, m := range p.h {
			t.push(m)
		}
	}
	return t.sorted()
}

// searchF32One scans a float32 gallery for one query.
func (g *Gallery) searchF32One(q []float32, k int) []Match {
	nw := g.workers()
	tops := make([]*topK, nw)
	outs := make([][]float32, nw)
	masks := make([][]uint32, nw)
	for w := range tops {
		tops[w] = newTopK(k)
		outs[w] = make([]float32, chunkBlocks*scan.Lanes)
		masks[w] = make([]uint32, chunkBlocks)
	}
	bl := scan.F32BlockLen(g.dim)
	forSegments(nw, g.nsegs(), func(w, si int) {
		seg, t, out, mk := g.segs[si], tops[w], outs[w], masks[w]
		forStreams(g.segBlocksUsed(si), func(c, n, stride int) {
			scan.DotF32Blocks4(q, seg.f32[c*bl:], stride, n, t.threshold(), out, mk)
			for i, m := range mk[:scan.Streams*n] {
				if m != 0 {
					b := c + (i%scan.Streams)*stride + i/scan.Streams
					g.offer(t, m, out[i*scan.Lanes:], si*segSlots+b*scan.Lanes)
				}
			}
		}, func(c, n int) {
			scan.DotF32Blocks(q, seg.f32[c*bl:], n, t.threshold(), out, mk)
			for b, m := range mk[:n] {
				if m != 0 {
					g.offer(t, m, out[b*scan.Lanes:], si*segSlots+(c+b)*scan.Lanes)
				}
			}
		})
	})
	return merge(k, tops)
}

// searchF32Batch scans a float32 gallery once for several queries: a few
// blocks at a time stay in cache while every group of scan.F32Group queries
// passes over them.
func (g *Gallery) searchF32Batch(qs [][]float32, k int) [][]Match {
	ng := (len(qs) + scan.F32Group - 1) / scan.F32Group
	packed := make([][]float32, ng)
	for gi := range packed {
		packed[gi] = scan.PackF32Group(qs[gi*scan.F32Group:min(len(qs), (gi+1)*scan.F32Group)], g.dim)
	}
	nw := g.workers()
	tops := make([][]*topK, nw)
	for w := range tops {
		tops[w] = make([]*topK, len(qs))
		for j := range qs {
			tops[w][j] = newTopK(k)
		}
	}
	bl := scan.F32BlockLen(g.dim)
	forSegments(nw, g.nsegs(), func(w, si int) {
		seg, ts := g.segs[si], tops[w]
		var out [scan.F32Group * scan.Lanes]float32
		var mk [scan.F32Group]uint32
		var thr [scan.F32Group]float32
		nb := g.segBlocksUsed(si)
		for c := 0; c < nb; c += batchBlocks {
			n := min(batchBlocks, nb-c)
			for gi, qp := range packed {
				for j := range thr {
					thr[j] = float32(math.Inf(1))
					if q := gi*scan.F32Group + j; q < len(qs) {
						thr[j] = ts[q].threshold()
					}
				}
				for b := c; b < c+n; b++ {
					scan.DotF32Group(qp, seg.f32[b*bl:(b+1)*bl], &thr, &out, &mk)
					for j, m := range mk {
						if m != 0 {
							t := ts[gi*scan.F32Group+j]
							g.offer(t, m, out[j*scan.Lanes:], si*segSlots+b*scan.Lanes)
							thr[j] = t.threshold()
						}
					}
				}
			}
		}
	})
	res := make([][]Match, len(qs))
	for j := range qs {
		parts := make([]*topK, nw)
		for w := range parts {
			parts[w] = tops[w][j]
		}
		res[j] = merge(k, parts)
	}
	return res
}

// searchI8 answers queries on an int8 gallery: an int8 scan (batched when
// there are several queries) keeps the best candidates by approximate score,
// which are re-scored in float32 and certified exact (see Gallery).
func (g *Gallery) searchI8(qs [][]float32, k int) [][]Match {
	r := max(g.rerank, k)
	iq := make([]scan.I8Query, len(qs))
	for j, q := range qs {
		iq[j] = scan.PackI8Query(q)
	}
	var cands [][]Match
	if len(qs) == 1 {
		cands = [][]Match{g.scanI8One(&iq[0], r)}
	} else {
		cands = g.scanI8Batch(iq, r)
	}
	res := make([][]Match, len(qs))
	if len(qs) == 1 {
		res[0] = g.rerankI8(qs[0], &iq[0], cands[0], r, k)
		return res
	}
	// Re-rank the queries in parallel; a failed certificate's second pass
	// then runs on a single goroutine.
	forSegments(min(g.workers(), len(qs)), len(qs), func(_, j int) {
		res[j] = g.rerankI8With(qs[j], &iq[j], cands[j], r, k, 1)
	})
	return res
}

// scanI8One returns the r best entries by int8 score (unsorted).
func (g *Gallery) scanI8One(q *scan.I8Query, r int) []Match {
	nw := g.workers()
	cs := make([]*candidates, nw)
	for w := range cs {
		cs[w] = newCandidates(r)
	}
	g.scanI8(q, nw, func(w int) float32 { return cs[w].threshold() }, func(w, base int, mask uint32, out []float32) {
		for c := cs[w]; mask != 0; mask &= mask - 1 {
			l := bits.TrailingZeros32(mask)
			if s := base + l; g.isLive(s) {
				c.push(Match{Slot: Slot(s), Score: out[l]})
			}
		}
	})
	return mergeCandidates(r, cs)
}

// mergeCandidates returns the r best of the workers' candidates.
func mergeCandidates(r int, cs []*candidates) []Match {
	var all []Match
	for _, c := range cs {
		all = append(all, c.best()...)
	}
	if len(all) > r {
		selectBest(all, r)
		all = all[:r]
	}
	return all
}

// scanI8 runs the one-query int8 kernel over the gallery on nw workers; thr
// gives a worker's current threshold and hit receives the lanes at or above it.
func (g *Gallery) scanI8(q *scan.I8Query, nw int, thr func(w int) float32, hit func(w, base int, mask uint32, out []float32)) {
	outs := make([][]float32, nw)
	masks := make([][]uint32, nw)
	for w := range outs {
		outs[w] = make([]float32, chunkBlocks*scan.Lanes)
		masks[w] = make([]uint32, chunkBlocks)
	}
	bl := scan.I8BlockLen(g.dim)
	forSegments(nw, g.nsegs(), func(w, si int) {
		seg, out, mk := g.segs[si], outs[w], masks[w]
		forStreams(g.segBlocksUsed(si), func(c, n, stride int) {
			scan.DotI8Blocks4(q, seg.i8[c*bl:], stride, n, thr(w), out, mk)
			for i, m := range mk[:scan.Streams*n] {
				if m != 0 {
					b := c + (i%scan.Streams)*stride + i/scan.Streams
					hit(w, si*segSlots+b*scan.Lanes, m, out[i*scan.Lanes:])
				}
			}
		}, func(c, n int) {
			scan.DotI8Blocks(q, seg.i8[c*bl:], n, thr(w), out, mk)
			for b, m := range mk[:n] {
				if m != 0 {
					hit(w, si*segSlots+(c+b)*scan.Lanes, m, out[b*scan.Lanes:])
				}
			}
		})
	})
}

// scanI8Batch returns, per query, the r best entries by int8 score.
func (g *Gallery) scanI8Batch(iq []scan.I8Query, r int) [][]Match {
	ng := (len(iq) + scan.I8Group - 1) / scan.I8Group
	packed := make([]scan.I8GroupQuery, ng)
	for gi := range packed {
		packed[gi] = scan.PackI8Group(iq[gi*scan.I8Group:min(len(iq), (gi+1)*scan.I8Group)], g.dim)
	}
	nw := g.workers()
	tops := make([][]*candidates, nw)
	for w := range tops {
		tops[w] = make([]*candidates, len(iq))
		for j := range iq {
			tops[w][j] = newCandidates(r)
		}
	}
	bl := scan.I8BlockLen(g.dim)
	forSegments(nw, g.nsegs(), func(w, si int) {
		seg, ts := g.segs[si], tops[w]
		var out [scan.I8Group * scan.Lanes]float32
		var mk [scan.I8Group]uint32
		var thr [scan.I8Group]float32
		nb := g.segBlocksUsed(si)
		for c := 0; c < nb; c += batchBlocks {
			n := min(batchBlocks, nb-c)
			for gi := range packed {
				for j := range thr {
					thr[j] = float32(math.Inf(1))
					if q := gi*scan.I8Group + j; q < len(iq) {
						thr[j] = ts[q].threshold()
					}
				}
				for b := c; b < c+n; b++ {
					scan.DotI8Group(&packed[gi], seg.i8[b*bl:(b+1)*bl], &thr, &out, &mk)
					for j, m := range mk {
						if m != 0 {
							t := ts[gi*scan.I8Group+j]
							base := si*segSlots + b*scan.Lanes
							for ; m != 0; m &= m - 1 {
								l := bits.TrailingZeros32(m)
								if s := base + l; g.isLive(s) {
									t.push(Match{Slot: Slot(s), Score: out[j*scan.Lanes+l]})
								}
							}
							thr[j] = t.threshold()
						}
					}
				}
			}
		}
	})
	res := make([][]Match, len(iq))
	cs := make([]*candidates, nw)
	for j := range iq {
		for w := range tops {
			cs[w] = tops[w][j]
		}
		res[j] = mergeCandidates(r, cs)
	}
	return res
}

// exactScore is the float32 score of q against the float32 copy at slot s
// (int8 gallery), bit-identical to what a float32 gallery computes.
func (g *Gallery) exactScore(q []float32, s int) float32 {
	seg, i := g.segs[s/segSlots], s%segSlots
	return scan.DotF32(q, seg.f32[i*g.dim:(i+1)*g.dim])
}

// epsilon bounds |int8 score − float32 score| for query q over every
// stored vector: the stored residual r (‖v − s·codes‖ ≤ rmax), the query
// residual rq, float32 rounding of the fused multiply-add chain (γ_D·‖v‖‖q‖)
// and of the int8 score's scaling, with a safety factor.
func (g *Gallery) epsilon(q []float32, iq *scan.I8Query) float64 {
	var qq float64
	for _, x := range q {
		qq += float64(x) * float64(x)
	}
	qn := math.Sqrt(qq)
	vn := 1 + UnitTolerance
	u := 0x1p-24
	gamma := float64(g.dim) * u / (1 - float64(g.dim)*u)
	e := g.rmax*qn + (vn+g.rmax)*iq.Residual + gamma*vn*qn + 8*u*(vn+g.rmax)*(qn+iq.Residual)
	return e*1.01 + 1e-7
}

// rerankI8 re-scores the int8 candidates (the r best by int8 score, or all
// live entries if fewer) in float32 and certifies the top k; if the
// certificate fails it re-scores everything whose int8 score is within ε of
// the k-th float32 score.
func (g *Gallery) rerankI8(q []float32, iq *scan.I8Query, cands []Match, r, k int) []Match {
	return g.rerankI8With(q, iq, cands, r, k, g.workers())
}

// rerankI8With is rerankI8 with the second pass on nw goroutines.
func (g *Gallery) rerankI8With(q []float32, iq *scan.I8Query, cands []Match, r, k, nw int) []Match {
	// Re-score on nw goroutines (the candidates' float32 copies are scattered
	// through memory, so this is latency-bound), then keep the k best.
	exact := make([]float32, len(cands))
	const part = 32
	forSegments(min(nw, (len(cands)+part-1)/part), (len(cands)+part-1)/part, func(_, p int) {
		for i := p * part; i < min(len(cands), (p+1)*part); i++ {
			exact[i] = g.exactScore(q, int(cands[i].Slot))
		}
	})
	t := newTopK(k)
	worst := float32(math.Inf(1))
	for i, c := range cands {
		worst = min(worst, c.Score)
		t.push(Match{Slot: c.Slot, Score: exact[i]})
	}
	g.nReranked.Add(uint64(len(cands)))
	if len(cands) < r || !t.full() {
		return t.sorted() // every live entry was re-scored
	}
	eps := g.epsilon(q, iq)
	kth := float64(t.threshold())
	if float64(worst)+eps < kth {
		return t.sorted()
	}
	// Certificate failed: anything left out could reach kth. Re-scan with
	// the fixed threshold kth − ε and re-score every entry above it.
	g.nFallback.Add(1)
	thr := float32(kth - eps)
	thr = math.Nextafter32(thr, float32(math.Inf(-1)))
	found := make([][]int, nw)
	g.scanI8(iq, nw, func(int) float32 { return thr }, func(w, base int, mask uint32, _ []float32) {
		for ; mask != 0; mask &= mask - 1 {
			if s := base + bits.TrailingZeros32(mask); g.isLive(s) {
				found[w] = append(found[w], s)
			}
		}
	})
	t = newTopK(k)
	var n uint64
	for _, f := range found {
		for _, s := range f {
			t.push(Match{Slot: Slot(s), Score: g.exactScore(q, s)})
		}
		n += uint64(len(f))
	}
	g.nReranked.Add(n)
	return t.sorted()
}
