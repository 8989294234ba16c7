package isa

import (
	"errors"
	"os"
	"os/exec"
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
		{"AVX2", Generic, ErrUnknownLevel},
		{"neon", Generic, ErrUnknownLevel},
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
	if HasVNNI() && Detected() < AVX512 {
		t.Error("VNNI without AVX-512")
	}
}

// TestEnvReadAtStart runs this test binary again with FACESIGN_CPU set and
// checks what the package chose at initialisation.
func TestEnvReadAtStart(t *testing.T) {
	if os.Getenv("ISA_CHILD") == "1" {
		// Print what init chose; the parent checks it.
		errText := ""
		if err := EnvError(); err != nil {
			errText = err.Error()
		}
		os.Stdout.WriteString("selected=" + Selected().String() + " err=" + errText + "\n")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ env, want string }{
		{"generic", "selected=generic err=\n"},
		{"bogus", "selected=generic err=FACESIGN_CPU: isa: unknown kernel level \"bogus\" (want generic, avx2 or avx512)\n"},
	}
	for _, l := range Levels() {
		cases = append(cases, struct{ env, want string }{l.String(), "selected=" + l.String() + " err=\n"})
	}
	if Detected() < AVX512 {
		cases = append(cases, struct{ env, want string }{"avx512", "selected=generic err=FACESIGN_CPU=avx512: isa: kernel level not supported here (this CPU and build: " + Detected().String() + ")\n"})
	}
	for _, tc := range cases {
		cmd := exec.Command(exe, "-test.run=^TestEnvReadAtStart$")
		cmd.Env = append(os.Environ(), "ISA_CHILD=1", EnvVar+"="+tc.env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s=%s: %v", EnvVar, tc.env, err)
		}
		if first, _, _ := strings.Cut(string(out), "PASS"); first != tc.want {
			t.Errorf("%s=%s: got %q, want %q", EnvVar, tc.env, first, tc.want)
		}
	}
}
