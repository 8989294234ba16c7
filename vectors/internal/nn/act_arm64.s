//go:build arm64 && !purego

#include "textflag.h"

// Vector FADD, FMUL and FCMLT as WORDs (the Go assembler lacks them); see
// sgemm_arm64.s for the encodings.
#define FADD4S(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FCMLT4S(n, d) WORD $(0x4EA0E800 | (n)<<5 | (d))

// func actRow(row, bias, slopes *float32, n int)
//
// row[i] = a(row[i] + bias[i]) for i < n, where a(v) = v·slopes[i] if
// v < 0, else v: PReLU with per-channel slopes, or ReLU (0 if v < 0) when
// slopes is nil. bias may be nil (nothing added). NEON: four lanes at a
// time, then one lane at a time with the same vector instructions (only
// lane 0 stored). Each lane is chosen by the sign test v < 0 the Go loop
// makes (FCMLT #0, then BSL of v·s or 0 against v), so the results are
// bit-identical to it, NaN, ±Inf and -0 included.
TEXT ·actRow(SB), NOSPLIT, $0-32
	MOVD row+0(FP), R0
	MOVD bias+8(FP), R1
	MOVD slopes+16(FP), R2
	MOVD n+24(FP), R3
	VEOR V31.B16, V31.B16, V31.B16

loop4:
	CMP $4, R3
	BLT tail
	VLD1 (R0), [V0.S4]
	CBZ R1, nobias4
	VLD1.P 16(R1), [V1.S4]
	FADD4S(1, 0, 0)

nobias4:
	FCMLT4S(0, 2) // V2: lanes with v < 0
	CBZ R2, relu4
	VLD1.P 16(R2), [V3.S4]
	FMUL4S(3, 0, 3)
	VBSL V0.B16, V3.B16, V2.B16 // v < 0 ? v·s : v
	B store4

relu4:
	VBSL V0.B16, V31.B16, V2.B16 // v < 0 ? 0 : v

store4:
	VST1.P [V2.S4], 16(R0)
	SUB $4, R3, R3
	B loop4

tail:
	CBZ R3, done
	FMOVS (R0), F0
	CBZ R1, nobias1
	FMOVS.P 4(R1), F1
	FADD4S(1, 0, 0)

nobias1:
	FCMLT4S(0, 2)
	CBZ R2, relu1
	FMOVS.P 4(R2), F3
	FMUL4S(3, 0, 3)
	VBSL V0.B16, V3.B16, V2.B16
	B store1

relu1:
	VBSL V0.B16, V31.B16, V2.B16

store1:
	FMOVS.P F2, 4(R0)
	SUB $1, R3, R3
	B tail

done:
	RET
