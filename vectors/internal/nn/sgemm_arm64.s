//go:build arm64 && !purego

#include "textflag.h"

// NEON (Advanced SIMD) kernels of the nn package: the arm64 twins of
// sgemm_amd64.s, with the same packing and the same arithmetic contract —
// every output element is a chain of fused multiply-adds (VFMLA) in the
// order the AVX2 kernels use, so both are bit-identical to the Go twins of
// kernel_exact_test.go (an exact float32 FMA, scan.FMA32, in that order).
//
// The Go assembler has no vector FADD, FMUL or FCMLT; they are written as
// WORDs (encodings from the Arm ARM, checked with llvm-mc and Go's
// disassembler). Register numbers are arguments:
//
//	FADD4S(m, n, d)  FADD  Vd.4S, Vn.4S, Vm.4S   0x4E20D400 | m<<16 | n<<5 | d
//	FMUL4S(m, n, d)  FMUL  Vd.4S, Vn.4S, Vm.4S   0x6E20DC00 | m<<16 | n<<5 | d
//	FCMLT4S(n, d)    FCMLT Vd.4S, Vn.4S, #0.0    0x4EA0E800 | n<<5 | d
#define FADD4S(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FCMLT4S(n, d) WORD $(0x4EA0E800 | (n)<<5 | (d))

// func sgemmKernel6x16(k int, a, b, c *float32)
//
// c[0:96] = the 6×16 product of a packed A panel (k steps of 6 values) and
// a packed B panel (k steps of 16 values), row-major. 24 accumulators
// V0–V23 (row r in V4r…V4r+3), the B step in V24–V27, each A value
// broadcast by VLD1R into V28–V31.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-32
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CBZ R0, store

loop:
	VLD1.P 64(R2), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1R.P 4(R1), [V28.S4]
	VFMLA V24.S4, V28.S4, V0.S4
	VFMLA V25.S4, V28.S4, V1.S4
	VFMLA V26.S4, V28.S4, V2.S4
	VFMLA V27.S4, V28.S4, V3.S4
	VLD1R.P 4(R1), [V29.S4]
	VFMLA V24.S4, V29.S4, V4.S4
	VFMLA V25.S4, V29.S4, V5.S4
	VFMLA V26.S4, V29.S4, V6.S4
	VFMLA V27.S4, V29.S4, V7.S4
	VLD1R.P 4(R1), [V30.S4]
	VFMLA V24.S4, V30.S4, V8.S4
	VFMLA V25.S4, V30.S4, V9.S4
	VFMLA V26.S4, V30.S4, V10.S4
	VFMLA V27.S4, V30.S4, V11.S4
	VLD1R.P 4(R1), [V31.S4]
	VFMLA V24.S4, V31.S4, V12.S4
	VFMLA V25.S4, V31.S4, V13.S4
	VFMLA V26.S4, V31.S4, V14.S4
	VFMLA V27.S4, V31.S4, V15.S4
	VLD1R.P 4(R1), [V28.S4]
	VFMLA V24.S4, V28.S4, V16.S4
	VFMLA V25.S4, V28.S4, V17.S4
	VFMLA V26.S4, V28.S4, V18.S4
	VFMLA V27.S4, V28.S4, V19.S4
	VLD1R.P 4(R1), [V29.S4]
	VFMLA V24.S4, V29.S4, V20.S4
	VFMLA V25.S4, V29.S4, V21.S4
	VFMLA V26.S4, V29.S4, V22.S4
	VFMLA V27.S4, V29.S4, V23.S4
	SUBS $1, R0, R0
	BNE loop

store:
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R3)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R3)
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R3)
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R3)
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R3)
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], 64(R3)
	RET

// func sgemmKernel6x16C(k int, a, b, c *float32, ldc int, accumulate bool, bias *float32)
//
// The 6×16 product of sgemmKernel6x16, written straight into a row-major C
// with row stride ldc (in elements): stored, or added to C's values when
// accumulate is set, and then bias[0:16] (unless nil) added to every row —
// per element (product + C) + bias, as the AVX2 kernel does.
TEXT ·sgemmKernel6x16C(SB), NOSPLIT, $0-56
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	LSL $2, R4, R4
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CBZ R0, cstore

cloop:
	VLD1.P 64(R2), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1R.P 4(R1), [V28.S4]
	VFMLA V24.S4, V28.S4, V0.S4
	VFMLA V25.S4, V28.S4, V1.S4
	VFMLA V26.S4, V28.S4, V2.S4
	VFMLA V27.S4, V28.S4, V3.S4
	VLD1R.P 4(R1), [V29.S4]
	VFMLA V24.S4, V29.S4, V4.S4
	VFMLA V25.S4, V29.S4, V5.S4
	VFMLA V26.S4, V29.S4, V6.S4
	VFMLA V27.S4, V29.S4, V7.S4
	VLD1R.P 4(R1), [V30.S4]
	VFMLA V24.S4, V30.S4, V8.S4
	VFMLA V25.S4, V30.S4, V9.S4
	VFMLA V26.S4, V30.S4, V10.S4
	VFMLA V27.S4, V30.S4, V11.S4
	VLD1R.P 4(R1), [V31.S4]
	VFMLA V24.S4, V31.S4, V12.S4
	VFMLA V25.S4, V31.S4, V13.S4
	VFMLA V26.S4, V31.S4, V14.S4
	VFMLA V27.S4, V31.S4, V15.S4
	VLD1R.P 4(R1), [V28.S4]
	VFMLA V24.S4, V28.S4, V16.S4
	VFMLA V25.S4, V28.S4, V17.S4
	VFMLA V26.S4, V28.S4, V18.S4
	VFMLA V27.S4, V28.S4, V19.S4
	VLD1R.P 4(R1), [V29.S4]
	VFMLA V24.S4, V29.S4, V20.S4
	VFMLA V25.S4, V29.S4, V21.S4
	VFMLA V26.S4, V29.S4, V22.S4
	VFMLA V27.S4, V29.S4, V23.S4
	SUBS $1, R0, R0
	BNE cloop

cstore:
	MOVBU accumulate+40(FP), R5
	CBZ R5, cbias
	MOVD R3, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 0, 0)
	FADD4S(25, 1, 1)
	FADD4S(26, 2, 2)
	FADD4S(27, 3, 3)
	ADD R4, R7, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 4, 4)
	FADD4S(25, 5, 5)
	FADD4S(26, 6, 6)
	FADD4S(27, 7, 7)
	ADD R4, R7, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 8, 8)
	FADD4S(25, 9, 9)
	FADD4S(26, 10, 10)
	FADD4S(27, 11, 11)
	ADD R4, R7, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 12, 12)
	FADD4S(25, 13, 13)
	FADD4S(26, 14, 14)
	FADD4S(27, 15, 15)
	ADD R4, R7, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 16, 16)
	FADD4S(25, 17, 17)
	FADD4S(26, 18, 18)
	FADD4S(27, 19, 19)
	ADD R4, R7, R7
	VLD1 (R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 20, 20)
	FADD4S(25, 21, 21)
	FADD4S(26, 22, 22)
	FADD4S(27, 23, 23)

cbias:
	MOVD bias+48(FP), R6
	CBZ R6, cput
	VLD1 (R6), [V24.S4, V25.S4, V26.S4, V27.S4]
	FADD4S(24, 0, 0)
	FADD4S(25, 1, 1)
	FADD4S(26, 2, 2)
	FADD4S(27, 3, 3)
	FADD4S(24, 4, 4)
	FADD4S(25, 5, 5)
	FADD4S(26, 6, 6)
	FADD4S(27, 7, 7)
	FADD4S(24, 8, 8)
	FADD4S(25, 9, 9)
	FADD4S(26, 10, 10)
	FADD4S(27, 11, 11)
	FADD4S(24, 12, 12)
	FADD4S(25, 13, 13)
	FADD4S(26, 14, 14)
	FADD4S(27, 15, 15)
	FADD4S(24, 16, 16)
	FADD4S(25, 17, 17)
	FADD4S(26, 18, 18)
	FADD4S(27, 19, 19)
	FADD4S(24, 20, 20)
	FADD4S(25, 21, 21)
	FADD4S(26, 22, 22)
	FADD4S(27, 23, 23)

cput:
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R3)
	ADD R4, R3, R3
	VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R3)
	ADD R4, R3, R3
	VST1 [V8.S4, V9.S4, V10.S4, V11.S4], (R3)
	ADD R4, R3, R3
	VST1 [V12.S4, V13.S4, V14.S4, V15.S4], (R3)
	ADD R4, R3, R3
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R3)
	ADD R4, R3, R3
	VST1 [V20.S4, V21.S4, V22.S4, V23.S4], (R3)
	RET

// func mulAdd8(dst, a, b *float32, n int)
//
// dst[i] += a[i]·b[i] for i < n, n a multiple of 8, one fused multiply-add
// per element (as VFMADD231PS on amd64).
TEXT ·mulAdd8(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD n+24(FP), R3
	LSR $3, R3, R3
	CBZ R3, mdone

mloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 32(R2), [V2.S4, V3.S4]
	VLD1 (R0), [V4.S4, V5.S4]
	VFMLA V0.S4, V2.S4, V4.S4
	VFMLA V1.S4, V3.S4, V5.S4
	VST1.P [V4.S4, V5.S4], 32(R0)
	SUBS $1, R3, R3
	BNE mloop

mdone:
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
// bias (nil for none) is added last — the contract of the AVX2 kernel.
// Channels go 32 at a time (eight accumulators V0–V7), then 8 at a time
// (V0–V1). kh and kw must be at least 1.
//
// Registers: R0 dst, R1 src, R2 f, R3 bias, R4 n (bytes), R5 c (bytes),
// R6 rowStride (bytes), R7 tapStride (bytes), R8 fskip (bytes), R9 the
// channel offset (bytes), R10/R11 the src/filter row, R12 the src tap,
// R13 scratch, R14/R15 the ky/kx counters.
TEXT ·depthwisePixel(SB), NOSPLIT, $0-88
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD f+16(FP), R2
	MOVD bias+24(FP), R3
	MOVD n+32(FP), R4
	LSL $2, R4, R4
	MOVD c+40(FP), R5
	LSL $2, R5, R5
	MOVD rowStride+64(FP), R6
	LSL $2, R6, R6
	MOVD tapStride+72(FP), R7
	LSL $2, R7, R7
	MOVD fskip+80(FP), R8
	LSL $2, R8, R8
	MOVD ZR, R9

blk32:
	SUB R9, R4, R10
	CMP $128, R10
	BLT blk8
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	ADD R9, R1, R10
	ADD R9, R2, R11
	MOVD kh+48(FP), R14

ky32:
	MOVD R10, R12
	MOVD kw+56(FP), R15

kx32:
	VLD1 (R11), [V8.S4, V9.S4, V10.S4, V11.S4]
	ADD $64, R11, R13
	VLD1 (R13), [V12.S4, V13.S4, V14.S4, V15.S4]
	VLD1 (R12), [V16.S4, V17.S4, V18.S4, V19.S4]
	ADD $64, R12, R13
	VLD1 (R13), [V20.S4, V21.S4, V22.S4, V23.S4]
	VFMLA V8.S4, V16.S4, V0.S4
	VFMLA V9.S4, V17.S4, V1.S4
	VFMLA V10.S4, V18.S4, V2.S4
	VFMLA V11.S4, V19.S4, V3.S4
	VFMLA V12.S4, V20.S4, V4.S4
	VFMLA V13.S4, V21.S4, V5.S4
	VFMLA V14.S4, V22.S4, V6.S4
	VFMLA V15.S4, V23.S4, V7.S4
	ADD R5, R11, R11
	ADD R7, R12, R12
	SUBS $1, R15, R15
	BNE kx32
	ADD R8, R11, R11
	ADD R6, R10, R10
	SUBS $1, R14, R14
	BNE ky32
	CBZ R3, put32
	ADD R9, R3, R12
	VLD1.P 64(R12), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1 (R12), [V12.S4, V13.S4, V14.S4, V15.S4]
	FADD4S(8, 0, 0)
	FADD4S(9, 1, 1)
	FADD4S(10, 2, 2)
	FADD4S(11, 3, 3)
	FADD4S(12, 4, 4)
	FADD4S(13, 5, 5)
	FADD4S(14, 6, 6)
	FADD4S(15, 7, 7)

put32:
	ADD R9, R0, R12
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R12)
	VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R12)
	ADD $128, R9, R9
	B blk32

blk8:
	CMP R4, R9
	BGE dwdone
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	ADD R9, R1, R10
	ADD R9, R2, R11
	MOVD kh+48(FP), R14

ky8:
	MOVD R10, R12
	MOVD kw+56(FP), R15

kx8:
	VLD1 (R11), [V8.S4, V9.S4]
	VLD1 (R12), [V16.S4, V17.S4]
	VFMLA V8.S4, V16.S4, V0.S4
	VFMLA V9.S4, V17.S4, V1.S4
	ADD R5, R11, R11
	ADD R7, R12, R12
	SUBS $1, R15, R15
	BNE kx8
	ADD R8, R11, R11
	ADD R6, R10, R10
	SUBS $1, R14, R14
	BNE ky8
	CBZ R3, put8
	ADD R9, R3, R12
	VLD1 (R12), [V8.S4, V9.S4]
	FADD4S(8, 0, 0)
	FADD4S(9, 1, 1)

put8:
	ADD R9, R0, R12
	VST1 [V0.S4, V1.S4], (R12)
	ADD $32, R9, R9
	B blk8

dwdone:
	RET
