package vectors

import (
	"sync/atomic"
	"unsafe"

	"github.com/facesign/facesign/vectors/internal/scan"
)

// StreamRead reads, with plain wide loads on the same number of goroutines
// a search uses and in the same number of concurrent streams per goroutine
// ([scan.Read]), exactly the memory a search of g scans (float32 blocks, or
// int8 blocks with their scales), and returns the number of bytes read. It does no
// arithmetic beyond an XOR, so the time it takes is the machine's streaming
// read bandwidth over those pages: the yardstick a memory-bound scan is
// measured against (see docs/search.md).
func (g *Gallery) StreamRead() int64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	nw := g.workers()
	sums := make([]uint64, nw)
	bytes := make([]int64, nw)
	forSegments(nw, g.nsegs(), func(w, si int) {
		seg, nb := g.segs[si], g.segBlocksUsed(si)
		var b []byte
		if g.typ == GalleryInt8 {
			b = seg.i8[:nb*scan.I8BlockLen(g.dim)]
		} else {
			b = asBytes(seg.f32[:nb*scan.F32BlockLen(g.dim)])
		}
		sums[w] ^= scan.Read(b[:len(b)&^255])
		bytes[w] += int64(len(b) &^ 255)
	})
	var n int64
	for _, b := range bytes {
		n += b
	}
	streamSink.Store(sums[0])
	return n
}

// streamSink keeps StreamRead's checksum observable.
var streamSink atomic.Uint64

func asBytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*4)
}
