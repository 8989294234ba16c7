//go:build amd64 && !purego

package isa

import "golang.org/x/sys/cpu"

func detect() (Level, bool) {
	x := cpu.X86
	switch {
	case !x.HasAVX2 || !x.HasFMA:
		return Generic, false
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL:
		return AVX512, x.HasAVX512VNNI
	}
	return AVX2, false
}
