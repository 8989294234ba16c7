//go:build arm64 && !purego

package isa

// Advanced SIMD (ASIMD, "NEON") with fused multiply-add is part of every
// ARMv8-A CPU (Graviton included), so there is nothing to probe.
func detect() (Level, bool) { return NEON, false }
