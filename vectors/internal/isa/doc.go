// Package isa chooses, once per process, the instruction-set level the
// vector kernels (vectors/internal/scan, vectors/internal/nn) run at.
//
// # Levels
//
//   - [Generic]: the portable Go twins, on every CPU and under the purego
//     build tag (and the only level on architectures other than amd64 and
//     arm64).
//   - [AVX2]: amd64 with AVX2 and FMA3 (every Intel and AMD CPU Nitro
//     enclaves run on).
//   - [AVX512]: amd64 with AVX-512 F, BW, DQ and VL (Intel Xeon since
//     Skylake-SP, AMD EPYC since Zen 4). [HasVNNI] says whether AVX-512
//     VNNI (int8 dot products) is there too.
//   - [NEON]: arm64 Advanced SIMD with its fused multiply-add, part of
//     every ARMv8-A CPU (AWS Graviton included), so always detected there.
//
// The levels of one architecture are ordered (AVX2 < AVX512); levels of
// different architectures never apply together: on arm64 the levels are
// generic and neon, on amd64 generic, avx2 and avx512. A kernel family uses
// its best path at or below [Selected]: a family with no AVX-512 path runs
// its AVX2 path at level AVX512.
//
// # FACESIGN_CPU
//
// [Selected] is [Detected] unless the environment variable FACESIGN_CPU
// ([EnvVar]) names a level ("generic", "avx2", "avx512", "neon"), which then
// caps it — so tests and operators can run a slower path on a machine that has
// a faster one. The variable is read once, when the package initialises
// (process start); changing it later has no effect. A value that is not a
// level ([ErrUnknownLevel]) or names a level this CPU or build lacks
// ([ErrUnsupported]: "neon" on amd64, "avx2" on arm64 too) makes [EnvError] non-nil and [Selected] fall back to
// [Generic], which is correct everywhere; the binaries check [EnvError] at
// start and refuse to run, so a mistyped or impossible setting is never
// silently ignored.
//
// Results: the scan kernels give bit-identical scores at every level; the
// nn assembly kernels (GEMM, depthwise, ReLU/PReLU) are bit-identical
// between AVX2, AVX-512 and NEON (one chain of fused multiply-adds per
// output, in one order) and agree with the generic Go path to float32
// rounding (their tests bound the difference), so face vectors made on
// different levels differ in the last bits only.
package isa
