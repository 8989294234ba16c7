//go:build linux

package crashtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procStat reads a process's parent and state from /proc/PID/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// enclaveChild returns the pid of ppid's "sim-enclave" child, or 0.
func enclaveChild(ppid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, st, ok := procStat(pid); !ok || p != ppid || st == 'Z' {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmd, []byte("sim-enclave")) {
			return pid
		}
	}
	return 0
}

// waitGone waits until pid has exited (gone, or a zombie nobody reaped).
func waitGone(pid int) {
	for range 1000 {
		if _, st, ok := procStat(pid); !ok || st == 'Z' || st == 'X' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
