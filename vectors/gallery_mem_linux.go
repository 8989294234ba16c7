package vectors

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapRun maps size bytes (a multiple of hugePage) of anonymous memory at a
// 2 MiB-aligned address and advises the kernel to back it with transparent
// huge pages. The advice is ignored where THP is disabled or unavailable.
// It returns nil when the mapping fails.
func mapRun(size int) ([]byte, func()) {
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size+hugePage), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil
	}
	head := (hugePage - int(uintptr(p)%hugePage)) % hugePage
	if head > 0 {
		_ = unix.MunmapPtr(p, uintptr(head))
	}
	start := unsafe.Add(p, head)
	if tail := hugePage - head; tail > 0 {
		_ = unix.MunmapPtr(unsafe.Add(start, size), uintptr(tail))
	}
	b := unsafe.Slice((*byte)(start), size)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b, func() { _ = unix.MunmapPtr(start, uintptr(size)) }
}
