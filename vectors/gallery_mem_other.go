//go:build !linux

package vectors

// mapRun has no huge-page mapping outside Linux: the arena uses the Go heap.
func mapRun(int) ([]byte, func()) { return nil, nil }
