//go:build !unix

package searchbench

import "time"

// processCPU is not available here: results carry no CPU times.
func processCPU() (time.Duration, bool) { return 0, false }
