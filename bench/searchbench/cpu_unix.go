//go:build unix

package searchbench

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system, all threads) the process has
// used so far; ok is false where the system cannot tell.
func processCPU() (d time.Duration, ok bool) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, false
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), true
}
