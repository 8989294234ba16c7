package isa

import (
	"errors"
	"fmt"
	"os"
)

// Level is an instruction-set level of the vector kernels, ordered: a CPU
// that supports a level supports every lower one.
type Level uint8

// The levels, lowest first.
const (
	Generic Level = iota
	AVX2
	AVX512
)

// EnvVar is the environment variable that caps [Selected].
const EnvVar = "FACESIGN_CPU"

var names = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512"}

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

// Parse reads a level's name ("generic", "avx2", "avx512").
func Parse(s string) (Level, error) {
	for l, n := range names {
		if s == n {
			return Level(l), nil
		}
	}
	return Generic, fmt.Errorf("%w %q (want generic, avx2 or avx512)", ErrUnknownLevel, s)
}

// Detected is the highest level this CPU and build support.
func Detected() Level { return detected }

// Supported reports whether this CPU and build can run level l.
func Supported(l Level) bool { return l <= detected }

// Levels lists the supported levels, lowest first.
func Levels() []Level {
	out := make([]Level, 0, len(names))
	for l := Generic; l <= detected; l++ {
		out = append(out, l)
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
	if l > have {
		return Generic, fmt.Errorf("%s=%s: %w (this CPU and build: %s)", EnvVar, l, ErrUnsupported, have)
	}
	return l, nil
}
