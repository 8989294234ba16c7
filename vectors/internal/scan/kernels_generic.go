package scan

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
func dotI8Lanes(packed []int8, stride int, block []int8, groups int) (acc [Lanes]int32) {
	for g := 0; g < groups; g++ {
		q := packed[g*stride : g*stride+4]
		row := block[g*4*Lanes : (g+1)*4*Lanes]
		for l := range acc {
			c := row[l*4 : l*4+4]
			acc[l] += int32(c[0])*int32(q[0]) + int32(c[1])*int32(q[1]) +
				int32(c[2])*int32(q[2]) + int32(c[3])*int32(q[3])
		}
	}
	return acc
}

func dotI8BlocksGeneric(packed []int8, qscale float32, blocks []int8, scales []float32, groups, nblk int, thr float32, out []float32, masks []uint32) {
	bl := groups * 4 * Lanes
	for b := 0; b < nblk; b++ {
		acc := dotI8Lanes(packed, 32, blocks[b*bl:(b+1)*bl], groups)
		var s [Lanes]float32
		for l := range s {
			s[l] = float32(acc[l]) * scales[b*Lanes+l] * qscale
		}
		copy(out[b*Lanes:], s[:])
		masks[b] = maskGE(s[:], thr)
	}
}

func dotI8GroupGeneric(qg *I8GroupQuery, block []int8, scales []float32, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	for j := 0; j < I8Group; j++ {
		acc := dotI8Lanes(qg.Packed[j*32:], I8Group*32, block, groups)
		var s [Lanes]float32
		for l := range s {
			s[l] = float32(acc[l]) * scales[l] * qg.Scales[j]
		}
		copy(out[j*Lanes:], s[:])
		masks[j] = maskGE(s[:], thr[j])
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
