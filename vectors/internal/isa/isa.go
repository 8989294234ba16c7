package isa

import (
	"errors"
	"fmt"
	"os"
)

// Level is an instruction-set level of the vector kernels. [Generic] runs
// everywhere; every other level belongs to one architecture, and the levels
// of an architecture are ordered: a CPU that supports one supports every
// lower one of its architecture (and [Generic]). Levels of different
// architectures are not comparable.
type Level uint8

// The levels: Generic, then amd64's lowest first, then arm64's.
const (
	Generic Level = iota
	AVX2          // amd64: AVX2 + FMA3
	AVX512        // amd64: AVX-512 F, BW, DQ, VL
	NEON          // arm64: Advanced SIMD (ASIMD), mandatory in ARMv8-A
)

// arch is the architecture each level belongs to ("" for Generic).
var arch = [...]string{Generic: "", AVX2: "amd64", AVX512: "amd64", NEON: "arm64"}

// EnvVar is the environment variable that caps [Selected].
const EnvVar = "FACESIGN_CPU"

var names = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

// String is the level's FACESIGN_CPU spelling.
func (l Level) String() string {
	if int(l) < len(names) {
		return names[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

var (
	// ErrUnknownLevel reports a FACESIGN_CPU value that names no level.
	ErrUnknownLevel = errors.New("isa: unknown kernel level")
	// ErrUnsupported reports a level this CPU (or this build) cannot run.
	ErrUnsupported = errors.New("isa: kernel level not supported here")
)

// Parse reads a level's name ("generic", "avx2", "avx512", "neon"), whatever
// the architecture.
func Parse(s string) (Level, error) {
	for l, n := range names {
		if s == n {
			return Level(l), nil
		}
	}
	return Generic, fmt.Errorf("%w %q (want generic, avx2, avx512 or neon)", ErrUnknownLevel, s)
}

// Detected is the highest level this CPU and build support.
func Detected() Level { return detected }

// Supported reports whether this CPU and build can run level l.
func Supported(l Level) bool { return within(l, detected) }

// within reports whether a CPU and build whose best level is have can run
// level l: l is Generic, or a level of have's architecture at or below it.
func within(l, have Level) bool {
	if l == Generic {
		return true
	}
	return int(l) < len(names) && int(have) < len(names) && arch[l] == arch[have] && l <= have
}

// Levels lists the supported levels, lowest first.
func Levels() []Level {
	out := make([]Level, 0, len(names))
	for l := Generic; int(l) < len(names); l++ {
		if within(l, detected) {
			out = append(out, l)
		}
	}
	return out
}

// HasVNNI reports AVX-512 VNNI (int8 dot-product instructions).
func HasVNNI() bool { return vnni }

// Selected is the level the kernels run at: [Detected], capped by
// FACESIGN_CPU when it is set (read once, at start).
func Selected() Level { return selected }

// EnvError is nil when FACESIGN_CPU is unset or names a supported level;
// otherwise it says what is wrong, and [Selected] is [Generic].
func EnvError() error { return envErr }

var detected, vnni = detect()

var selected, envErr = choose(os.Getenv(EnvVar), detected)

// choose applies an FACESIGN_CPU value to the detected level.
func choose(env string, have Level) (Level, error) {
	if env == "" {
		return have, nil
	}
	l, err := Parse(env)
	if err != nil {
		return Generic, fmt.Errorf("%s: %w", EnvVar, err)
	}
	if !within(l, have) {
		return Generic, fmt.Errorf("%s=%s: %w (this CPU and build: %s)", EnvVar, l, ErrUnsupported, have)
	}
	return l, nil
}
