//go:build amd64 && !purego

#include "textflag.h"

// func sgemmKernel6x16(k int, a, b, c *float32)
//
// c[0:96] = the 6×16 product of a packed A panel (k steps of 6 values) and
// a packed B panel (k steps of 16 values), row-major. AVX2 + FMA: twelve
// ymm accumulators, two B vectors and a broadcast A value per row.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
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
	TESTQ CX, CX
	JEQ store

loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 8(SI), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 16(SI), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(SI), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNE loop

store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VMOVUPS Y8, 256(DX)
	VMOVUPS Y9, 288(DX)
	VMOVUPS Y10, 320(DX)
	VMOVUPS Y11, 352(DX)
	VZEROUPPER
	RET

// func mulAdd8(dst, a, b *float32, n int)
//
// dst[i] += a[i]·b[i] for i < n, n a multiple of 8 (AVX2 + FMA).
TEXT ·mulAdd8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ done

mloop:
	VMOVUPS (SI), Y0
	VMOVUPS (DI), Y1
	VFMADD231PS (DX), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNE mloop

done:
	VZEROUPPER
	RET

// func sgemmKernel6x16A(k int, a *float32, lda, step int, b, c *float32, ldc int, accumulate bool, bias *float32)
//
// The 6×16 product of A (6 rows, k depths) and a packed 16-wide B panel,
// written straight into a row-major C with row stride ldc (in elements):
// stored, or added to C's values when accumulate is set, and then
// bias[0:16] (unless nil) added to every row. Element (r, l) of A is at
// a[r·lda + l·step]: lda = k's row stride and step 1 read A in place; lda
// 1 and step 6 read a packed panel (sgemmKernel6x16C). The six broadcasts
// of each depth come from two row pointers (rows 0–2 and 3–5) and the row
// stride; the FMA chain of every output element is the same either way.
TEXT ·sgemmKernel6x16A(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	LEAQ (SI)(R9*2), R10
	ADDQ R9, R10
	MOVQ step+24(FP), R11
	SHLQ $2, R11
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
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
	TESTQ CX, CX
	JEQ astore

aloop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(R9*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R9*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R10), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R10)(R9*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R10)(R9*2), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R11, SI
	ADDQ R11, R10
	ADDQ $64, DI
	DECQ CX
	JNE aloop

astore:
	MOVBLZX accumulate+56(FP), AX
	TESTQ AX, AX
	JEQ aput
	VADDPS (DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	ADDQ R8, DX
	VADDPS (DX), Y2, Y2
	VADDPS 32(DX), Y3, Y3
	ADDQ R8, DX
	VADDPS (DX), Y4, Y4
	VADDPS 32(DX), Y5, Y5
	ADDQ R8, DX
	VADDPS (DX), Y6, Y6
	VADDPS 32(DX), Y7, Y7
	ADDQ R8, DX
	VADDPS (DX), Y8, Y8
	VADDPS 32(DX), Y9, Y9
	ADDQ R8, DX
	VADDPS (DX), Y10, Y10
	VADDPS 32(DX), Y11, Y11
	MOVQ c+40(FP), DX

aput:
	MOVQ bias+64(FP), AX
	TESTQ AX, AX
	JEQ aput2
	VMOVUPS (AX), Y12
	VMOVUPS 32(AX), Y13
	VADDPS Y12, Y0, Y0
	VADDPS Y13, Y1, Y1
	VADDPS Y12, Y2, Y2
	VADDPS Y13, Y3, Y3
	VADDPS Y12, Y4, Y4
	VADDPS Y13, Y5, Y5
	VADDPS Y12, Y6, Y6
	VADDPS Y13, Y7, Y7
	VADDPS Y12, Y8, Y8
	VADDPS Y13, Y9, Y9
	VADDPS Y12, Y10, Y10
	VADDPS Y13, Y11, Y11

aput2:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func depthwisePixel(dst, src, f, bias *float32, n, c, kh, kw, rowStride, tapStride, fskip int)
//
// One output pixel of a depthwise convolution (multiplier 1) over a
// kh×kw rectangle of taps that lie inside the input, for channels
// 0..n-1 (n a multiple of 8):
//
//	dst[j] = Σ_{ky<kh, kx<kw} src[ky·rowStride + kx·tapStride + j] · f[ky·(kw·c+fskip) + kx·c + j]  (+ bias[j])
//
// accumulated from zero with one FMA per tap, taps in row-major order;
// fskip skips the filter taps of a row that lie outside the input, and
// bias (nil for none) is added last. Channels go 32 at a time (four
// accumulators), then 8 at a time. kh and kw must be at least 1.
TEXT ·depthwisePixel(SB), NOSPLIT, $0-88
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

blk32:
	MOVQ CX, AX
	SUBQ R12, AX
	CMPQ AX, $128
	JLT blk8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ (SI)(R12*1), R13
	LEAQ (DX)(R12*1), R14
	MOVQ kh+48(FP), AX

ky32:
	MOVQ R13, BX
	MOVQ kw+56(FP), R9

kx32:
	VMOVUPS (R14), Y4
	VMOVUPS 32(R14), Y5
	VMOVUPS 64(R14), Y6
	VMOVUPS 96(R14), Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ R10, BX
	ADDQ R8, R14
	DECQ R9
	JNE kx32
	ADDQ fskip+80(FP), R14
	ADDQ R11, R13
	DECQ AX
	JNE ky32
	MOVQ bias+24(FP), BX
	TESTQ BX, BX
	JEQ put32
	ADDQ R12, BX
	VADDPS (BX), Y0, Y0
	VADDPS 32(BX), Y1, Y1
	VADDPS 64(BX), Y2, Y2
	VADDPS 96(BX), Y3, Y3

put32:
	LEAQ (DI)(R12*1), BX
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, 64(BX)
	VMOVUPS Y3, 96(BX)
	ADDQ $128, R12
	JMP blk32

blk8:
	CMPQ R12, CX
	JGE dwdone
	VXORPS Y0, Y0, Y0
	LEAQ (SI)(R12*1), R13
	LEAQ (DX)(R12*1), R14
	MOVQ kh+48(FP), AX

ky8:
	MOVQ R13, BX
	MOVQ kw+56(FP), R9

kx8:
	VMOVUPS (R14), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ R10, BX
	ADDQ R8, R14
	DECQ R9
	JNE kx8
	ADDQ fskip+80(FP), R14
	ADDQ R11, R13
	DECQ AX
	JNE ky8
	MOVQ bias+24(FP), BX
	TESTQ BX, BX
	JEQ put8
	VADDPS (BX)(R12*1), Y0, Y0

put8:
	VMOVUPS Y0, (DI)(R12*1)
	ADDQ $32, R12
	JMP blk8

dwdone:
	VZEROUPPER
	RET
