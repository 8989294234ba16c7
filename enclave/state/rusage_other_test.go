//go:build !unix

package state

// cpuSeconds is not measured here.
func cpuSeconds() float64 { return 0 }
