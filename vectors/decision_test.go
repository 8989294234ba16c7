package vectors

import (
	"errors"
	"math"
	"testing"
)

func TestDecide(t *testing.T) {
	th := Thresholds{Match: 0.6, New: 0.4, Margin: 0.1}
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		matches []Match
		want    Outcome
		slot    Slot
	}{
		{"empty gallery", nil, OutcomeNew, 0},
		{"everyone far", []Match{{3, 0.39}, {1, 0.2}}, OutcomeNew, 0},
		{"clear match", []Match{{4, 0.8}, {1, 0.3}}, OutcomeExisting, 4},
		{"clear match alone", []Match{{4, 0.6}}, OutcomeExisting, 4},
		{"match, runner-up just under margin", []Match{{4, 0.8}, {2, 0.4999}}, OutcomeExisting, 4},
		{"match, runner-up inside margin", []Match{{4, 0.8}, {2, 0.5}}, OutcomeAmbiguous, 0},
		{"two identities both match", []Match{{4, 0.9}, {2, 0.85}}, OutcomeAmbiguous, 0},
		{"grey zone", []Match{{4, 0.5}}, OutcomeAmbiguous, 0},
		{"at new threshold", []Match{{4, 0.4}}, OutcomeAmbiguous, 0},
		{"unsorted input", []Match{{1, 0.2}, {4, 0.9}}, OutcomeExisting, 4},
		{"not a number", []Match{{4, nan}}, OutcomeAmbiguous, 0},
		{"not a number runner-up", []Match{{4, 0.9}, {2, nan}}, OutcomeAmbiguous, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(th, tt.matches)
			if d.Outcome != tt.want || (tt.want == OutcomeExisting && d.Slot != tt.slot) {
				t.Fatalf("got %v slot %d, want %v slot %d", d.Outcome, d.Slot, tt.want, tt.slot)
			}
		})
	}
}

// TestDecideNeverAnothersEntropy: whatever the scores, an existing decision
// names the single best slot, and only when no other slot also clears the
// threshold.
func TestDecideNeverAnothersEntropy(t *testing.T) {
	th := Thresholds{Match: 0.6, New: 0.4, Margin: 0.05}
	for a := float32(-1); a <= 1; a += 0.05 {
		for b := float32(-1); b <= 1; b += 0.05 {
			d := Decide(th, []Match{{1, a}, {2, b}})
			if d.Outcome != OutcomeExisting {
				continue
			}
			best, other := a, b
			if d.Slot == 2 {
				best, other = b, a
			}
			if best < other || best < th.Match || other >= th.Match-th.Margin {
				t.Fatalf("scores %v,%v: existing slot %d", a, b, d.Slot)
			}
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{OutcomeNew: "new", OutcomeExisting: "existing", OutcomeAmbiguous: "ambiguous", 0: "Outcome(0)"} {
		if got := o.String(); got != want {
			t.Errorf("%d: %q, want %q", int(o), got, want)
		}
	}
}

func TestThresholdsCheck(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		th   Thresholds
		ok   bool
	}{
		{"dlib", Thresholds{Match: 0.94, New: 0.89, Margin: 0.01}, true},
		{"equal", Thresholds{Match: 0.5, New: 0.5}, true},
		{"refuse everything", Thresholds{Match: 1, New: -0.99}, true},
		{"new above match", Thresholds{Match: 0.5, New: 0.6}, false},
		{"match above one", Thresholds{Match: 1.01, New: 0.6}, false},
		{"new at minus one", Thresholds{Match: 0.5, New: -1}, false},
		{"negative margin", Thresholds{Match: 0.5, New: 0.4, Margin: -0.01}, false},
		{"margin two", Thresholds{Match: 0.5, New: 0.4, Margin: 2}, false},
		{"NaN match", Thresholds{Match: nan, New: 0.4}, false},
		{"NaN margin", Thresholds{Match: 0.5, New: 0.4, Margin: nan}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.th.Check()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrThresholds)) {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// FuzzDecide: whatever the scores, existing names the strictly best entry
// whose runner-up stays below Match − Margin, and new means every score is
// below New.
func FuzzDecide(f *testing.F) {
	f.Add(float32(0.8), float32(0.3), float32(0.1), uint8(3))
	f.Add(float32(0.9), float32(0.85), float32(0.2), uint8(2))
	f.Add(float32(0.2), float32(0.1), float32(0), uint8(1))
	th := Thresholds{Match: 0.6, New: 0.4, Margin: 0.05}
	f.Fuzz(func(t *testing.T, a, b, c float32, n uint8) {
		ms := []Match{{1, a}, {2, b}, {3, c}}[:n%4]
		d := Decide(th, ms)
		switch d.Outcome {
		case OutcomeExisting:
			for _, m := range ms {
				if m.Slot == d.Slot && m.Score < th.Match {
					t.Fatalf("%v: existing below match", ms)
				}
				if m.Slot != d.Slot && m.Score >= th.Match-th.Margin {
					t.Fatalf("%v: existing with a runner-up at %v", ms, m.Score)
				}
			}
		case OutcomeNew:
			for _, m := range ms {
				if !(m.Score < th.New) {
					t.Fatalf("%v: new with a score at %v", ms, m.Score)
				}
			}
		case OutcomeAmbiguous:
		default:
			t.Fatalf("outcome %v", d.Outcome)
		}
	})
}
