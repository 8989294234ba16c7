package loadtest

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// percentileRef is the textbook nearest-rank definition: the smallest value
// such that at least p% of the data is ≤ it.
func percentileRef(sorted []time.Duration, p float64) time.Duration {
	for _, v := range sorted {
		n := 0
		for _, w := range sorted {
			if w <= v {
				n++
			}
		}
		if float64(n) >= p/100*float64(len(sorted))-1e-9 {
			return v
		}
	}
	return sorted[len(sorted)-1]
}

func TestPercentileMatchesReference(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 99, 100, 101, 1000} {
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = time.Duration((i*7919)%1009+1) * time.Millisecond
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 100} {
			if got, want := Percentile(d, p), percentileRef(d, p); got != want {
				t.Errorf("n=%d p=%v: %v, want %v", n, p, got, want)
			}
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]time.Duration{5}, 50) != 5 {
		t.Fatal("edge cases")
	}
}

func ExamplePercentile() {
	d := []time.Duration{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	fmt.Println(Percentile(d, 50), Percentile(d, 95), Percentile(d, 99))
	// Output: 50ns 100ns 100ns
}
