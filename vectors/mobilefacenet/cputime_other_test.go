//go:build !unix

package mobilefacenet

import "time"

func cpuTime() time.Duration { return 0 }
