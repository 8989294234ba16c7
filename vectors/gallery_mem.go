package vectors

import "unsafe"

// arena hands out the memory a search reads: float32 blocks, or int8
// blocks and the float32 copies they are re-ranked against. Keeping the
// copies here too keeps a large int8 gallery off the Go heap: on the heap,
// 2.8 GB of copies (10⁶ × 704-d) would let the collector's pacing (GOGC)
// grow the heap by as much again in garbage before each cycle. The first mapFrom bytes come from the Go heap, like any slice, so
// small galleries (tests, a fresh enclave) cost nothing special. Beyond
// that, on Linux, memory comes in large runs of anonymous mappings aligned
// to 2 MiB and advised MADV_HUGEPAGE (see mapRun), so that the kernel can
// back the gallery with transparent huge pages: one TLB entry per 2 MiB
// instead of per 4 KiB, which the measured scan bandwidth rewards
// (docs/search.md). Those runs are returned to the system when the gallery
// that owns the arena is garbage collected (see [NewGallery]); elsewhere, or
// when a mapping fails, runs come from the Go heap too.
//
// An arena is not safe for concurrent use: the gallery's write lock guards it.
// Every Gallery method that touches the arena's memory holds the gallery's
// lock until it returns and releases it in a deferred call, which keeps the
// gallery reachable — so its mappings stay mapped — for the whole access.
type arena struct {
	mapFrom int      // bytes served from the Go heap before mapping runs
	total   int      // bytes handed out so far
	free    []byte   // unused tail of the current mapped run
	next    int      // size of the next mapped run
	runs    []func() // releases the mapped runs
}

const (
	hugePage = 2 << 20
	// defaultMapFrom is where galleries start mapping: 16 MiB of scanned
	// memory, about 85,000 int8 or 22,000 float32 identities at D = 192.
	defaultMapFrom = 16 << 20
	maxRun         = 64 << 20 // largest mapped run
)

// alloc returns n zeroed bytes aligned to 64 bytes.
func (a *arena) alloc(n int) []byte {
	n = (n + 63) &^ 63
	if a.total+n <= a.mapFrom {
		a.total += n
		return make([]byte, n)
	}
	if len(a.free) < n {
		size := max(a.next, hugePage, (n+hugePage-1)&^(hugePage-1))
		run, release := mapRun(size)
		if run == nil {
			a.total += n
			return make([]byte, n)
		}
		a.runs = append(a.runs, release)
		a.free = run
		a.next = min(2*size, maxRun)
	}
	b := a.free[:n:n]
	a.free = a.free[n:]
	a.total += n
	return b
}

// allocF32 is alloc for n float32 values.
func (a *arena) allocF32(n int) []float32 {
	if n == 0 {
		return nil
	}
	b := a.alloc(4 * n)
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// release returns every mapped run to the system; nothing may use the
// arena's memory afterwards.
func (a *arena) release() {
	for _, r := range a.runs {
		r()
	}
	a.runs, a.free = nil, nil
}
