package client

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

// TestPolicyPins: each pin refuses a policy that does not meet it, with
// ErrPolicy, and accepts one that does.
func TestPolicyPins(t *testing.T) {
	fixed := wire.Policy{Engine: "e", ModelSHA256: bytes.Repeat([]byte{1}, 32), MatchThreshold: 0.6, NewThreshold: 0.4}
	ruled := fixed
	ruled.MatchThreshold, ruled.NewThreshold = 0, 0
	ruled.Rule = &wire.ThresholdRule{CurveSHA256: make([]byte, 32), Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, Capacity: 1000}
	hash := func(p wire.Policy) [32]byte { h, _ := p.Hash(); return h }
	hf := hash(fixed)
	tests := []struct {
		name string
		o    Options
		p    wire.Policy
		ok   bool
	}{
		{"no pins", Options{}, fixed, true},
		{"policy hash", Options{PolicyHash: hf[:]}, fixed, true},
		{"other policy hash", Options{PolicyHash: hf[:]}, ruled, false},
		{"engine", Options{Engine: "e"}, fixed, true},
		{"other engine", Options{Engine: "f"}, fixed, false},
		{"other model", Options{ModelSHA256: make([]byte, 32)}, fixed, false},
		{"epsilon met", Options{MaxEpsilon: 1e-6}, ruled, true},
		{"epsilon looser than pinned", Options{MaxEpsilon: 1e-7}, ruled, false},
		{"fixed thresholds under an epsilon pin", Options{MaxEpsilon: 1e-6}, fixed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.checkPolicy(tt.p, hash(tt.p))
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPolicy)) {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, bad := range []float64{-1e-6, 1, math.NaN()} {
		if _, err := New("http://x", Options{Now: time.Now, Rand: rand.Reader, AnyMeasurement: true, MaxEpsilon: bad}); !errors.Is(err, ErrOptions) {
			t.Fatalf("MaxEpsilon %v: %v", bad, err)
		}
	}
}
