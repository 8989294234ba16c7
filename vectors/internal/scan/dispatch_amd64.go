//go:build amd64 && !purego

package scan

import (
	"unsafe"

	"github.com/facesign/facesign/vectors/internal/isa"
)

// The level is [isa.Selected] (FACESIGN_CPU caps it). At level AVX2 and
// above every kernel has an AVX2 + FMA3 version (isa level AVX2 guarantees
// both). At level AVX512 the int8 kernels (DotI8Blocks4, DotI8Blocks,
// DotI8Group) run in AVX-512 with VNNI (VPDPBUSD) when the CPU has
// AVX512_VNNI ([isa.HasVNNI], from golang.org/x/sys/cpu's
// X86.HasAVX512VNNI); without VNNI they, and at level AVX512 the float32
// kernels and Read always, run their AVX2 versions (the float32 scan is
// bound by memory bandwidth, which AVX2 already reaches). Every level gives
// bit-identical scores and masks.
var (
	useAVX2 bool // the AVX2 kernels
	useVNNI bool // the int8 kernels in AVX-512 VNNI instead of AVX2
	level   isa.Level
)

func init() { setLevel(isa.Selected()) }

// setLevel points the dispatch at level l (which must be supported) and
// returns the level it replaces. Tests only: the kernels are not safe to
// call while it runs.
func setLevel(l isa.Level) isa.Level {
	old := level
	level = l
	useAVX2 = l >= isa.AVX2
	useVNNI = l >= isa.AVX512 && isa.HasVNNI()
	return old
}

// Accel names the kernel set in use: "go", "avx2", or "avx2+vnni" (the
// int8 kernels in AVX-512 VNNI, the others in AVX2).
func Accel() string {
	switch {
	case useVNNI:
		return "avx2+vnni"
	case useAVX2:
		return "avx2"
	}
	return "go"
}

// I8Kernel names the int8 kernels in use: "go", "avx2" or "avx512vnni".
func I8Kernel() string {
	switch {
	case useVNNI:
		return "avx512vnni"
	case useAVX2:
		return "avx2"
	}
	return "go"
}

//go:noescape
func dotI8BlocksVNNI(packed *int8, qscale float32, corr int32, blocks *byte, groups, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotI8Blocks4VNNI(packed *int8, qscale float32, corr int32, blocks *byte, groups, stride, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotI8GroupVNNI(packed *int8, qscales *float32, corrs *int32, block *byte, groups int, thr *float32, out *float32, masks *uint32)

//go:noescape
func dotF32BlocksAVX2(q *float32, blocks *float32, dim, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotF32Blocks4AVX2(q *float32, blocks *float32, dim, stride, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotF32GroupAVX2(qp *float32, block *float32, dim int, thr *float32, out *float32, masks *uint32)

//go:noescape
func dotI8BlocksAVX2(packed *int8, qscale float32, corr int32, blocks *byte, groups, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotI8Blocks4AVX2(packed *int8, qscale float32, corr int32, blocks *byte, groups, stride, nblk int, thr float32, out *float32, masks *uint32)

//go:noescape
func dotI8GroupAVX2(packed *int8, qscales *float32, corrs *int32, block *byte, groups int, thr *float32, out *float32, masks *uint32)

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func readAVX2(p *byte, quarter int) uint64

func dotF32Blocks(q, blocks []float32, nblk int, thr float32, out []float32, masks []uint32) {
	if !useAVX2 {
		dotF32BlocksGeneric(q, blocks, nblk, thr, out, masks)
		return
	}
	dotF32BlocksAVX2(unsafe.SliceData(q), unsafe.SliceData(blocks), len(q), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotF32Blocks4(q, blocks []float32, stride, nblk int, thr float32, out []float32, masks []uint32) {
	if !useAVX2 {
		dotF32Blocks4Generic(q, blocks, stride, nblk, thr, out, masks)
		return
	}
	dotF32Blocks4AVX2(unsafe.SliceData(q), unsafe.SliceData(blocks), len(q), stride*F32BlockLen(len(q))*4, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotF32Group(qp, block []float32, dim int, thr *[F32Group]float32, out *[F32Group * Lanes]float32, masks *[F32Group]uint32) {
	if !useAVX2 {
		dotF32GroupGeneric(qp, block, dim, thr, out, masks)
		return
	}
	dotF32GroupAVX2(unsafe.SliceData(qp), unsafe.SliceData(block), dim, &thr[0], &out[0], &masks[0])
}

func dotI8Blocks(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
	if !useAVX2 {
		dotI8BlocksGeneric(q, blocks, groups, nblk, thr, out, masks)
		return
	}
	if useVNNI {
		dotI8BlocksVNNI(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		return
	}
	dotI8BlocksAVX2(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotI8Blocks4(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
	if !useAVX2 {
		dotI8Blocks4Generic(q, blocks, groups, stride, nblk, thr, out, masks)
		return
	}
	if useVNNI {
		dotI8Blocks4VNNI(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, stride*I8BlockLen(groups*4), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		return
	}
	dotI8Blocks4AVX2(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, stride*I8BlockLen(groups*4), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
}

func dotI8Group(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	if !useAVX2 {
		dotI8GroupGeneric(qg, block, groups, thr, out, masks)
		return
	}
	if useVNNI {
		dotI8GroupVNNI(unsafe.SliceData(qg.Packed), &qg.Scales[0], &qg.Corrs[0], unsafe.SliceData(block), groups, &thr[0], &out[0], &masks[0])
		return
	}
	dotI8GroupAVX2(unsafe.SliceData(qg.Packed), &qg.Scales[0], &qg.Corrs[0], unsafe.SliceData(block), groups, &thr[0], &out[0], &masks[0])
}

func dotF32(a, b []float32) float32 {
	if !useAVX2 {
		return dotF32Generic(a, b)
	}
	return dotF32AVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
}

func read(buf []byte) uint64 {
	if !useAVX2 {
		return readGeneric(buf)
	}
	return readAVX2(unsafe.SliceData(buf), len(buf)/Streams)
}
