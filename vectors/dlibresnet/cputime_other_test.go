//go:build !unix

package dlibresnet

import "time"

func cpuTime() time.Duration { return 0 }
