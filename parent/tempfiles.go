package parent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Temporary files of the directory stores are named prefix ‖ pid ‖ "-" ‖
// random, so that several parents sharing one directory (a fleet in the
// simulator, docs/fleet.md) remove at startup only the leftovers of
// processes that are gone, never a file another live parent is writing.

// tempPattern is the os.CreateTemp pattern for this process.
func tempPattern(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid()) + "-*"
}

// removeStaleTemps removes dir's temporary files whose writer is no longer
// running (or that name no writer): interrupted writes, never acknowledged.
func removeStaleTemps(dir, prefix string) {
	tmps, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, t := range tmps {
		rest := strings.TrimPrefix(filepath.Base(t), prefix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if ok && err == nil && pid > 0 && processAlive(pid) {
			continue
		}
		_ = os.Remove(t)
	}
}
