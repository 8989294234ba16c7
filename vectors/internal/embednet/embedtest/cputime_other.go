//go:build !unix

package embedtest

import "time"

// CPUTime is not measured on this platform.
func CPUTime() time.Duration { return 0 }

// PeakRSSMB is not measured on this platform.
func PeakRSSMB() float64 { return 0 }
