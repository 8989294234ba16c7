package scan

import (
	"encoding/binary"
	"math"
)

// The Go twins of the assembly kernels. They are always compiled so that
// tests can compare them with the assembly bit for bit; the purego build tag
// (or a CPU without AVX2 and FMA) makes them the ones in use.

func dotF32BlocksGeneric(q, blocks []float32, nblk int, thr float32, out []float32, masks []uint32) {
	dim := len(q)
	bl := F32BlockLen(dim)
	for b := 0; b < nblk; b++ {
		blk := blocks[b*bl : (b+1)*bl]
		var acc [Lanes]float32
		for d, qd := range q {
			row := blk[d*Lanes : d*Lanes+Lanes]
			for l := range acc {
				acc[l] = FMA32(row[l], qd, acc[l])
			}
		}
		copy(out[b*Lanes:], acc[:])
		masks[b] = maskGE(acc[:], thr)
	}
}

func dotF32Blocks4Generic(q, blocks []float32, stride, nblk int, thr float32, out []float32, masks []uint32) {
	bl := F32BlockLen(len(q))
	for b := 0; b < nblk; b++ {
		for s := 0; s < Streams; s++ {
			i := b*Streams + s
			blk := (s*stride + b) * bl
			dotF32BlocksGeneric(q, blocks[blk:blk+bl], 1, thr, out[i*Lanes:(i+1)*Lanes], masks[i:i+1])
		}
	}
}

func dotF32GroupGeneric(qp, block []float32, dim int, thr *[F32Group]float32, out *[F32Group * Lanes]float32, masks *[F32Group]uint32) {
	var acc [F32Group][Lanes]float32
	for d := 0; d < dim; d++ {
		row := block[d*Lanes : d*Lanes+Lanes]
		for j := range acc {
			qd := qp[d*F32Group+j]
			for l := range acc[j] {
				acc[j][l] = FMA32(row[l], qd, acc[j][l])
			}
		}
	}
	for j := range acc {
		copy(out[j*Lanes:], acc[j][:])
		masks[j] = maskGE(acc[j][:], thr[j])
	}
}

// dotI8Lanes sums qcode·code exactly for the Lanes vectors of one int8
// block; packed holds one query's groups at a stride of stride bytes.
func dotI8Lanes(packed []int8, stride int, block []byte, groups int) (acc [Lanes]int32) {
	for g := 0; g < groups; g++ {
		q := packed[g*stride : g*stride+4]
		row := block[g*4*Lanes : (g+1)*4*Lanes]
		for l := range acc {
			c := row[l*4 : l*4+4]
			acc[l] += code(c[0])*int32(q[0]) + code(c[1])*int32(q[1]) +
				code(c[2])*int32(q[2]) + code(c[3])*int32(q[3])
		}
	}
	return acc
}

// code is the signed code a stored (offset) byte holds.
func code(b byte) int32 { return int32(b) - 128 }

// i8Scores turns exact integer sums into scores and a mask.
func i8Scores(acc *[Lanes]int32, block []byte, groups int, qscale, thr float32, out []float32) uint32 {
	sc := block[groups*4*Lanes:]
	for l := range acc {
		scale := math.Float32frombits(binary.LittleEndian.Uint32(sc[4*l:]))
		out[l] = float32(acc[l]) * scale * qscale
	}
	return maskGE(out[:Lanes], thr)
}

func dotI8BlocksGeneric(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
	bl := I8BlockLen(groups * 4)
	for b := 0; b < nblk; b++ {
		blk := blocks[b*bl : (b+1)*bl]
		acc := dotI8Lanes(q.Packed, 32, blk, groups)
		masks[b] = i8Scores(&acc, blk, groups, q.Scale, thr, out[b*Lanes:])
	}
}

func dotI8Blocks4Generic(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
	bl := I8BlockLen(groups * 4)
	for b := 0; b < nblk; b++ {
		for s := 0; s < Streams; s++ {
			i := b*Streams + s
			blk := (s*stride + b) * bl
			dotI8BlocksGeneric(q, blocks[blk:blk+bl], groups, 1, thr, out[i*Lanes:(i+1)*Lanes], masks[i:i+1])
		}
	}
}

func dotI8GroupGeneric(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	for j := 0; j < I8Group; j++ {
		acc := dotI8Lanes(qg.Packed[j*32:], I8Group*32, block, groups)
		masks[j] = i8Scores(&acc, block, groups, qg.Scales[j], thr[j], out[j*Lanes:])
	}
}

func dotF32Generic(a, b []float32) float32 {
	var acc float32
	for i, x := range a {
		acc = FMA32(b[i], x, acc)
	}
	return acc
}

func readGeneric(buf []byte) uint64 {
	var x0, x1, x2, x3 uint64
	for i := 0; i+32 <= len(buf); i += 32 {
		x0 ^= le64(buf[i:])
		x1 ^= le64(buf[i+8:])
		x2 ^= le64(buf[i+16:])
		x3 ^= le64(buf[i+24:])
	}
	return x0 ^ x1 ^ x2 ^ x3
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func maskGE(s []float32, thr float32) uint32 {
	var m uint32
	for l, x := range s {
		if x >= thr {
			m |= 1 << l
		}
	}
	return m
}
