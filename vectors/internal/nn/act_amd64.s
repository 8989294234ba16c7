//go:build amd64 && !purego

#include "textflag.h"

// func actRow(row, bias, slopes *float32, n int)
//
// row[i] = a(row[i] + bias[i]) for i < n, where a(v) = max(v, 0) +
// slopes[i]·min(v, 0): PReLU with per-channel slopes, or ReLU when slopes
// is nil. bias may be nil (nothing added). AVX2: eight lanes at a time,
// then one at a time. Each lane is chosen by the sign test v < 0 the Go
// loop makes (VCMPPS, then a blend of v and v·s, or a mask for ReLU), so
// the results are bit-identical to it, NaN, ±Inf and -0 included.
TEXT ·actRow(SB), NOSPLIT, $0-32
	MOVQ row+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ slopes+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15

loop8:
	CMPQ CX, $8
	JLT  tail
	VMOVUPS (DI), Y0
	TESTQ SI, SI
	JEQ  nobias8
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI

nobias8:
	VCMPPS $1, Y15, Y0, Y2 // lanes with v < 0
	TESTQ DX, DX
	JEQ  relu8
	VMULPS (DX), Y0, Y3
	VBLENDVPS Y2, Y3, Y0, Y1 // v < 0 ? v·s : v
	ADDQ $32, DX
	JMP  store8

relu8:
	VANDNPS Y0, Y2, Y1 // v < 0 ? 0 : v

store8:
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  loop8

tail:
	TESTQ CX, CX
	JEQ  done
	VMOVSS (DI), X0
	TESTQ SI, SI
	JEQ  nobias1
	VADDSS (SI), X0, X0
	ADDQ $4, SI

nobias1:
	VCMPPS $1, X15, X0, X2
	TESTQ DX, DX
	JEQ  relu1
	VMOVSS (DX), X3
	VMULSS X3, X0, X3
	VBLENDVPS X2, X3, X0, X1
	ADDQ $4, DX
	JMP  store1

relu1:
	VANDNPS X0, X2, X1

store1:
	VMOVSS X1, (DI)
	ADDQ $4, DI
	DECQ CX
	JMP  tail

done:
	VZEROUPPER
	RET
