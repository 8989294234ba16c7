package capture

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/facesign/facesign/wire"
)

// enclaveOrder is a plain restatement of the enclave's default action-order
// rule with its default thresholds (turn 15°, front 12°, mouth 0.30 open /
// 0.20 closed): for each action in order, a frame not performing it and a
// later frame performing it, each action after the previous one.
func enclaveOrder(frames []Frame, actions []string) bool {
	does := func(a string, f Frame) bool {
		switch a {
		case wire.ActionTurnLeft:
			return f.Yaw >= 15
		case wire.ActionTurnRight:
			return f.Yaw <= -15
		case wire.ActionOpenMouth:
			return f.MouthOpen >= 0.30 && abs(f.Yaw) < 30
		case wire.ActionFaceFront:
			return abs(f.Yaw) <= 12 && f.MouthOpen < 0.30
		}
		return false
	}
	not := func(a string, f Frame) bool {
		switch a {
		case wire.ActionTurnLeft:
			return f.Yaw < 7.5
		case wire.ActionTurnRight:
			return f.Yaw > -7.5
		case wire.ActionOpenMouth:
			return f.MouthOpen <= 0.20
		case wire.ActionFaceFront:
			return abs(f.Yaw) >= 15
		}
		return false
	}
	pos := 0
	for _, a := range actions {
		saw, found := false, -1
		for k := max(0, pos-1); k < len(frames); k++ {
			if not(a, frames[k]) {
				saw = true
			} else if saw && does(a, frames[k]) {
				found = k
				break
			}
		}
		if found < 0 {
			return false
		}
		pos = found + 1
	}
	return true
}

// recording makes a synthetic analysed recording: n frames sweeping the yaw
// from -40° to +40° and back, the mouth opening in the middle.
func recording(n int) []Frame {
	var out []Frame
	for i := range n {
		x := float32(i) / float32(n-1) // 0..1
		yaw := -40 + 160*x
		if x > 0.5 {
			yaw = 40 - 160*(x-0.5)
		}
		mouth := float32(0.05)
		if i%7 == 3 {
			mouth = 0.5
		}
		if i%5 == 0 { // neutral frames, each a little different
			yaw, mouth = float32((i/5)%5*2-4), 0.02+0.03*float32((i/25)%4)
		}
		out = append(out, Frame{Name: fmt.Sprint(i), Data: []byte(fmt.Sprintf("frame-%03d", i)), Faces: 1, Yaw: yaw, MouthOpen: mouth})
	}
	return out
}

func TestPickSatisfiesTheEnclaveOrder(t *testing.T) {
	rec := recording(60)
	byData := map[string]Frame{}
	for _, f := range rec {
		byData[string(f.Data)] = f
	}
	all := []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth, wire.ActionFaceFront}
	var challenges [][]string
	for _, a := range all {
		for _, b := range all {
			if a != b {
				challenges = append(challenges, []string{a, b})
				for _, c := range all {
					if c != a && c != b {
						challenges = append(challenges, []string{a, b, c})
					}
				}
			}
		}
	}
	for _, acts := range challenges {
		t.Run(fmt.Sprint(acts), func(t *testing.T) {
			out, err := Pick(rec, acts, 8, 32, DefaultThresholds)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) < 8 || len(out) > 32 {
				t.Fatalf("%d frames", len(out))
			}
			seen := map[string]bool{}
			var frames []Frame
			for _, d := range out {
				if seen[string(d)] {
					t.Fatalf("frame %s used twice", d)
				}
				seen[string(d)] = true
				frames = append(frames, byData[string(d)])
			}
			if !enclaveOrder(frames, acts) {
				t.Fatalf("picked frames do not perform %v in order", acts)
			}
		})
	}
}

func TestPickUsesFewFramesAndNoRepeats(t *testing.T) {
	rec := recording(60)
	// Duplicate every frame, as a GIF repeating frames would.
	var dup []Frame
	for _, f := range rec {
		g := f
		g.Data = append([]byte("copy-"), f.Data...)
		dup = append(dup, f, g)
	}
	out, err := Pick(dup, []string{wire.ActionTurnLeft, wire.ActionTurnRight}, 4, 16, DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 {
		t.Fatalf("%d frames for two turns and a minimum of 4", len(out))
	}
	seen := map[string]bool{}
	for _, d := range out {
		k := strings.TrimPrefix(string(d), "copy-")
		if seen[k] {
			t.Fatalf("a frame and its repeat were both picked")
		}
		seen[k] = true
	}
}

func TestPickRefusesWhatTheRecordingLacks(t *testing.T) {
	// A talking head that never turns.
	var rec []Frame
	for i := range 30 {
		m := float32(0.05)
		if i%3 == 0 {
			m = 0.5
		}
		rec = append(rec, Frame{Data: []byte{byte(i)}, Faces: 1, Yaw: float32(i%5) - 2, MouthOpen: m})
	}
	cases := []struct {
		acts []string
		ok   bool
	}{
		{[]string{wire.ActionOpenMouth}, true},
		{[]string{wire.ActionTurnLeft}, false},
		{[]string{wire.ActionOpenMouth, wire.ActionTurnRight}, false},
		{[]string{wire.ActionFaceFront}, false}, // never turned away, so never "turns to the front"
	}
	for _, tc := range cases {
		_, err := Pick(rec, tc.acts, 5, 30, DefaultThresholds)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrCannotPerform)) {
			t.Errorf("%v: %v", tc.acts, err)
		}
	}
	// Frames with no face or two faces are never used.
	bad := []Frame{{Data: []byte{1}, Faces: 0, Yaw: 30}, {Data: []byte{2}, Faces: 2, Yaw: 0}, {Data: []byte{3}, Faces: 1, Yaw: 0}}
	if _, err := Pick(bad, []string{wire.ActionTurnLeft}, 1, 10, DefaultThresholds); !errors.Is(err, ErrCannotPerform) {
		t.Errorf("picked frames without exactly one face: %v", err)
	}
	// Too many frames needed for the policy's maximum.
	if _, err := Pick(recording(60), []string{wire.ActionTurnLeft, wire.ActionTurnRight}, 2, 2, DefaultThresholds); !errors.Is(err, ErrCannotPerform) {
		t.Errorf("exceeded max frames: %v", err)
	}
}
