package calib_test

import (
	"fmt"

	"github.com/facesign/facesign/vectors/calib"
)

// The thresholds for the default policy at a few gallery sizes, from the
// development curve of dlibresnet (made from 1,468 impostor pairs: every
// figure this strict is extrapolated).
func ExampleCurve_At() {
	c, _ := calib.ForEngine("dlibresnet")
	p := calib.DefaultPolicy()
	fmt.Println("capacity:", c.Capacity(p))
	for _, n := range []int{1, 10} {
		m, extrapolated, err := c.MatchAt(n, p)
		if err != nil {
			fmt.Printf("N=%d: %v\n", n, err)
			continue
		}
		fmt.Printf("N=%d: match %.4f (extrapolated %v)\n", n, m, extrapolated)
	}
	// Output:
	// capacity: 0
	// N=1: match 0.9915 (extrapolated true)
	// N=10: calib: gallery over capacity: at 10, no threshold keeps 10 × FMR ≤ 1e-06
}
