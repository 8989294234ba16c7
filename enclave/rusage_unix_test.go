//go:build unix

package enclave

import "syscall"

// usage is the process's CPU time so far, user and system, in seconds, and
// its minor page faults (pages the kernel had to map and zero on first touch).
type usage struct {
	user, sys float64
	faults    int64
}

func rusage() usage {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return usage{}
	}
	return usage{user: float64(ru.Utime.Nano()) / 1e9, sys: float64(ru.Stime.Nano()) / 1e9, faults: int64(ru.Minflt)}
}
