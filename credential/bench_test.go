package credential

import (
	"testing"
	"time"
)

func BenchmarkIssue(b *testing.B) {
	f := newFixture(b)
	opts := f.options()
	for b.Loop() {
		if _, err := Issue(f.ev, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCredential(b *testing.B) {
	f := newFixture(b)
	c, err := NewCredential(detRand(3), f.key, testUser, testNow, testNow, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	cb, _ := c.Marshal()
	for b.Loop() {
		if _, err := VerifyCredential(cb, f.key, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
