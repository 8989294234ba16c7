//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 kernels of level isa.AVX512 (F, BW, DQ, VL). Each computes
// every output element with the same FMA chain, in the same order, as its
// AVX2 twin in sgemm_amd64.s, so the results are bit-identical to it.

// One depth step l of the 12×16 tile: B's 16 values (a zmm) times each
// row's A value a[r·lda + l], broadcast from memory. Rows 0–2 are read
// through SI, 3–5 through R9, 6–8 through R10 and 9–11 through R11, each
// base plus 0, 1 or 2 times lda (R8, in bytes).
#define STEP12(boff, aoff) \
	VMOVUPS boff(DI), Z12; \
	VFMADD231PS.BCST aoff(SI), Z12, Z0; \
	VFMADD231PS.BCST aoff(SI)(R8*1), Z12, Z1; \
	VFMADD231PS.BCST aoff(SI)(R8*2), Z12, Z2; \
	VFMADD231PS.BCST aoff(R9), Z12, Z3; \
	VFMADD231PS.BCST aoff(R9)(R8*1), Z12, Z4; \
	VFMADD231PS.BCST aoff(R9)(R8*2), Z12, Z5; \
	VFMADD231PS.BCST aoff(R10), Z12, Z6; \
	VFMADD231PS.BCST aoff(R10)(R8*1), Z12, Z7; \
	VFMADD231PS.BCST aoff(R10)(R8*2), Z12, Z8; \
	VFMADD231PS.BCST aoff(R11), Z12, Z9; \
	VFMADD231PS.BCST aoff(R11)(R8*1), Z12, Z10; \
	VFMADD231PS.BCST aoff(R11)(R8*2), Z12, Z11

// Finish one row of the tile: add C's values (K2: the columns, or none
// when not accumulating), then the bias in Z13 (K3: the columns, or none),
// store the columns (K1); stop after the last row, else step to the next.
#define PUTROW(acc) \
	VADDPS (DX), acc, K2, acc; \
	VADDPS Z13, acc, K3, acc; \
	VMOVUPS acc, K1, (DX); \
	DECQ BX; \
	JEQ zdone; \
	ADDQ R12, DX

// func sgemmKernel12x16Z(k int, a *float32, lda int, b, c *float32, ldc, rows, mask int, accumulate bool, bias *float32)
//
// The 12×16 product of 12 rows of a row-major A (row stride lda elements,
// k values each, read in place: A is not packed) and one packed B panel (k
// steps of 16 values, see packB), accumulated from zero with one FMA per
// depth step. Its first rows rows (1–12) and the columns whose bits are
// set in mask (bit j: column j, the low bits, at least one) are written to
// the row-major C (row stride ldc): stored, or added to C's values when
// accumulate is set, and then bias[j] (unless bias is nil) added — the
// operations and order of sgemmKernel6x16C and of gemmPackedB's edge
// tiles. All 12 rows of A must be readable; other columns and rows of C
// are neither read nor written.
TEXT ·sgemmKernel12x16Z(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ b+24(FP), DI
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	LEAQ (R9)(R8*2), R10
	ADDQ R8, R10
	LEAQ (R10)(R8*2), R11
	ADDQ R8, R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	CMPQ CX, $4
	JLT  zone

zfour:
	STEP12(0, 0)
	STEP12(64, 4)
	STEP12(128, 8)
	STEP12(192, 12)
	ADDQ $256, DI
	ADDQ $16, SI
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  zfour

zone:
	TESTQ CX, CX
	JEQ   zput
	STEP12(0, 0)
	ADDQ $64, DI
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ CX
	JMP  zone

zput:
	MOVQ    mask+56(FP), AX
	KMOVW   AX, K1
	XORQ    CX, CX
	MOVBLZX accumulate+64(FP), R13
	TESTQ   R13, R13
	CMOVQNE AX, CX
	KMOVW   CX, K2
	VPXORD  Z13, Z13, Z13
	XORQ    CX, CX
	MOVQ    bias+72(FP), R13
	TESTQ   R13, R13
	JEQ     znobias
	VMOVUPS.Z (R13), K1, Z13
	MOVQ    AX, CX

znobias:
	KMOVW CX, K3
	MOVQ  c+32(FP), DX
	MOVQ  ldc+40(FP), R12
	SHLQ  $2, R12
	MOVQ  rows+48(FP), BX
	PUTROW(Z0)
	PUTROW(Z1)
	PUTROW(Z2)
	PUTROW(Z3)
	PUTROW(Z4)
	PUTROW(Z5)
	PUTROW(Z6)
	PUTROW(Z7)
	PUTROW(Z8)
	PUTROW(Z9)
	PUTROW(Z10)
	PUTROW(Z11)

zdone:
	VZEROUPPER
	RET

// func depthwisePixelZ(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int)
//
// depthwisePixel (sgemm_amd64.s) for any n ≥ 1: channels go 64 at a time
// (four zmm accumulators), then 16 at a time, then 8 (a ymm), and the last
// 1–7 as the top 16 channels again (n ≥ 16) or under a K mask (n < 16),
// so there is no channel tail left to the caller. Same FMAs in the same
// order per channel (one per tap, row-major, from zero, bias added last).
TEXT ·depthwisePixelZ(SB), NOSPLIT, $0-88
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ f+16(FP), DX
	MOVQ n+32(FP), CX
	SHLQ $2, CX
	MOVQ c+40(FP), R8
	SHLQ $2, R8
	MOVQ rowStride+64(FP), R11
	SHLQ $2, R11
	MOVQ tapStride+72(FP), R10
	SHLQ $2, R10
	MOVQ fskip+80(FP), BX
	SHLQ $2, BX
	MOVQ BX, fskip+80(FP)
	XORQ R12, R12

zblk64:
	MOVQ CX, AX
	SUBQ R12, AX
	CMPQ AX, $256
	JLT  zblk16
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	LEAQ (SI)(R12*1), R13
	LEAQ (DX)(R12*1), R14
	MOVQ kh+48(FP), AX

zky64:
	MOVQ R13, BX
	MOVQ kw+56(FP), R9

zkx64:
	VMOVUPS (R14), Z4
	VMOVUPS 64(R14), Z5
	VMOVUPS 128(R14), Z6
	VMOVUPS 192(R14), Z7
	VFMADD231PS (BX), Z4, Z0
	VFMADD231PS 64(BX), Z5, Z1
	VFMADD231PS 128(BX), Z6, Z2
	VFMADD231PS 192(BX), Z7, Z3
	ADDQ R10, BX
	ADDQ R8, R14
	DECQ R9
	JNE  zkx64
	ADDQ fskip+80(FP), R14
	ADDQ R11, R13
	DECQ AX
	JNE  zky64
	MOVQ bias+24(FP), BX
	TESTQ BX, BX
	JEQ  zput64
	ADDQ R12, BX
	VADDPS (BX), Z0, Z0
	VADDPS 64(BX), Z1, Z1
	VADDPS 128(BX), Z2, Z2
	VADDPS 192(BX), Z3, Z3

zput64:
	LEAQ (DI)(R12*1), BX
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	VMOVUPS Z2, 128(BX)
	VMOVUPS Z3, 192(BX)
	ADDQ $256, R12
	JMP  zblk64

zblk16:
	// K1: the channels of this block: 16; 8 or more left go to zblk8;
	// the last 1–7 when n < 16 under the mask. When n ≥ 16 the last 1–7
	// are instead the top 16 channels, overlapping the previous block
	// (the same values written twice): masked loads and stores are slower.
	MOVQ CX, AX
	SUBQ R12, AX
	JLE  zdwdone
	SHRQ $2, AX
	MOVL $0xffff, BX
	CMPQ AX, $16
	JGE  zmask
	CMPQ AX, $8
	JGE  zblk8
	CMPQ CX, $64
	JLT  zpartial
	MOVQ CX, R12
	SUBQ $64, R12
	JMP  zmask

zpartial:
	MOVQ CX, R9
	MOVQ $16, CX
	SUBQ AX, CX
	SHRL CX, BX
	MOVQ R9, CX

zmask:
	KMOVW BX, K1
	VPXORD Z0, Z0, Z0
	LEAQ (SI)(R12*1), R13
	LEAQ (DX)(R12*1), R14
	MOVQ kh+48(FP), AX

zky16:
	MOVQ R13, BX
	MOVQ kw+56(FP), R9

zkx16:
	VMOVUPS.Z (R14), K1, Z4
	VFMADD231PS (BX), Z4, K1, Z0
	ADDQ R10, BX
	ADDQ R8, R14
	DECQ R9
	JNE  zkx16
	ADDQ fskip+80(FP), R14
	ADDQ R11, R13
	DECQ AX
	JNE  zky16
	MOVQ bias+24(FP), BX
	TESTQ BX, BX
	JEQ  zput16
	VADDPS (BX)(R12*1), Z0, K1, Z0

zput16:
	VMOVUPS Z0, K1, (DI)(R12*1)
	ADDQ $64, R12
	JMP  zblk16

zblk8:
	// Eight channels in a ymm register (AVX-512 VL encodings not needed:
	// this is depthwisePixel's 8-channel block).
	VXORPS Y0, Y0, Y0
	LEAQ (SI)(R12*1), R13
	LEAQ (DX)(R12*1), R14
	MOVQ kh+48(FP), AX

zky8:
	MOVQ R13, BX
	MOVQ kw+56(FP), R9

zkx8:
	VMOVUPS (R14), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ R10, BX
	ADDQ R8, R14
	DECQ R9
	JNE  zkx8
	ADDQ fskip+80(FP), R14
	ADDQ R11, R13
	DECQ AX
	JNE  zky8
	MOVQ bias+24(FP), BX
	TESTQ BX, BX
	JEQ  zput8
	VADDPS (BX)(R12*1), Y0, Y0

zput8:
	VMOVUPS Y0, (DI)(R12*1)
	ADDQ $32, R12
	JMP  zblk16

zdwdone:
	VZEROUPPER
	RET

// func actRowZ(row, bias, slopes *float32, n int)
//
// actRow (act_amd64.s) with zmm registers: sixteen lanes at a time, the
// last 1–15 under a K mask. The lanes with v < 0 (the Go loop's test,
// VCMPPS into K2) get v·s (PReLU, the same VMULPS) or +0 (ReLU); the
// others keep v: bit-identical to the Go loop and to actRow, NaN, ±Inf
// and -0 included. n ≥ 1.
TEXT ·actRowZ(SB), NOSPLIT, $0-32
	MOVQ   row+0(FP), DI
	MOVQ   bias+8(FP), SI
	MOVQ   slopes+16(FP), DX
	MOVQ   n+24(FP), CX
	VPXORD Z15, Z15, Z15
	MOVL   $0xffff, AX
	KMOVW  AX, K1

zaloop:
	CMPQ CX, $16
	JGE  zafull
	TESTQ CX, CX
	JEQ  zadone
	MOVQ CX, R9
	MOVL $0xffff, AX
	MOVQ $16, CX
	SUBQ R9, CX
	SHRL CX, AX
	MOVQ R9, CX
	KMOVW AX, K1
	MOVQ $16, CX

zafull:
	VMOVUPS.Z (DI), K1, Z0
	TESTQ SI, SI
	JEQ  zanobias
	VADDPS (SI), Z0, K1, Z0
	ADDQ $64, SI

zanobias:
	VCMPPS $1, Z15, Z0, K1, K2
	TESTQ DX, DX
	JEQ  zarelu
	VMULPS (DX), Z0, K2, Z0
	ADDQ $64, DX
	JMP  zastore

zarelu:
	VMOVAPS Z15, K2, Z0

zastore:
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  zaloop

zadone:
	VZEROUPPER
	RET
