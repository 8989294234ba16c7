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
