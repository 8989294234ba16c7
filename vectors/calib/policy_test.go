package calib

import (
	"errors"
	"math"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"default", DefaultPolicy(), true},
		{"zero", Policy{}, false},
		{"epsilon 0", Policy{Epsilon: 0, MaxNewRefused: 0.01, MaxDuplicate: 0.01}, false},
		{"epsilon 1", Policy{Epsilon: 1, MaxNewRefused: 0.01, MaxDuplicate: 0.01}, false},
		{"epsilon NaN", Policy{Epsilon: nan, MaxNewRefused: 0.01, MaxDuplicate: 0.01}, false},
		{"refused negative", Policy{Epsilon: 1e-6, MaxNewRefused: -0.1, MaxDuplicate: 0.01}, false},
		{"duplicate 1", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 1}, false},
		{"no template epsilon", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01}, true},
		{"template epsilon = epsilon", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, TemplateEpsilon: 1e-6}, true},
		{"template epsilon above epsilon", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, TemplateEpsilon: 2e-6}, false},
		{"template epsilon negative", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, TemplateEpsilon: -1e-8}, false},
		{"template epsilon NaN", Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, TemplateEpsilon: nan}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPolicy)) {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				c, _, _ := expTail.curve(t, 11, 300, 5000)
				if _, err := c.At(10, tt.p); !errors.Is(err, ErrPolicy) {
					t.Fatalf("At with a bad policy: %v", err)
				}
			}
		})
	}
}

// below is the next float32 below x.
func below(x float32) float32 { return math.Nextafter32(x, -2) }

// TestThresholdsAt checks the rule at every decade of N on a curve with a
// known tail: each threshold is the lowest that meets its bound, and the
// conditions hold exactly up to the capacity and fail above it.
func TestThresholdsAt(t *testing.T) {
	c, _, _ := expTail.curve(t, 12, 5000, 400_000)
	p := Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.2}
	capacity := c.Capacity(p)
	if capacity < 1000 || capacity >= maxGallery {
		t.Fatalf("capacity %d", capacity)
	}
	prev := float32(-1)
	for n := 1; n <= 100*capacity; n *= 10 {
		o, err := c.At(n, p)
		if n > capacity {
			if !errors.Is(err, ErrOverCapacity) {
				t.Fatalf("n=%d above capacity %d: %v", n, capacity, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		th := o.Thresholds
		fm, _ := c.FMR(th.Match)
		fmBelow, _ := c.FMR(below(th.Match))
		if float64(n)*fm > p.Epsilon || float64(n)*fmBelow <= p.Epsilon {
			t.Fatalf("n=%d: match %v is not the lowest with n·FMR ≤ ε (%g, below %g)", n, th.Match, float64(n)*fm, float64(n)*fmBelow)
		}
		refused := func(x float32) float64 { f, _ := c.FMR(x); return 1 - math.Pow(1-f, float64(n)) }
		if r := refused(th.New); r > p.MaxNewRefused*(1+1e-9) || refused(below(th.New)) <= p.MaxNewRefused*(1-1e-9) {
			t.Fatalf("n=%d: new %v is not the lowest with refusal ≤ %g (%g, below %g)", n, th.New, p.MaxNewRefused, r, refused(below(th.New)))
		}
		if math.Abs(o.NewRefused-refused(th.New)) > 1e-9 || o.Duplicate != c.FNMR(th.New) || o.NotRecognised != c.FNMR(th.Match) {
			t.Fatalf("n=%d: rates %+v", n, o)
		}
		if !(th.New < th.Match-th.Margin) || o.Duplicate > p.MaxDuplicate || th.Margin != c.Margin() {
			t.Fatalf("n=%d: %+v", n, o)
		}
		if err := th.Check(); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if th.Match < prev {
			t.Fatalf("n=%d: match threshold fell", n)
		}
		prev = th.Match
		if got, err := c.ThresholdsAt(n, p); err != nil || got != th {
			t.Fatalf("ThresholdsAt(%d) = %+v, %v", n, got, err)
		}
	}
	if _, err := c.At(capacity, p); err != nil {
		t.Fatalf("at capacity: %v", err)
	}
	if _, err := c.At(capacity+1, p); !errors.Is(err, ErrOverCapacity) {
		t.Fatalf("above capacity: %v", err)
	}
	// n < 1 counts as 1.
	a, _ := c.ThresholdsAt(0, p)
	b, _ := c.ThresholdsAt(1, p)
	if a != b {
		t.Fatal("n = 0 differs from n = 1")
	}
}

// TestCapacityLimits: each condition alone sets the capacity.
func TestCapacityLimits(t *testing.T) {
	c, _, _ := expTail.curve(t, 13, 5000, 400_000)
	loose := Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.99}
	tight := Policy{Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.02}
	cl, ct := c.Capacity(loose), c.Capacity(tight)
	if !(ct < cl) || ct < 1 {
		t.Fatalf("capacity with MaxDuplicate 0.02: %d, 0.99: %d", ct, cl)
	}
	if _, err := c.At(ct+1, tight); !errors.Is(err, ErrOverCapacity) {
		t.Fatalf("above the duplicate-bound capacity: %v", err)
	}
	// Beyond the capacity the match threshold alone still exists, and is the
	// one At would give where At succeeds.
	tm, _, err := c.MatchAt(ct+1, tight)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := c.At(ct+1, loose); err != nil || o.Thresholds.Match != tm {
		t.Fatalf("MatchAt %v, At %+v %v", tm, o, err)
	}
	// A gallery so large that no threshold up to 1 is strict enough.
	if _, _, err := c.MatchAt(1<<40, Policy{Epsilon: 1e-12, MaxNewRefused: 0.01, MaxDuplicate: 0.5}); !errors.Is(err, ErrOverCapacity) {
		t.Fatalf("MatchAt beyond every threshold: %v", err)
	}
}

func TestLowest(t *testing.T) {
	for _, x := range []float32{-1, -0.5, -1e-30, 0, 1e-30, 0.3, 0.999, 1} {
		got, ok := lowest(func(t float32) bool { return t >= x })
		if !ok || got != x {
			t.Fatalf("lowest(≥ %v) = %v %v", x, got, ok)
		}
	}
	if _, ok := lowest(func(float32) bool { return false }); ok {
		t.Fatal("found a threshold where none holds")
	}
	for _, x := range []float32{-1, -0.25, 0, 0.5, 1, float32(math.Nextafter32(1, 0))} {
		if unkey(key(x)) != x || (x < 1 && key(x) >= key(math.Nextafter32(x, 2))) {
			t.Fatalf("key order at %v", x)
		}
	}
}

// TestTemplateLevelsAt: the strong level is the lowest score at which
// N × FMR ≤ the template epsilon, at or above the match threshold at every
// N, rising with N; the near-copy level lies halfway from it to 1; no
// template epsilon, or none reachable, is an error.
func TestTemplateLevelsAt(t *testing.T) {
	c, _, _ := expTail.curve(t, 12, 5000, 400_000)
	p := DefaultPolicy()
	if p.TemplateEpsilon != p.Epsilon/100 {
		t.Fatalf("default template epsilon %v", p.TemplateEpsilon)
	}
	prev := float32(-1)
	for n := 1; n <= 1000; n *= 10 {
		lv, err := c.TemplateLevelsAt(n, p)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		f, ex := c.FMR(lv.Strong)
		fb, _ := c.FMR(below(lv.Strong))
		if !(float64(n)*f <= p.TemplateEpsilon && float64(n)*fb > p.TemplateEpsilon) || ex != lv.Extrapolated {
			t.Fatalf("n=%d: strong %v: n × FMR %g, just below %g, extrapolated %v/%v", n, lv.Strong, float64(n)*f, float64(n)*fb, ex, lv.Extrapolated)
		}
		tm, _, err := c.MatchAt(n, p)
		if err != nil {
			t.Fatal(err)
		}
		if !(lv.Strong > tm) || !(lv.Strong > prev) || lv.Novel != lv.Strong+(1-lv.Strong)/2 || !(lv.Novel <= 1) {
			t.Fatalf("n=%d: levels %+v, match %v, previous strong %v", n, lv, tm, prev)
		}
		prev = lv.Strong
	}
	for _, tc := range []struct {
		name  string
		c     Curve
		n     int
		te    float64
		wants error
	}{
		{"this curve's tail reaches 1 before 10⁴ × FMR ≤ 10⁻⁸", c, 10_000, p.TemplateEpsilon, ErrOverCapacity},
		{"no template epsilon", c, 10, 0, ErrPolicy},
		{"unreachable template epsilon", c, 10, 1e-300, ErrOverCapacity},
		{"template epsilon above epsilon", c, 10, 1, ErrPolicy},
		{"zero curve", Curve{}, 10, p.TemplateEpsilon, ErrCurve},
	} {
		q := p
		q.TemplateEpsilon = tc.te
		if _, err := tc.c.TemplateLevelsAt(tc.n, q); !errors.Is(err, tc.wants) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.wants)
		}
	}
}
