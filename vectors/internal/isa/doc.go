// Package isa chooses, once per process, the instruction-set level the
// vector kernels (vectors/internal/scan, vectors/internal/nn) run at.
//
// # Levels
//
//   - [Generic]: the portable Go twins, on every CPU and under the purego
//     build tag.
//   - [AVX2]: amd64 with AVX2 and FMA3 (every Intel and AMD CPU Nitro
//     enclaves run on).
//   - [AVX512]: amd64 with AVX-512 F, BW, DQ and VL (Intel Xeon since
//     Skylake-SP, AMD EPYC since Zen 4). [HasVNNI] says whether AVX-512
//     VNNI (int8 dot products) is there too.
//
// A kernel family uses its best path at or below [Selected]: a family with
// no AVX-512 path runs its AVX2 path at level AVX512.
//
// # FACESIGN_CPU
//
// [Selected] is [Detected] unless the environment variable FACESIGN_CPU
// ([EnvVar]) names a level ("generic", "avx2", "avx512"), which then caps
// it — so tests and operators can run a slower path on a machine that has
// a faster one. The variable is read once, when the package initialises
// (process start); changing it later has no effect. A value that is not a
// level ([ErrUnknownLevel]) or names a level this CPU or build lacks
// ([ErrUnsupported]) makes [EnvError] non-nil and [Selected] fall back to
// [Generic], which is correct everywhere; the binaries check [EnvError] at
// start and refuse to run, so a mistyped or impossible setting is never
// silently ignored.
//
// Results: the scan kernels give bit-identical scores at every level. The
// nn kernels (GEMM, depthwise, ReLU/PReLU) have AVX2 and AVX-512 paths
// that give bit-identical results; the Go twins agree with them to float32
// rounding (their tests bound the difference), so face vectors made at
// [Generic] and at a vector level differ in the last bits only.
package isa
