//go:build amd64 && !purego

#include "textflag.h"

// Scores and masks: VCMPPS predicate 0x0d is GE_OS (a >= b, ordered).

// func dotF32BlocksAVX2(q *float32, blocks *float32, dim, nblk int, thr float32, out *float32, masks *uint32)
TEXT ·dotF32BlocksAVX2(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), AX
	MOVQ blocks+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ nblk+24(FP), DX
	VBROADCASTSS thr+32(FP), Y15
	MOVQ out+40(FP), DI
	MOVQ masks+48(FP), R8
	MOVQ CX, R12
	SHLQ $6, R12 // bytes per block
f32pair:
	CMPQ DX, $2
	JLT f32single
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ AX, BX
	MOVQ SI, R10
	LEAQ (SI)(R12*1), R11
	MOVQ CX, R9
f32pairloop:
	VBROADCASTSS (BX), Y4
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS 32(R10), Y4, Y1
	VFMADD231PS (R11), Y4, Y2
	VFMADD231PS 32(R11), Y4, Y3
	ADDQ $4, BX
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ R9
	JNZ f32pairloop
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VCMPPS $0x0d, Y15, Y0, Y0
	VCMPPS $0x0d, Y15, Y1, Y1
	VMOVMSKPS Y0, R9
	VMOVMSKPS Y1, R13
	SHLL $8, R13
	ORL R13, R9
	MOVL R9, 0(R8)
	VCMPPS $0x0d, Y15, Y2, Y2
	VCMPPS $0x0d, Y15, Y3, Y3
	VMOVMSKPS Y2, R9
	VMOVMSKPS Y3, R13
	SHLL $8, R13
	ORL R13, R9
	MOVL R9, 4(R8)
	LEAQ (SI)(R12*2), SI
	ADDQ $128, DI
	ADDQ $8, R8
	SUBQ $2, DX
	JMP f32pair
f32single:
	TESTQ DX, DX
	JZ f32done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ AX, BX
	MOVQ CX, R9
f32singleloop:
	VBROADCASTSS (BX), Y4
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1
	ADDQ $4, BX
	ADDQ $64, SI
	DECQ R9
	JNZ f32singleloop
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VCMPPS $0x0d, Y15, Y0, Y0
	VCMPPS $0x0d, Y15, Y1, Y1
	VMOVMSKPS Y0, R9
	VMOVMSKPS Y1, R13
	SHLL $8, R13
	ORL R13, R9
	MOVL R9, 0(R8)
f32done:
	VZEROUPPER
	RET

// F32EPI stores one float32 block's scores (a, b) at off(DI) and their
// ≥ thr mask at moff(R8).
#define F32EPI(a, b, off, off32, moff) \
	VMOVUPS a, off(DI); \
	VMOVUPS b, off32(DI); \
	VCMPPS $0x0d, Y15, a, a; \
	VCMPPS $0x0d, Y15, b, b; \
	VMOVMSKPS a, R9; \
	VMOVMSKPS b, R10; \
	SHLL $8, R10; \
	ORL R10, R9; \
	MOVL R9, moff(R8)

// func dotF32Blocks4AVX2(q *float32, blocks *float32, dim, stride, nblk int, thr float32, out *float32, masks *uint32)
//
// Four streams, stride bytes apart; each step scores one block of every
// stream (eight FMA chains), reporting stream s's block at position 4b+s.
TEXT ·dotF32Blocks4AVX2(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), AX
	MOVQ blocks+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ stride+24(FP), R13
	LEAQ (R13)(R13*2), R14 // 3·stride
	MOVQ nblk+32(FP), DX
	VBROADCASTSS thr+40(FP), Y15
	MOVQ out+48(FP), DI
	MOVQ masks+56(FP), R8
f4blk:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ AX, BX
	MOVQ CX, R11
f4loop:
	VBROADCASTSS (BX), Y8
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y8, Y1
	VFMADD231PS (SI)(R13*1), Y8, Y2
	VFMADD231PS 32(SI)(R13*1), Y8, Y3
	VFMADD231PS (SI)(R13*2), Y8, Y4
	VFMADD231PS 32(SI)(R13*2), Y8, Y5
	VFMADD231PS (SI)(R14*1), Y8, Y6
	VFMADD231PS 32(SI)(R14*1), Y8, Y7
	ADDQ $4, BX
	ADDQ $64, SI
	DECQ R11
	JNZ f4loop
	F32EPI(Y0, Y1, 0, 32, 0)
	F32EPI(Y2, Y3, 64, 96, 4)
	F32EPI(Y4, Y5, 128, 160, 8)
	F32EPI(Y6, Y7, 192, 224, 12)
	ADDQ $256, DI
	ADDQ $16, R8
	DECQ DX
	JNZ f4blk
	VZEROUPPER
	RET

// func dotF32GroupAVX2(qp *float32, block *float32, dim int, thr *float32, out *float32, masks *uint32)
TEXT ·dotF32GroupAVX2(SB), NOSPLIT, $0-48
	MOVQ qp+0(FP), BX
	MOVQ block+8(FP), SI
	MOVQ dim+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
f32gloop:
	VMOVUPS (SI), Y12
	VMOVUPS 32(SI), Y13
	VBROADCASTSS 0(BX), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(BX), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 8(BX), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(BX), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 16(BX), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(BX), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $24, BX
	ADDQ $64, SI
	DECQ CX
	JNZ f32gloop
	MOVQ thr+24(FP), AX
	MOVQ out+32(FP), DI
	MOVQ masks+40(FP), R8
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VBROADCASTSS 0(AX), Y14
	VCMPPS $0x0d, Y14, Y0, Y0
	VCMPPS $0x0d, Y14, Y1, Y1
	VMOVMSKPS Y0, R9
	VMOVMSKPS Y1, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 0(R8)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VBROADCASTSS 4(AX), Y14
	VCMPPS $0x0d, Y14, Y2, Y2
	VCMPPS $0x0d, Y14, Y3, Y3
	VMOVMSKPS Y2, R9
	VMOVMSKPS Y3, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 4(R8)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VBROADCASTSS 8(AX), Y14
	VCMPPS $0x0d, Y14, Y4, Y4
	VCMPPS $0x0d, Y14, Y5, Y5
	VMOVMSKPS Y4, R9
	VMOVMSKPS Y5, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 8(R8)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VBROADCASTSS 12(AX), Y14
	VCMPPS $0x0d, Y14, Y6, Y6
	VCMPPS $0x0d, Y14, Y7, Y7
	VMOVMSKPS Y6, R9
	VMOVMSKPS Y7, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 12(R8)
	VMOVUPS Y8, 256(DI)
	VMOVUPS Y9, 288(DI)
	VBROADCASTSS 16(AX), Y14
	VCMPPS $0x0d, Y14, Y8, Y8
	VCMPPS $0x0d, Y14, Y9, Y9
	VMOVMSKPS Y8, R9
	VMOVMSKPS Y9, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 16(R8)
	VMOVUPS Y10, 320(DI)
	VMOVUPS Y11, 352(DI)
	VBROADCASTSS 20(AX), Y14
	VCMPPS $0x0d, Y14, Y10, Y10
	VCMPPS $0x0d, Y14, Y11, Y11
	VMOVMSKPS Y10, R9
	VMOVMSKPS Y11, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 20(R8)
	VZEROUPPER
	RET

// The int8 blocks hold each code offset by 128 (unsigned 0…255) and the
// lanes' float32 scales after the codes. VPMADDUBSW multiplies those
// unsigned gallery bytes by the signed 7-bit query codes (|c| ≤ 63); int16
// pair sums stay below 2·255·63 < 2¹⁵, VPMADDWD by ones widens them to
// int32, and the epilogue subtracts 128·Σ query codes (corr), which leaves
// the exact Σ code·qcode.

// I8EPI turns the int32 sums of one block (lanes 0-7 in a, 8-15 in b) into
// scores: (a − corr) → float32, × the lanes' scales at sc, × the query
// scale; stores them at off(DI) and the ≥ thr mask at moff(R8).
#define I8EPI(a, b, sc, sc32, off, off32, moff) \
	VPSUBD Y13, a, a; \
	VPSUBD Y13, b, b; \
	VCVTDQ2PS a, a; \
	VCVTDQ2PS b, b; \
	VMULPS sc, a, a; \
	VMULPS sc32, b, b; \
	VMULPS Y14, a, a; \
	VMULPS Y14, b, b; \
	VMOVUPS a, off(DI); \
	VMOVUPS b, off32(DI); \
	VCMPPS $0x0d, Y15, a, a; \
	VCMPPS $0x0d, Y15, b, b; \
	VMOVMSKPS a, R9; \
	VMOVMSKPS b, R10; \
	SHLL $8, R10; \
	ORL R10, R9; \
	MOVL R9, moff(R8)

// I8DOT adds one group (4 dimensions × 16 lanes, 64 bytes at mem, mem32)
// times the query group in Y8 to the accumulators a, b.
#define I8DOT(mem, mem32, a, b) \
	VMOVDQU mem, Y9; \
	VMOVDQU mem32, Y10; \
	VPMADDUBSW Y8, Y9, Y9; \
	VPMADDUBSW Y8, Y10, Y10; \
	VPMADDWD Y12, Y9, Y9; \
	VPMADDWD Y12, Y10, Y10; \
	VPADDD Y9, a, a; \
	VPADDD Y10, b, b

// func dotI8BlocksAVX2(packed *int8, qscale float32, corr int32, blocks *byte, groups, nblk int, thr float32, out *float32, masks *uint32)
TEXT ·dotI8BlocksAVX2(SB), NOSPLIT, $0-64
	MOVQ packed+0(FP), AX
	VBROADCASTSS qscale+8(FP), Y14
	MOVL corr+12(FP), R9
	VMOVD R9, X13
	VPBROADCASTD X13, Y13
	MOVQ blocks+16(FP), SI
	MOVQ groups+24(FP), CX
	MOVQ nblk+32(FP), R12
	VBROADCASTSS thr+40(FP), Y15
	MOVQ out+48(FP), DI
	MOVQ masks+56(FP), R8
	MOVL $0x00010001, R9
	VMOVD R9, X12
	VPBROADCASTD X12, Y12 // int16 ones for VPMADDWD
i8blk:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ AX, BX
	MOVQ CX, R11
i8loop:
	VMOVDQU (BX), Y8
	I8DOT(0(SI), 32(SI), Y0, Y1)
	ADDQ $32, BX
	ADDQ $64, SI
	DECQ R11
	JNZ i8loop
	// SI points at the block's scales now.
	I8EPI(Y0, Y1, 0(SI), 32(SI), 0, 32, 0)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $4, R8
	DECQ R12
	JNZ i8blk
	VZEROUPPER
	RET

// func dotI8Blocks4AVX2(packed *int8, qscale float32, corr int32, blocks *byte, groups, stride, nblk int, thr float32, out *float32, masks *uint32)
//
// Four streams: block b of stream s is at blocks + s·stride (bytes) +
// b·block size; each step scores one block of every stream, with eight
// accumulators, and reports stream s's block at position 4b+s.
TEXT ·dotI8Blocks4AVX2(SB), NOSPLIT, $0-72
	MOVQ packed+0(FP), AX
	VBROADCASTSS qscale+8(FP), Y14
	MOVL corr+12(FP), R9
	VMOVD R9, X13
	VPBROADCASTD X13, Y13
	MOVQ blocks+16(FP), SI
	MOVQ groups+24(FP), CX
	MOVQ stride+32(FP), R13
	LEAQ (R13)(R13*2), R14 // 3·stride
	MOVQ nblk+40(FP), R12
	VBROADCASTSS thr+48(FP), Y15
	MOVQ out+56(FP), DI
	MOVQ masks+64(FP), R8
	MOVL $0x00010001, R9
	VMOVD R9, X12
	VPBROADCASTD X12, Y12
i4blk:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ AX, BX
	MOVQ CX, R11
i4loop:
	VMOVDQU (BX), Y8
	I8DOT(0(SI), 32(SI), Y0, Y1)
	I8DOT(0(SI)(R13*1), 32(SI)(R13*1), Y2, Y3)
	I8DOT(0(SI)(R13*2), 32(SI)(R13*2), Y4, Y5)
	I8DOT(0(SI)(R14*1), 32(SI)(R14*1), Y6, Y7)
	ADDQ $32, BX
	ADDQ $64, SI
	DECQ R11
	JNZ i4loop
	I8EPI(Y0, Y1, 0(SI), 32(SI), 0, 32, 0)
	I8EPI(Y2, Y3, 0(SI)(R13*1), 32(SI)(R13*1), 64, 96, 4)
	I8EPI(Y4, Y5, 0(SI)(R13*2), 32(SI)(R13*2), 128, 160, 8)
	I8EPI(Y6, Y7, 0(SI)(R14*1), 32(SI)(R14*1), 192, 224, 12)
	ADDQ $64, SI
	ADDQ $256, DI
	ADDQ $16, R8
	DECQ R12
	JNZ i4blk
	VZEROUPPER
	RET

// func dotI8GroupAVX2(packed *int8, qscales *float32, corrs *int32, block *byte, groups int, thr *float32, out *float32, masks *uint32)
//
// The gallery bytes (code+128, unsigned) are loaded once per group and
// multiplied by each of the four queries' signed codes.
TEXT ·dotI8GroupAVX2(SB), NOSPLIT, $0-64
	MOVQ packed+0(FP), BX
	MOVQ block+24(FP), SI
	MOVQ groups+32(FP), CX
	MOVL $0x00010001, R9
	VMOVD R9, X12
	VPBROADCASTD X12, Y12 // int16 ones for VPMADDWD
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
i8grloop:
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	VPMADDUBSW 0(BX), Y8, Y10
	VPMADDUBSW 0(BX), Y9, Y11
	VPMADDWD Y12, Y10, Y10
	VPMADDWD Y12, Y11, Y11
	VPADDD Y10, Y0, Y0
	VPADDD Y11, Y1, Y1
	VPMADDUBSW 32(BX), Y8, Y10
	VPMADDUBSW 32(BX), Y9, Y11
	VPMADDWD Y12, Y10, Y10
	VPMADDWD Y12, Y11, Y11
	VPADDD Y10, Y2, Y2
	VPADDD Y11, Y3, Y3
	VPMADDUBSW 64(BX), Y8, Y10
	VPMADDUBSW 64(BX), Y9, Y11
	VPMADDWD Y12, Y10, Y10
	VPMADDWD Y12, Y11, Y11
	VPADDD Y10, Y4, Y4
	VPADDD Y11, Y5, Y5
	VPMADDUBSW 96(BX), Y8, Y10
	VPMADDUBSW 96(BX), Y9, Y11
	VPMADDWD Y12, Y10, Y10
	VPMADDWD Y12, Y11, Y11
	VPADDD Y10, Y6, Y6
	VPADDD Y11, Y7, Y7
	ADDQ $128, BX
	ADDQ $64, SI
	DECQ CX
	JNZ i8grloop
	MOVQ qscales+8(FP), AX
	MOVQ corrs+16(FP), R11
	MOVQ SI, DX // the block's scales follow its codes
	MOVQ thr+40(FP), R12
	MOVQ out+48(FP), DI
	MOVQ masks+56(FP), R8
	VBROADCASTSS 0(AX), Y14
	VPBROADCASTD 0(R11), Y13
	VBROADCASTSS 0(R12), Y15
	VPSUBD Y13, Y0, Y0
	VPSUBD Y13, Y1, Y1
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VMULPS (DX), Y0, Y0
	VMULPS 32(DX), Y1, Y1
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VCMPPS $0x0d, Y15, Y0, Y0
	VCMPPS $0x0d, Y15, Y1, Y1
	VMOVMSKPS Y0, R9
	VMOVMSKPS Y1, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 0(R8)
	VBROADCASTSS 4(AX), Y14
	VPBROADCASTD 4(R11), Y13
	VBROADCASTSS 4(R12), Y15
	VPSUBD Y13, Y2, Y2
	VPSUBD Y13, Y3, Y3
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS (DX), Y2, Y2
	VMULPS 32(DX), Y3, Y3
	VMULPS Y14, Y2, Y2
	VMULPS Y14, Y3, Y3
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VCMPPS $0x0d, Y15, Y2, Y2
	VCMPPS $0x0d, Y15, Y3, Y3
	VMOVMSKPS Y2, R9
	VMOVMSKPS Y3, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 4(R8)
	VBROADCASTSS 8(AX), Y14
	VPBROADCASTD 8(R11), Y13
	VBROADCASTSS 8(R12), Y15
	VPSUBD Y13, Y4, Y4
	VPSUBD Y13, Y5, Y5
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VMULPS (DX), Y4, Y4
	VMULPS 32(DX), Y5, Y5
	VMULPS Y14, Y4, Y4
	VMULPS Y14, Y5, Y5
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VCMPPS $0x0d, Y15, Y4, Y4
	VCMPPS $0x0d, Y15, Y5, Y5
	VMOVMSKPS Y4, R9
	VMOVMSKPS Y5, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 8(R8)
	VBROADCASTSS 12(AX), Y14
	VPBROADCASTD 12(R11), Y13
	VBROADCASTSS 12(R12), Y15
	VPSUBD Y13, Y6, Y6
	VPSUBD Y13, Y7, Y7
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VMULPS (DX), Y6, Y6
	VMULPS 32(DX), Y7, Y7
	VMULPS Y14, Y6, Y6
	VMULPS Y14, Y7, Y7
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VCMPPS $0x0d, Y15, Y6, Y6
	VCMPPS $0x0d, Y15, Y7, Y7
	VMOVMSKPS Y6, R9
	VMOVMSKPS Y7, R10
	SHLL $8, R10
	ORL R10, R9
	MOVL R9, 12(R8)
	VZEROUPPER
	RET
// func dotF32AVX2(a, b *float32, n int) float32
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS X0, X0, X0
dotloop:
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ dotloop
	VMOVSS X0, ret+24(FP)
	RET

// func readAVX2(p *byte, quarter int) uint64
//
// Four sequential streams, quarter bytes apart, 64 bytes from each per step.
TEXT ·readAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ quarter+8(FP), CX
	MOVQ CX, R13
	LEAQ (R13)(R13*2), R14
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
readloop:
	VPXOR 0(SI), Y0, Y0
	VPXOR 32(SI), Y1, Y1
	VPXOR 0(SI)(R13*1), Y2, Y2
	VPXOR 32(SI)(R13*1), Y3, Y3
	VPXOR 0(SI)(R13*2), Y0, Y0
	VPXOR 32(SI)(R13*2), Y1, Y1
	VPXOR 0(SI)(R14*1), Y2, Y2
	VPXOR 32(SI)(R14*1), Y3, Y3
	ADDQ $64, SI
	SUBQ $64, CX
	JNZ readloop
	VPXOR Y1, Y0, Y0
	VPXOR Y3, Y2, Y2
	VPXOR Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPXOR X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPXOR X1, X0, X0
	VMOVQ X0, AX
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET

// The AVX-512 VNNI int8 kernels (level avx512 on a CPU with AVX512_VNNI).
// One 64-byte group of a block (4 dimensions × 16 lanes) is one ZMM
// register, and VPDPBUSD multiplies its unsigned bytes (code+128) by the
// query's 4 signed codes (broadcast from the packed query's first dword of
// the group), sums each lane's four products and adds them to the lane's
// int32 accumulator: the same exact integer Σ (g+128)·q as the AVX2
// VPMADDUBSW + VPMADDWD + VPADDD chain, in one instruction, with no int16
// step at all. Integer addition is exact, so splitting a lane's sum over
// several accumulators (even and odd groups) and adding them at the end
// changes nothing. The epilogue is the AVX2 one, lane for lane, on 16 lanes
// at once: − corr, VCVTDQ2PS, × the lanes' scales, × the query scale
// (separately rounded products in that order), VCMPPS GE_OS; the mask comes
// from the compare's K register (bit l = lane l, as VMOVMSKPS's two halves
// give). Each step is the same IEEE operation per lane as the AVX2 one, so
// scores and masks are bit-identical.

// VNNIEPI turns the int32 sums of one block (16 lanes in a) into scores:
// (a − corr) → float32, × the lanes' scales at sc, × the query scale (Z14);
// stores them at off(DI) and the ≥ thr (Z15) mask at moff(R8).
#define VNNIEPI(a, sc, off, moff) \
	VPSUBD Z13, a, a; \
	VCVTDQ2PS a, a; \
	VMULPS sc, a, a; \
	VMULPS Z14, a, a; \
	VMOVUPS a, off(DI); \
	VCMPPS $0x0d, Z15, a, K1; \
	KMOVW K1, R9; \
	MOVL R9, moff(R8)

// func dotI8BlocksVNNI(packed *int8, qscale float32, corr int32, blocks *byte, groups, nblk int, thr float32, out *float32, masks *uint32)
//
// One stream: per block, four accumulators over groups 4k … 4k+3 (the
// dependency chain of one VPDPBUSD is several cycles long), then the
// remaining groups one by one into the first.
TEXT ·dotI8BlocksVNNI(SB), NOSPLIT, $0-64
	MOVQ packed+0(FP), AX
	VBROADCASTSS qscale+8(FP), Z14
	MOVL corr+12(FP), R9
	VPBROADCASTD R9, Z13
	MOVQ blocks+16(FP), SI
	MOVQ groups+24(FP), CX
	MOVQ nblk+32(FP), R12
	VBROADCASTSS thr+40(FP), Z15
	MOVQ out+48(FP), DI
	MOVQ masks+56(FP), R8
v1blk:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ AX, BX
	MOVQ CX, R11
	SHRQ $2, R11
	JZ v1tail
v1loop:
	VMOVDQU32 0(SI), Z4
	VMOVDQU32 64(SI), Z5
	VMOVDQU32 128(SI), Z6
	VMOVDQU32 192(SI), Z7
	VPDPBUSD.BCST 0(BX), Z4, Z0
	VPDPBUSD.BCST 32(BX), Z5, Z1
	VPDPBUSD.BCST 64(BX), Z6, Z2
	VPDPBUSD.BCST 96(BX), Z7, Z3
	ADDQ $128, BX
	ADDQ $256, SI
	DECQ R11
	JNZ v1loop
v1tail:
	MOVQ CX, R11
	ANDQ $3, R11
	JZ v1epi
v1tailloop:
	VMOVDQU32 0(SI), Z4
	VPDPBUSD.BCST 0(BX), Z4, Z0
	ADDQ $32, BX
	ADDQ $64, SI
	DECQ R11
	JNZ v1tailloop
v1epi:
	VPADDD Z1, Z0, Z0
	VPADDD Z3, Z2, Z2
	VPADDD Z2, Z0, Z0
	// SI points at the block's scales now.
	VNNIEPI(Z0, 0(SI), 0, 0)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $4, R8
	DECQ R12
	JNZ v1blk
	VZEROUPPER
	RET

// func dotI8Blocks4VNNI(packed *int8, qscale float32, corr int32, blocks *byte, groups, stride, nblk int, thr float32, out *float32, masks *uint32)
//
// Four streams, as dotI8Blocks4AVX2: block b of stream s is at blocks +
// s·stride (bytes) + b·block size, reported at position 4b+s. Per step two
// groups of every stream, eight accumulators (Z0-Z3 even groups, Z4-Z7 odd
// ones, stream s in Z(s) and Z(4+s)); an odd last group goes to Z0-Z3.
TEXT ·dotI8Blocks4VNNI(SB), NOSPLIT, $0-72
	MOVQ packed+0(FP), AX
	VBROADCASTSS qscale+8(FP), Z14
	MOVL corr+12(FP), R9
	VPBROADCASTD R9, Z13
	MOVQ blocks+16(FP), SI
	MOVQ groups+24(FP), CX
	MOVQ stride+32(FP), R13
	LEAQ (R13)(R13*2), R14 // 3·stride
	MOVQ nblk+40(FP), R12
	VBROADCASTSS thr+48(FP), Z15
	MOVQ out+56(FP), DI
	MOVQ masks+64(FP), R8
v4blk:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ AX, BX
	MOVQ CX, R11
	SHRQ $1, R11
	JZ v4odd
v4loop:
	VPBROADCASTD 0(BX), Z8
	VPBROADCASTD 32(BX), Z9
	VMOVDQU32 0(SI), Z10
	VMOVDQU32 64(SI), Z11
	VPDPBUSD Z8, Z10, Z0
	VPDPBUSD Z9, Z11, Z4
	VMOVDQU32 0(SI)(R13*1), Z10
	VMOVDQU32 64(SI)(R13*1), Z11
	VPDPBUSD Z8, Z10, Z1
	VPDPBUSD Z9, Z11, Z5
	VMOVDQU32 0(SI)(R13*2), Z10
	VMOVDQU32 64(SI)(R13*2), Z11
	VPDPBUSD Z8, Z10, Z2
	VPDPBUSD Z9, Z11, Z6
	VMOVDQU32 0(SI)(R14*1), Z10
	VMOVDQU32 64(SI)(R14*1), Z11
	VPDPBUSD Z8, Z10, Z3
	VPDPBUSD Z9, Z11, Z7
	ADDQ $64, BX
	ADDQ $128, SI
	DECQ R11
	JNZ v4loop
v4odd:
	TESTQ $1, CX
	JZ v4epi
	VPBROADCASTD 0(BX), Z8
	VMOVDQU32 0(SI), Z10
	VMOVDQU32 0(SI)(R13*1), Z11
	VPDPBUSD Z8, Z10, Z0
	VPDPBUSD Z8, Z11, Z1
	VMOVDQU32 0(SI)(R13*2), Z10
	VMOVDQU32 0(SI)(R14*1), Z11
	VPDPBUSD Z8, Z10, Z2
	VPDPBUSD Z8, Z11, Z3
	ADDQ $64, SI
v4epi:
	VPADDD Z4, Z0, Z0
	VPADDD Z5, Z1, Z1
	VPADDD Z6, Z2, Z2
	VPADDD Z7, Z3, Z3
	// SI points at the scales of stream 0's block.
	VNNIEPI(Z0, 0(SI), 0, 0)
	VNNIEPI(Z1, 0(SI)(R13*1), 64, 4)
	VNNIEPI(Z2, 0(SI)(R13*2), 128, 8)
	VNNIEPI(Z3, 0(SI)(R14*1), 192, 12)
	ADDQ $64, SI
	ADDQ $256, DI
	ADDQ $16, R8
	DECQ R12
	JNZ v4blk
	VZEROUPPER
	RET

// func dotI8GroupVNNI(packed *int8, qscales *float32, corrs *int32, block *byte, groups int, thr *float32, out *float32, masks *uint32)
//
// The block's group is loaded once and multiplied by each of the four
// queries' codes (broadcast from the packed group at 0, 32, 64, 96); two
// groups per step, eight accumulators (query j in Z(j) and Z(4+j)).
TEXT ·dotI8GroupVNNI(SB), NOSPLIT, $0-64
	MOVQ packed+0(FP), BX
	MOVQ block+24(FP), SI
	MOVQ groups+32(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ CX, R11
	SHRQ $1, R11
	JZ vgodd
vgloop:
	VMOVDQU32 0(SI), Z8
	VMOVDQU32 64(SI), Z9
	VPDPBUSD.BCST 0(BX), Z8, Z0
	VPDPBUSD.BCST 32(BX), Z8, Z1
	VPDPBUSD.BCST 64(BX), Z8, Z2
	VPDPBUSD.BCST 96(BX), Z8, Z3
	VPDPBUSD.BCST 128(BX), Z9, Z4
	VPDPBUSD.BCST 160(BX), Z9, Z5
	VPDPBUSD.BCST 192(BX), Z9, Z6
	VPDPBUSD.BCST 224(BX), Z9, Z7
	ADDQ $256, BX
	ADDQ $128, SI
	DECQ R11
	JNZ vgloop
vgodd:
	TESTQ $1, CX
	JZ vgepi
	VMOVDQU32 0(SI), Z8
	VPDPBUSD.BCST 0(BX), Z8, Z0
	VPDPBUSD.BCST 32(BX), Z8, Z1
	VPDPBUSD.BCST 64(BX), Z8, Z2
	VPDPBUSD.BCST 96(BX), Z8, Z3
	ADDQ $64, SI
vgepi:
	VPADDD Z4, Z0, Z0
	VPADDD Z5, Z1, Z1
	VPADDD Z6, Z2, Z2
	VPADDD Z7, Z3, Z3
	MOVQ qscales+8(FP), AX
	MOVQ corrs+16(FP), R11
	MOVQ thr+40(FP), R12
	MOVQ out+48(FP), DI
	MOVQ masks+56(FP), R8
	// SI points at the block's scales; query j's scale, correction and
	// threshold are broadcast in turn.
	VBROADCASTSS 0(AX), Z14
	VPBROADCASTD 0(R11), Z13
	VBROADCASTSS 0(R12), Z15
	VNNIEPI(Z0, 0(SI), 0, 0)
	VBROADCASTSS 4(AX), Z14
	VPBROADCASTD 4(R11), Z13
	VBROADCASTSS 4(R12), Z15
	VNNIEPI(Z1, 0(SI), 64, 4)
	VBROADCASTSS 8(AX), Z14
	VPBROADCASTD 8(R11), Z13
	VBROADCASTSS 8(R12), Z15
	VNNIEPI(Z2, 0(SI), 128, 8)
	VBROADCASTSS 12(AX), Z14
	VPBROADCASTD 12(R11), Z13
	VBROADCASTSS 12(R12), Z15
	VNNIEPI(Z3, 0(SI), 192, 12)
	VZEROUPPER
	RET
