//go:build purego || (!amd64 && !arm64)

package scan

import "github.com/facesign/facesign/vectors/internal/isa"

// setLevel is a no-op: only the Go twins exist here ([isa.Generic]).
func setLevel(isa.Level) isa.Level { return isa.Generic }

// Accel names the kernel set in use: always "go" here ("avx2" and "neon"
// are the amd64 and arm64 kernel sets).
func Accel() string { return "go" }

func dotF32Blocks(q, blocks []float32, nblk int, thr float32, out []float32, masks []uint32) {
	dotF32BlocksGeneric(q, blocks, nblk, thr, out, masks)
}

func dotF32Blocks4(q, blocks []float32, stride, nblk int, thr float32, out []float32, masks []uint32) {
	dotF32Blocks4Generic(q, blocks, stride, nblk, thr, out, masks)
}

func dotF32Group(qp, block []float32, dim int, thr *[F32Group]float32, out *[F32Group * Lanes]float32, masks *[F32Group]uint32) {
	dotF32GroupGeneric(qp, block, dim, thr, out, masks)
}

func dotI8Blocks(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
	dotI8BlocksGeneric(q, blocks, groups, nblk, thr, out, masks)
}

func dotI8Blocks4(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
	dotI8Blocks4Generic(q, blocks, groups, stride, nblk, thr, out, masks)
}

func dotI8Group(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
	dotI8GroupGeneric(qg, block, groups, thr, out, masks)
}

func dotF32(a, b []float32) float32 { return dotF32Generic(a, b) }

func read(buf []byte) uint64 { return readGeneric(buf) }
