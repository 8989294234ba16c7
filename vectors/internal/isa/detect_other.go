//go:build (!amd64 && !arm64) || purego

package isa

// Only the Go twins exist here (and under purego everywhere).
func detect() (Level, bool) { return Generic, false }
