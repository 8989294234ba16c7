package isa

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Level
		err  error
	}{
		{"generic", Generic, nil},
		{"avx2", AVX2, nil},
		{"avx512", AVX512, nil},
		{"neon", NEON, nil},
		{"AVX2", Generic, ErrUnknownLevel},
		{"NEON", Generic, ErrUnknownLevel},
		{"asimd", Generic, ErrUnknownLevel},
		{" avx2", Generic, ErrUnknownLevel},
	} {
		got, err := Parse(tc.in)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
		if tc.err == nil && got.String() != tc.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		env  string
		have Level
		want Level
		err  error
	}{
		{"", AVX512, AVX512, nil},
		{"", Generic, Generic, nil},
		{"generic", AVX512, Generic, nil},
		{"avx2", AVX512, AVX2, nil},
		{"avx512", AVX512, AVX512, nil},
		{"avx512", AVX2, Generic, ErrUnsupported},
		{"avx2", Generic, Generic, ErrUnsupported},
		{"fast", AVX2, Generic, ErrUnknownLevel},
		// arm64: generic and neon. The amd64 levels are unsupported there
		// and neon is unsupported on amd64, whatever their numeric order.
		{"", NEON, NEON, nil},
		{"neon", NEON, NEON, nil},
		{"generic", NEON, Generic, nil},
		{"avx2", NEON, Generic, ErrUnsupported},
		{"avx512", NEON, Generic, ErrUnsupported},
		{"neon", AVX512, Generic, ErrUnsupported},
		{"neon", AVX2, Generic, ErrUnsupported},
		{"neon", Generic, Generic, ErrUnsupported},
	} {
		got, err := choose(tc.env, tc.have)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("choose(%q, %v) = %v, %v; want %v, %v", tc.env, tc.have, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), EnvVar) {
			t.Errorf("error %q does not name %s", err, EnvVar)
		}
	}
}

func TestLevels(t *testing.T) {
	ls := Levels()
	if len(ls) == 0 || ls[0] != Generic || ls[len(ls)-1] != Detected() {
		t.Fatalf("Levels() = %v, Detected() = %v", ls, Detected())
	}
	for _, l := range ls {
		if !Supported(l) {
			t.Errorf("%v listed but not supported", l)
		}
	}
	if Supported(Detected() + 1) {
		t.Errorf("a level above Detected() is supported")
	}
	for l := Generic; l <= NEON+1; l++ {
		listed := false
		for _, m := range ls {
			listed = listed || m == l
		}
		if Supported(l) != listed {
			t.Errorf("%v: Supported %v, listed in Levels() %v", l, Supported(l), listed)
		}
	}
	if HasVNNI() && Detected() != AVX512 {
		t.Error("VNNI without AVX-512")
	}
}

// TestEnvReadAtStart: what the package chose at initialisation is what
// FACESIGN_CPU in this process's environment asks for. make test runs the
// package again with FACESIGN_CPU=generic, so a set variable is checked
// too, in a process it was set for at start.
// TestWithin: which levels a CPU whose best level is have runs.
func TestWithin(t *testing.T) {
	want := map[Level][]Level{
		Generic: {Generic},
		AVX2:    {Generic, AVX2},
		AVX512:  {Generic, AVX2, AVX512},
		NEON:    {Generic, NEON},
	}
	for have, ls := range want {
		var got []Level
		for l := Generic; l <= NEON+1; l++ {
			if within(l, have) {
				got = append(got, l)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(ls) {
			t.Errorf("have %v: runs %v, want %v", have, got, ls)
		}
	}
}

// TestDetectedArch: the build's architecture decides the detected family.
func TestDetectedArch(t *testing.T) {
	switch d := Detected(); {
	case d == Generic:
	case arch[d] != runtime.GOARCH:
		t.Fatalf("detected %v (%s) on %s", d, arch[d], runtime.GOARCH)
	}
	if runtime.GOARCH == "arm64" && !purego && Detected() != NEON {
		t.Fatalf("arm64 without purego detected %v, want neon", Detected())
	}
}

func TestEnvReadAtStart(t *testing.T) {
	want, wantErr := choose(os.Getenv(EnvVar), Detected())
	if Selected() != want || fmt.Sprint(EnvError()) != fmt.Sprint(wantErr) {
		t.Fatalf("%s=%q: selected %v (%v), want %v (%v)", EnvVar, os.Getenv(EnvVar), Selected(), EnvError(), want, wantErr)
	}
	if !Supported(Selected()) {
		t.Fatalf("selected %v is not supported", Selected())
	}
}
