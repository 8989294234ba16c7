//go:build arm64 && !purego

package scan

import (
	"unsafe"

	"github.com/facesign/facesign/vectors/internal/isa"
)

// useNEON selects the NEON kernels and Read (kernels_arm64.s) at
// [isa.Selected] level NEON, which every arm64 CPU has (FACESIGN_CPU=generic
// turns them off).
var useNEON = isa.Selected() == isa.NEON

// setLevel points the dispatch at level l (which must be supported) and
// returns the level it replaces. Tests only: the kernels are not safe to
// call while it runs.
func setLevel(l isa.Level) isa.Level {
	old := isa.Generic
	if useNEON {
		old = isa.NEON
	}
	useNEON = l == isa.NEON
	return old
}

// Accel names the kernel set in use: "go" or "neon".
func Accel() string {
	if useNEON {
		return "neon"
	}
	return "go"
}

//go:noescape
func dotF32BlocksNEON(q *float32, blocks *float32, dim, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotF32Blocks4NEON(q *float32, blocks *float32, dim, stride, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotF32GroupNEON(qp *float32, block *float32, dim int, thr *float32, out *float32, masks *uint32)

//go:noescape
func dotI8BlockNEON(packed *int8, qstride int, qscale float32, block *byte, groups int, thr float32, out *float32, mask *uint32)

//go:noescape
func dotF32NEON(a, b *float32, n int) float32

//go:noescape
func readNEON(p *byte, quarter int) uint64

func dotF32Blocks(q, blocks []float32, nblk int, thr float32, out []float32, masks []uint32) {
	if !useNEON {
		dotF32BlocksGeneric(q, blocks, nblk, thr, out, masks)
		return
	}
	dotF32BlocksNEON(unsafe.SliceData(q), unsafe.SliceData(blocks), len(q), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotF32Blocks4(q, blocks []float32, stride, nblk int, thr float32, out []float32, masks []uint32) {
	if !useNEON {
		dotF32Blocks4Generic(q, blocks, stride, nblk, thr, out, masks)
		return
	}
	dotF32Blocks4NEON(unsafe.SliceData(q), unsafe.SliceData(blocks), len(q), stride*F32BlockLen(len(q))*4, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotF32Group(qp, block []float32, dim int, thr *[F32Group]float32, out *[F32Group * Lanes]float32, masks *[F32Group]uint32) {
	if !useNEON {
		dotF32GroupGeneric(qp, block, dim, thr, out, masks)
		return
	}
	dotF32GroupNEON(unsafe.SliceData(qp), unsafe.SliceData(block), dim, &thr[0], &out[0], &masks[0])
}

// The int8 kernels are one NEON block kernel (dotI8BlockNEON) driven by
// Go loops: a block is groups·64 + 64 bytes (11 KiB at 704-d), so a call
// per block costs little next to the block's work.

func dotI8Blocks(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
	if !useNEON {
		dotI8BlocksGeneric(q, blocks, groups, nblk, thr, out, masks)
		return
	}
	bl := I8BlockLen(groups * 4)
	for b := range nblk {
		dotI8BlockNEON(&q.Packed[0], 32, q.Scale, &blocks[b*bl], groups, thr, &out[b*Lanes], &masks[b])
	}
}

func dotI8Blocks4(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
	if !useNEON {
		dotI8Blocks4Generic(q, blocks, groups, stride, nblk, thr, out, masks)
		return
	}
	bl := I8BlockLen(groups * 4)
	for b := range nblk {
		for s := range Streams {
			i := b*Streams + s
			dotI8BlockNEON(&q.Packed[0], 32, q.Scale, &blocks[(s*stride+b)*bl], groups, thr, &out[i*Lanes], &masks[i])
		}
	}
}

func dotI8Group(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	if !useNEON {
		dotI8GroupGeneric(qg, block, groups, thr, out, masks)
		return
	}
	for j := range I8Group {
		dotI8BlockNEON(&qg.Packed[j*32], I8Group*32, qg.Scales[j], &block[0], groups, thr[j], &out[j*Lanes], &masks[j])
	}
}

func dotF32(a, b []float32) float32 {
	if !useNEON {
		return dotF32Generic(a, b)
	}
	return dotF32NEON(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
}

func read(buf []byte) uint64 {
	if !useNEON {
		return readGeneric(buf)
	}
	return readNEON(unsafe.SliceData(buf), len(buf)/Streams)
}
