package nn

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of multiply-adds below which a kernel runs
// on the calling goroutine: spawning workers costs more than it saves.
const minParallelWork = 1 << 15

// parallelFor splits [0, n) into contiguous chunks and runs body on each,
// using up to GOMAXPROCS goroutines when work (an estimate of the total
// multiply-adds) is large enough. It returns when every chunk is done.
func parallelFor(n, work int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || work < minParallelWork {
		if n > 0 {
			body(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			body(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}
