// Package scan holds the inner loops of the 1:N gallery search: inner
// products of one or a few queries against blocks of gallery vectors, in
// float32 and in int8, plus a plain streaming read used as the bandwidth
// yardstick.
//
// # Layout
//
// Gallery vectors are stored in blocks of [Lanes] vectors so that one SIMD
// register holds the same dimension of several vectors and no horizontal
// reduction is needed:
//
//   - float32 block: [dim][Lanes]float32, see [F32BlockLen];
//   - int8 block: [dim/4][Lanes][4] codes with dim padded to a multiple of 4
//     (see [PadDim]), each stored offset by 128 as an unsigned byte, then
//     the Lanes float32 scales, so that a block is one contiguous run of
//     memory (see [I8BlockLen], [SetI8Lane]).
//
// Queries are packed once per search: [PackI8Query] turns a float32 query
// into 7-bit int8 codes with their own scale (the kernels multiply the
// unsigned gallery bytes, code+128, by the signed query codes with
// VPMADDUBSW, or VPDPBUSD at level avx512, and subtract 128·Σ query codes), [PackF32Group] and
// [PackI8Group] interleave [F32Group] and [I8Group] queries for the
// matrix-matrix kernels.
//
// # Streams
//
// [DotF32Blocks4] and [DotI8Blocks4] score one block from each of [Streams]
// runs of blocks per step (the caller passes the distance between runs):
// one core reads several sequential streams in different pages markedly
// faster than a single stream, and the one-query scan is bound by that read
// rate. [Read], the bandwidth yardstick, reads the same way.
//
// # Exactness and twins
//
// Every float32 kernel accumulates each vector's score as one chain of fused
// multiply-adds over the dimensions in order 0, 1, …, dim-1, starting from
// zero. The one-query kernel, the group kernel and [DotF32] on a single row
// therefore give bit-identical scores for the same pair of vectors, which is
// what lets the gallery break ties by slot and lets int8 re-ranking reproduce
// the float32 answer exactly. The int8 kernels sum integers exactly (no
// overflow for dim ≤ 4096) and then apply the two scales with two float32
// multiplications.
//
// Each kernel has a portable Go twin (files kernels_generic.go) that gives
// bit-identical results, using [FMA32] for the fused multiply-add. The
// assembly versions are chosen at start-up by the kernel level
// (vectors/internal/isa, FACESIGN_CPU): on amd64 at level avx2 all kernels
// run in AVX2+FMA; at level avx512 the int8 kernels run in AVX-512 with
// VNNI (VPDPBUSD) when the CPU has AVX512_VNNI ([I8Kernel] names them) and
// the others in AVX2+FMA; on arm64 at level neon in NEON (the int8 ones as
// one block kernel driven by Go loops). The build tag purego
// selects the Go twins everywhere. Tests compare each level's kernels with
// the twins on random inputs, bit for bit.
//
// Each call reports, per block and query, a bitmask of the lanes whose score
// is ≥ the caller's threshold, so that the caller only looks at the few
// scores that can enter its top-k.
package scan
