package calib

import "testing"

// BenchmarkThresholdsAt is the cost of deriving the thresholds for one
// gallery size (the enclave does it once per power-of-two bucket), and of
// the capacity (once per boot).
func BenchmarkThresholdsAt(b *testing.B) {
	c, _, _ := expTail.curve(b, 14, 5000, 400_000)
	p := Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.2}
	b.Run("at", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := c.ThresholdsAt(1+i%100_000, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("capacity", func(b *testing.B) {
		for b.Loop() {
			c.Capacity(p)
		}
	})
}
