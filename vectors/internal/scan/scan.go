package scan

import (
	"encoding/binary"
	"fmt"
	"math"
)

const (
	// Lanes is the number of gallery vectors in one block.
	Lanes = 16
	// F32Group is the number of queries one float32 group kernel call scores.
	F32Group = 6
	// I8Group is the number of queries one int8 group kernel call scores.
	I8Group = 4
	// MaxDim is the largest dimension the kernels accept; the int8 sums
	// stay far from int32 overflow (255·63·4096 < 2²⁷).
	MaxDim = 4096
	// QueryMax bounds the int8 query codes: the kernels multiply unsigned
	// (code+128 ≤ 255) gallery bytes by signed query bytes in pairs into
	// int16, and 2·255·63 < 2¹⁵ never saturates.
	QueryMax = 63
)

// F32BlockLen is the number of float32 values in one float32 block.
func F32BlockLen(dim int) int { return dim * Lanes }

// PadDim rounds dim up to the multiple of 4 the int8 layout needs.
func PadDim(dim int) int { return (dim + 3) &^ 3 }

// SetF32Lane writes v into lane l of a float32 block.
func SetF32Lane(block []float32, l int, v []float32) {
	dim := len(v)
	_ = block[F32BlockLen(dim)-1]
	for d, x := range v {
		block[d*Lanes+l] = x
	}
}

// F32Lane copies lane l of a float32 block into dst.
func F32Lane(block []float32, l int, dst []float32) {
	_ = block[F32BlockLen(len(dst))-1]
	for d := range dst {
		dst[d] = block[d*Lanes+l]
	}
}

// I8BlockLen is the number of bytes in one int8 block: PadDim(dim)·Lanes
// codes laid out [PadDim(dim)/4][Lanes][4], each stored offset by 128 (code
// XOR 0x80, so 0…255 as unsigned bytes), followed by the Lanes float32
// scales (little-endian). Keeping a block's scales beside its codes makes a
// block one contiguous run of memory, so the scan reads one stream.
func I8BlockLen(dim int) int { return i8CodesLen(dim) + 4*Lanes }

func i8CodesLen(dim int) int { return PadDim(dim) * Lanes }

// SetI8Lane writes codes (length PadDim(dim)) and their scale into lane l
// of an int8 block of dimension dim.
func SetI8Lane(block []byte, dim, l int, codes []int8, scale float32) {
	if len(codes) != PadDim(dim) {
		panic("scan: int8 codes not padded to a multiple of 4")
	}
	_ = block[I8BlockLen(dim)-1]
	for g := 0; g < len(codes)/4; g++ {
		for j := 0; j < 4; j++ {
			block[g*4*Lanes+l*4+j] = uint8(codes[g*4+j]) ^ 0x80
		}
	}
	binary.LittleEndian.PutUint32(block[i8CodesLen(dim)+4*l:], math.Float32bits(scale))
}

// ClearI8Blocks sets every lane of the int8 blocks in buf (a whole number
// of blocks of dimension dim) to code 0 and scale 0: such a lane scores 0.
func ClearI8Blocks(buf []byte, dim int) {
	bl := I8BlockLen(dim)
	if len(buf)%bl != 0 {
		panic("scan: not a whole number of int8 blocks")
	}
	for b := 0; b < len(buf); b += bl {
		codes := buf[b : b+i8CodesLen(dim)]
		for i := range codes {
			codes[i] = 0x80
		}
		clear(buf[b+i8CodesLen(dim) : b+bl])
	}
}

// I8Lane reads back the codes and scale of lane l of an int8 block.
func I8Lane(block []byte, dim, l int, codes []int8) (scale float32) {
	if len(codes) != PadDim(dim) {
		panic("scan: int8 codes not padded to a multiple of 4")
	}
	_ = block[I8BlockLen(dim)-1]
	for g := 0; g < len(codes)/4; g++ {
		for j := 0; j < 4; j++ {
			codes[g*4+j] = int8(block[g*4*Lanes+l*4+j] ^ 0x80)
		}
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(block[i8CodesLen(dim)+4*l:]))
}

// QuantizeI8 writes the symmetric int8 codes of v into codes (length
// PadDim(len(v)); the padding is zeroed) and returns the scale s with
// v ≈ s·codes and the exact residual norm ‖v − s·codes‖ (computed in float64).
// A zero vector gets scale 0.
func QuantizeI8(v []float32, codes []int8) (scale float32, residual float64) {
	if len(codes) != PadDim(len(v)) {
		panic(fmt.Sprintf("scan: %d codes for dimension %d", len(codes), len(v)))
	}
	clear(codes)
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		return 0, 0
	}
	scale = m / 127
	var r float64
	for d, x := range v {
		c := math.RoundToEven(float64(x) / float64(scale))
		c = max(-127, min(127, c))
		codes[d] = int8(c)
		e := float64(x) - float64(scale)*c
		r += e * e
	}
	return scale, math.Sqrt(r)
}

// I8Query is a query quantised for the int8 kernels: 7-bit signed codes
// (|code| ≤ QueryMax) with one scale.
type I8Query struct {
	// Packed holds, for each group of 4 dimensions, the 4 codes repeated 8
	// times (one 32-byte vector per group).
	Packed []int8
	// Scale maps the codes back: q ≈ Scale·code.
	Scale float32
	// Residual is ‖q − Scale·code‖, computed in float64.
	Residual float64
	// Corr is 128·Σ code: the kernels compute Σ (g+128)·code from the
	// stored unsigned bytes and subtract it.
	Corr int32
}

// PackI8Query quantises q to 7-bit codes with one scale and packs it.
func PackI8Query(q []float32) I8Query {
	pd := PadDim(len(q))
	out := I8Query{Packed: make([]int8, pd/4*32)}
	var m float32
	for _, x := range q {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		return out
	}
	out.Scale = m / QueryMax
	var r float64
	var sum int32
	for d, x := range q {
		c := math.RoundToEven(float64(x) / float64(out.Scale))
		c = max(-QueryMax, min(QueryMax, c))
		g, j := d/4, d%4
		for rep := 0; rep < 8; rep++ {
			out.Packed[g*32+rep*4+j] = int8(c)
		}
		sum += int32(c)
		e := float64(x) - float64(out.Scale)*c
		r += e * e
	}
	out.Corr = 128 * sum
	out.Residual = math.Sqrt(r)
	return out
}

// PackF32Group interleaves up to F32Group queries of length dim into the
// layout [dim][F32Group] the float32 group kernel reads; missing queries are
// zero.
func PackF32Group(qs [][]float32, dim int) []float32 {
	if len(qs) > F32Group {
		panic("scan: too many queries for one float32 group")
	}
	out := make([]float32, dim*F32Group)
	for j, q := range qs {
		for d := 0; d < dim; d++ {
			out[d*F32Group+j] = q[d]
		}
	}
	return out
}

// I8GroupQuery holds up to I8Group packed queries for the int8 group
// kernel: Packed is laid out [PadDim/4][I8Group][32]int8.
type I8GroupQuery struct {
	Packed []int8
	Scales [I8Group]float32
	Corrs  [I8Group]int32
}

// PackI8Group interleaves up to I8Group packed queries; missing queries are
// zero.
func PackI8Group(qs []I8Query, dim int) I8GroupQuery {
	if len(qs) > I8Group {
		panic("scan: too many queries for one int8 group")
	}
	groups := PadDim(dim) / 4
	out := I8GroupQuery{Packed: make([]int8, groups*I8Group*32)}
	for j, q := range qs {
		out.Scales[j] = q.Scale
		out.Corrs[j] = q.Corr
		for g := 0; g < groups; g++ {
			copy(out.Packed[(g*I8Group+j)*32:(g*I8Group+j)*32+32], q.Packed[g*32:g*32+32])
		}
	}
	return out
}

// Streams is the number of memory streams the *Blocks4 kernels read at
// once. One core reaches a markedly higher read bandwidth from several
// sequential streams in different pages than from one (docs/search.md).
const Streams = 4

// DotF32Blocks scores query q against nblk consecutive float32 blocks.
// out[b·Lanes+l] receives the score of lane l of block b, and bit l of
// masks[b] is set when that score is ≥ thr.
func DotF32Blocks(q, blocks []float32, nblk int, thr float32, out []float32, masks []uint32) {
	dim := len(q)
	if dim == 0 || nblk <= 0 {
		return
	}
	_ = blocks[nblk*F32BlockLen(dim)-1]
	_ = out[nblk*Lanes-1]
	_ = masks[nblk-1]
	dotF32Blocks(q, blocks, nblk, thr, out, masks)
}

// DotF32Blocks4 scores query q against nblk blocks in each of [Streams]
// streams: stream s starts at block s·stride of blocks. Block b of stream s
// is reported at position i = b·Streams + s: its scores in
// out[i·Lanes : (i+1)·Lanes] and its mask in masks[i]. The scores are
// bit-identical to DotF32Blocks's.
func DotF32Blocks4(q, blocks []float32, stride, nblk int, thr float32, out []float32, masks []uint32) {
	dim := len(q)
	if dim == 0 || nblk <= 0 {
		return
	}
	if stride < nblk {
		panic("scan: streams overlap")
	}
	_ = blocks[((Streams-1)*stride+nblk)*F32BlockLen(dim)-1]
	_ = out[Streams*nblk*Lanes-1]
	_ = masks[Streams*nblk-1]
	dotF32Blocks4(q, blocks, stride, nblk, thr, out, masks)
}

// DotF32Group scores the F32Group queries packed in qp (see PackF32Group)
// against one float32 block: out[j·Lanes+l] is query j against lane l, and
// bit l of masks[j] is set when that score is ≥ thr[j].
func DotF32Group(qp, block []float32, thr *[F32Group]float32, out *[F32Group * Lanes]float32, masks *[F32Group]uint32) {
	dim := len(qp) / F32Group
	if dim == 0 || len(qp) != dim*F32Group {
		panic("scan: malformed float32 query group")
	}
	_ = block[F32BlockLen(dim)-1]
	dotF32Group(qp, block, dim, thr, out, masks)
}

func (q *I8Query) groups() int {
	groups := len(q.Packed) / 32
	if groups*32 != len(q.Packed) || groups*4 > MaxDim {
		panic("scan: malformed int8 query")
	}
	return groups
}

// DotI8Blocks scores q against nblk consecutive int8 blocks (see
// [I8BlockLen]); the score of lane l is float32(Σ qcode·code)·scale·q.Scale,
// the integer sum being exact. out and masks are as for DotF32Blocks.
func DotI8Blocks(q *I8Query, blocks []byte, nblk int, thr float32, out []float32, masks []uint32) {
	groups := q.groups()
	if groups == 0 || nblk <= 0 {
		return
	}
	_ = blocks[nblk*I8BlockLen(groups*4)-1]
	_ = out[nblk*Lanes-1]
	_ = masks[nblk-1]
	dotI8Blocks(q, blocks, groups, nblk, thr, out, masks)
}

// DotI8Blocks4 is DotI8Blocks over [Streams] streams of nblk blocks, stream
// s starting at block s·stride; out and masks are as for DotF32Blocks4.
func DotI8Blocks4(q *I8Query, blocks []byte, stride, nblk int, thr float32, out []float32, masks []uint32) {
	groups := q.groups()
	if groups == 0 || nblk <= 0 {
		return
	}
	if stride < nblk {
		panic("scan: streams overlap")
	}
	_ = blocks[((Streams-1)*stride+nblk)*I8BlockLen(groups*4)-1]
	_ = out[Streams*nblk*Lanes-1]
	_ = masks[Streams*nblk-1]
	dotI8Blocks4(q, blocks, groups, stride, nblk, thr, out, masks)
}

// DotI8Group scores the I8Group queries in qg against one int8 block; out
// and masks are as for DotF32Group.
func DotI8Group(qg *I8GroupQuery, block []byte, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	groups := len(qg.Packed) / (I8Group * 32)
	if groups == 0 || len(qg.Packed) != groups*I8Group*32 {
		panic("scan: malformed int8 query group")
	}
	if groups*4 > MaxDim {
		panic("scan: dimension too large for the int8 kernels")
	}
	_ = block[I8BlockLen(groups*4)-1]
	dotI8Group(qg, block, groups, thr, out, masks)
}

// DotF32 is the inner product of a and b as one chain of fused
// multiply-adds in dimension order: bit-identical to the score the block
// kernels give the same pair.
func DotF32(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("scan: DotF32 on vectors of different lengths")
	}
	if len(a) == 0 {
		return 0
	}
	return dotF32(a, b)
}

// Read streams through buf with the widest plain loads the CPU has, as
// [Streams] concurrent sequential streams (its quarters), and returns an XOR
// checksum of its 8-byte words (so the loads cannot be optimised away).
// len(buf) must be a multiple of 256.
func Read(buf []byte) uint64 {
	if len(buf)%256 != 0 {
		panic("scan: Read needs a multiple of 256 bytes")
	}
	if len(buf) == 0 {
		return 0
	}
	return read(buf)
}

// FMA32 returns x·y + z rounded once to float32, as the FMA instructions do.
func FMA32(x, y, z float32) float32 {
	xy := float64(x) * float64(y) // exact: 24+24 significant bits
	zz := float64(z)
	s := xy + zz
	// Two-sum: e is the exact rounding error of s.
	bv := s - xy
	av := s - bv
	e := (xy - av) + (zz - bv)
	if e != 0 {
		a := math.Abs(s)
		if a < 0x1p-120 {
			return fma32Slow(x, y, z)
		}
		// Double rounding is wrong only when s sits exactly half-way
		// between two float32 values; nudge it towards the true value.
		b := math.Float64bits(s)
		if b&(1<<29-1) == 1<<28 {
			if (e > 0) == (s > 0) {
				b++
			} else {
				b--
			}
			s = math.Float64frombits(b)
		}
	}
	return float32(s)
}
