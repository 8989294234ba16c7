package nn

import (
	"runtime"
	"sync"
)

// Packed GEMM: B is packed once into k×16 column panels, each goroutine
// packs 6-row panels of A (kc values deep) and the micro-kernel computes
// 6×16 tiles that are added into C. The micro-kernel (AVX2+FMA assembly on
// amd64, NEON on arm64, with one contract: per element a chain of fused
// multiply-adds over each kc block in order) is the only platform-specific
// part; everything else is Go. At level AVX512 the tiles are 12×16 (mrZ),
// A is not packed (the kernel reads its rows in place) and the kernel
// writes the ragged edges itself.
const (
	mr = 6   // rows per micro-tile
	nr = 16  // columns per micro-tile
	kc = 256 // depth of one packed block (A panel 6 KiB, B panel 16 KiB)
)

// minPackedWork is the m·n·k below which gonum's GEMM is used instead:
// packing costs more than it saves on tiny products.
const minPackedWork = 1 << 14

// packB lays out b (k×n, row-major) as ceil(n/16) panels; panel p holds,
// for each depth l, the 16 values b[l][16p : 16p+16] (zero past n).
func packB(k, n int, b []float32) []float32 {
	panels := (n + nr - 1) / nr
	out := make([]float32, panels*k*nr)
	for p := range panels {
		dst := out[p*k*nr : (p+1)*k*nr]
		j0 := p * nr
		w := min(nr, n-j0)
		for l := range k {
			copy(dst[l*nr:l*nr+w], b[l*n+j0:l*n+j0+w])
		}
	}
	return out
}

// packedFilter returns w's data (k×n) packed for the micro-kernel, packing
// it on first use and keeping the result in w.
func packedFilter(w *Tensor, k, n int) []float32 {
	if p := w.packed.Load(); p != nil && len(*p) == ((n+nr-1)/nr)*k*nr {
		return *p
	}
	p := packB(k, n, w.Data)
	w.packed.Store(&p)
	return p
}

// gemmPacked sets c (m×n) to a (m×k) · b (k×n) with the micro-kernel.
func gemmPacked(m, n, k int, a, b, c []float32) {
	if k == 0 {
		clear(c[:m*n])
		return
	}
	gemmPackedB(m, n, k, a, packB(k, n, b), c, nil, nil)
}

// gemmPackedB is gemmPacked with B already packed by packB. C need not be
// cleared: the first depth block stores its tiles, later ones add to them.
// bias (n values, or nil) is added to every row with the last depth block.
// When epi is not nil it is called once for every finished band of rows
// [r0, r1) of c, on the goroutine that computed it while the band is still
// in cache (the activation of a convolution).
func gemmPackedB(m, n, k int, a, bp, c, bias []float32, epi func(r0, r1 int)) {
	if k == 0 {
		clear(c[:m*n])
		for r := range m {
			for j, v := range bias {
				c[r*n+j] += v
			}
		}
		if epi != nil {
			epi(0, m)
		}
		return
	}
	tile := mr
	if hasAVX512 {
		tile = mrZ
	}
	panels := (m + tile - 1) / tile
	workers := min(runtime.GOMAXPROCS(0), panels)
	if m*n*k < 8*minPackedWork {
		workers = 1
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Row panels are handed out in small batches so that uneven progress
	// (a shared, noisy machine) does not leave a worker idle at the end.
	grab := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		lo := next
		next = min(next+4, panels)
		return lo, next
	}
	work := func() {
		defer wg.Done()
		var panel func(p int)
		if hasAVX512 {
			panel = panelsZ(m, n, k, a, bp, c, bias)
		} else {
			panel = panels6x16(m, n, k, a, bp, c, bias)
		}
		for {
			lo, hi := grab()
			if lo >= hi {
				return
			}
			for p := lo; p < hi; p++ {
				panel(p)
			}
			if epi != nil {
				epi(lo*tile, min(hi*tile, m))
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
}

// panels6x16 returns the AVX2 computation of row panel p (rows 6p to
// 6p+6) of gemmPackedB, with its own buffers (one per goroutine).
func panels6x16(m, n, k int, a, bp, c, bias []float32) func(p int) {
	npanels := (n + nr - 1) / nr
	ap := make([]float32, mr*kc)
	var tile [mr * nr]float32
	return func(p int) {
		i0 := p * mr
		h := min(mr, m-i0)
		for k0 := 0; k0 < k; k0 += kc {
			d := min(kc, k-k0)
			// A full-height panel is read in place where the kernel can
			// (amd64); otherwise A rows i0..i0+h, depths k0..k0+d, are
			// packed, zero rows past m.
			inPlace := inPlaceA && h == mr
			switch {
			case inPlace: // nothing to pack
			case h == mr:
				for r := range mr {
					src := a[(i0+r)*k+k0 : (i0+r)*k+k0+d]
					for l, v := range src {
						ap[l*mr+r] = v
					}
				}
			default:
				for l := range d {
					for r := range mr {
						if r < h {
							ap[l*mr+r] = a[(i0+r)*k+k0+l]
						} else {
							ap[l*mr+r] = 0
						}
					}
				}
			}
			first, last := k0 == 0, k0+d == k
			for q := range npanels {
				j0 := q * nr
				w := min(nr, n-j0)
				var bt []float32
				if last && bias != nil {
					bt = bias[j0 : j0+w]
				}
				if h == mr && w == nr {
					var bptr *float32
					if bt != nil {
						bptr = &bt[0]
					}
					if inPlace {
						sgemmKernel6x16A(d, &a[i0*k+k0], k, 1, &bp[q*k*nr+k0*nr], &c[i0*n+j0], n, !first, bptr)
					} else {
						sgemmKernel6x16C(d, &ap[0], &bp[q*k*nr+k0*nr], &c[i0*n+j0], n, !first, bptr)
					}
					continue
				}
				if inPlace {
					sgemmKernel6x16A(d, &a[i0*k+k0], k, 1, &bp[q*k*nr+k0*nr], &tile[0], nr, false, nil)
				} else {
					sgemmKernel6x16(d, &ap[0], &bp[q*k*nr+k0*nr], &tile[0])
				}
				for r := range h {
					row := c[(i0+r)*n+j0 : (i0+r)*n+j0+w]
					t := tile[r*nr : r*nr+w]
					if first {
						copy(row, t)
					} else {
						for j := range row {
							row[j] += t[j]
						}
					}
					for j, v := range bt {
						row[j] += v
					}
				}
			}
		}
	}
}

// mrZ is the number of rows of the AVX-512 micro-tile (mrZ×nr).
const mrZ = 12

// panelsZ returns the AVX-512 computation of row panel p (rows 12p to
// 12p+12) of gemmPackedB. The kernel reads A in place; only the last,
// short panel is copied, into a buffer of 12 rows, so that the kernel may
// read all of them. The depth blocks (kc) and the order of the additions
// to C are those of panels6x16, so C is bit-identical.
func panelsZ(m, n, k int, a, bp, c, bias []float32) func(p int) {
	npanels := (n + nr - 1) / nr
	var ap []float32
	return func(p int) {
		i0 := p * mrZ
		h := min(mrZ, m-i0)
		for k0 := 0; k0 < k; k0 += kc {
			d := min(kc, k-k0)
			aptr, lda := &a[i0*k+k0], k
			if h < mrZ {
				if ap == nil {
					ap = make([]float32, mrZ*kc)
				}
				for r := range h {
					copy(ap[r*d:(r+1)*d], a[(i0+r)*k+k0:(i0+r)*k+k0+d])
				}
				aptr, lda = &ap[0], d
			}
			first, last := k0 == 0, k0+d == k
			for q := range npanels {
				j0 := q * nr
				w := min(nr, n-j0)
				var bptr *float32
				if last && bias != nil {
					bptr = &bias[j0]
				}
				sgemmKernel12x16Z(d, aptr, lda, &bp[q*k*nr+k0*nr], &c[i0*n+j0], n, h, 1<<w-1, !first, bptr)
			}
		}
	}
}

// mulAdd sets dst[i] += a[i]·b[i], with the vector kernel (AVX2 or NEON)
// for the bulk at a level that has it.
func mulAdd(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if hasPackedGEMM && n >= 8 {
		i = n &^ 7
		mulAdd8(&dst[0], &a[0], &b[0], i)
	}
	for ; i < n; i++ {
		dst[i] += a[i] * b[i]
	}
}
