package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// framed is a well-framed single-face observation with the given pose.
func framed(yaw, mouth float32) Observation {
	return Observation{Faces: 1, Yaw: yaw, MouthOpen: mouth, EyeDistance: 60, FaceX: 220, FaceY: 140, FaceW: 200, FaceH: 200, Width: 640, Height: 480, Brightness: 120}
}

func newLive(t *testing.T, actions ...string) *Live {
	t.Helper()
	l, err := NewLive(actions, 4, 16, DefaultThresholds, DefaultFraming)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLiveGuideFraming(t *testing.T) {
	l := newLive(t, wire.ActionTurnLeft, wire.ActionOpenMouth)
	mod := func(f func(*Observation)) Observation { o := framed(0, 0.02); f(&o); return o }
	tests := []struct {
		name string
		o    Observation
		want GuideCode
	}{
		{"no face", Observation{Width: 640, Height: 480}, GuideNoFace},
		{"two faces", Observation{Faces: 2, Width: 640, Height: 480}, GuideSeveralFaces},
		{"no frame size", mod(func(o *Observation) { o.Width, o.Height = 0, 0 }), GuideNoFace},
		{"eyes too close", mod(func(o *Observation) { o.EyeDistance = 12 }), GuideMoveCloser},
		{"face small", mod(func(o *Observation) { o.FaceH = 60 }), GuideMoveCloser},
		{"face huge", mod(func(o *Observation) { o.FaceY, o.FaceH = 0, 470 }), GuideMoveBack},
		{"off to the side", mod(func(o *Observation) { o.FaceX = 0 }), GuideCentre},
		{"too low", mod(func(o *Observation) { o.FaceY = 330 }), GuideCentre},
		{"dark", mod(func(o *Observation) { o.Brightness = 30 }), GuideMoreLight},
		{"dim but measurable", mod(func(o *Observation) { o.Brightness = 44.5 }), GuideLookAtCamera}, // head-turn-a's 40° turn
		{"good", framed(0, 0.02), GuideLookAtCamera},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := l.Guide(tc.o)
			if g.Code != tc.want {
				t.Fatalf("code %s, want %s", g.Code, tc.want)
			}
			if g.Candidate != (tc.want == GuideLookAtCamera) {
				t.Fatalf("candidate %v", g.Candidate)
			}
			if g.Action != wire.ActionTurnLeft || g.Step != 0 || g.Steps != 2 {
				t.Fatalf("guidance %+v", g)
			}
		})
	}
}

// step is one frame of a scripted session: its pose, whether Live should
// keep it, and the guidance code after it.
type step struct {
	yaw, mouth float32
	keep       bool
	after      GuideCode
}

func TestLiveSessions(t *testing.T) {
	tests := []struct {
		name    string
		actions []string
		steps   []step
	}{
		{"left then right", []string{wire.ActionTurnLeft, wire.ActionTurnRight}, []step{
			{30, 0.02, false, GuideLookAtCamera},  // turned before asked: not neutral
			{1, 0.02, true, GuideAction},          // neutral, also "not yet turned left"
			{1.5, 0.03, false, GuideAction},       // a look-alike of the kept frame
			{12, 0.02, false, GuideAction},        // not far enough
			{25, 0.02, true, GuideLookAtCamera},   // turned left: now face the camera again
			{-25, 0.02, false, GuideLookAtCamera}, // turned right before facing the camera
			{-2, 0.02, true, GuideAction},
			{-26, 0.02, true, GuideDone},
			{0, 0.02, false, GuideDone},
		}},
		{"mouth then left", []string{wire.ActionOpenMouth, wire.ActionTurnLeft}, []step{
			{2, 0.02, true, GuideAction},
			{2, 0.25, false, GuideAction}, // half open
			{3, 0.45, true, GuideLookAtCamera},
			{3, 0.40, true, GuideAction}, // still open, but not turned: the turn's "not yet" frame
			{3.5, 0.30, false, GuideAction},
			{22, 0.03, true, GuideDone},
		}},
		{"face front first", []string{wire.ActionFaceFront, wire.ActionOpenMouth}, []step{
			{0, 0.01, true, GuideTurnAside},
			{25, 0.01, true, GuideAction},
			{2, 0.05, true, GuideCloseMouth},
			{3, 0.08, true, GuideAction},
			{4, 0.5, true, GuideDone},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLive(t, tc.actions...)
			var kept []Frame
			for i, s := range tc.steps {
				o := framed(s.yaw, s.mouth)
				g := l.Guide(o)
				data := []byte(fmt.Sprintf("frame %d", i))
				ok, after := l.Offer(data, o)
				if ok != s.keep || g.Candidate != s.keep {
					t.Fatalf("frame %d (%v, %v): candidate %v, kept %v, want %v", i, s.yaw, s.mouth, g.Candidate, ok, s.keep)
				}
				if after.Code != s.after {
					t.Fatalf("frame %d: guidance after %s, want %s", i, after.Code, s.after)
				}
				if ok {
					kept = append(kept, Frame{Faces: 1, Yaw: s.yaw, MouthOpen: s.mouth, Data: data})
				}
			}
			if !l.Done() {
				if _, err := l.Frames(); !errors.Is(err, ErrNotDone) {
					t.Fatalf("unfinished capture: %v", err)
				}
				return
			}
			frames, err := l.Frames()
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(kept) || len(frames) < 4 {
				t.Fatalf("%d frames, kept %d", len(frames), len(kept))
			}
			if !enclaveOrder(kept, tc.actions) {
				t.Fatalf("kept frames %v do not satisfy the enclave's order rule for %v", kept, tc.actions)
			}
		})
	}
}

func TestLiveBadInput(t *testing.T) {
	for _, tc := range []struct {
		actions  []string
		min, max int
	}{
		{nil, 4, 16},
		{[]string{"wave"}, 4, 16},
		{[]string{wire.ActionTurnLeft}, 0, 16},
		{[]string{wire.ActionTurnLeft, wire.ActionTurnRight}, 4, 3},
		{[]string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth}, 2, 4},
	} {
		if _, err := NewLive(tc.actions, tc.min, tc.max, DefaultThresholds, DefaultFraming); !errors.Is(err, ErrLiveConfig) {
			t.Errorf("NewLive(%v, %d, %d): %v, want ErrLiveConfig", tc.actions, tc.min, tc.max, err)
		}
	}
	l := newLive(t, wire.ActionTurnLeft, wire.ActionTurnRight)
	before := *l
	for _, o := range []Observation{{}, {Faces: 3, Width: 10, Height: 10}, framed(40, 0.02), framed(0, 0.6)} {
		if ok, _ := l.Offer([]byte("x"), o); ok {
			t.Fatalf("kept %+v", o)
		}
	}
	if ok, _ := l.Offer(nil, framed(0, 0.02)); ok {
		t.Fatal("kept an empty frame")
	}
	if l.step != before.step || l.ph != before.ph || len(l.frames) != 0 {
		t.Fatal("refused frames changed the capture")
	}
}

// TestLiveParallax: with MinParallax set, a challenge with a turn is done
// only once two kept frames reach the enclave's parallax (vectors.Parallax),
// whatever their order. A turn counts by its yaw; when every action is kept
// and the rule is still short, the person is asked to turn to a side and
// back, frames that do not lift the capture past the rule are refused and
// change nothing, and the first that does finishes it.
func TestLiveParallax(t *testing.T) {
	front := [5]vectors.Point{vectors.LeftEye: {X: 300, Y: 200}, vectors.RightEye: {X: 340, Y: 200}, vectors.Nose: {X: 320, Y: 220},
		vectors.LeftMouth: {X: 305, Y: 240}, vectors.RightMouth: {X: 335, Y: 240}}
	// with is a well-framed observation whose nose sits dx eye distances
	// out of the face's plane relative to front.
	with := func(yaw, mouth, dx float32) Observation {
		o := framed(yaw, mouth)
		o.Five = front
		o.Five[vectors.Nose].X += dx * 40
		return o
	}
	tests := []struct {
		name        string
		minParallax float64
		turn        Observation
		done        bool // done after the challenge's frames alone
	}{
		{"no rule: any turn past the threshold", 0, with(25, 0.02, 0), true},
		{"a turn as flat as a photo", RelaxedParallax, with(25, 0.02, 0), false},
		{"a turn just short of the rule", RelaxedParallax, with(25, 0.02, 0.15), false},
		{"a turn past the rule", RelaxedParallax, with(25, 0.02, 0.2), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLive(t, wire.ActionTurnLeft, wire.ActionOpenMouth)
			l.MinParallax = tc.minParallax
			if ok, _ := l.Offer([]byte("front"), with(0, 0.02, 0)); !ok {
				t.Fatal("neutral frame refused")
			}
			// The turn counts by its yaw, as the enclave's order rule counts it.
			if g := l.Guide(tc.turn); !g.Candidate || g.Code != GuideAction {
				t.Fatalf("turn guidance %+v", g)
			}
			if ok, g := l.Offer([]byte("turn"), tc.turn); !ok || l.step != 1 || g.Action != wire.ActionOpenMouth {
				t.Fatalf("turn kept %v: step %d, %+v", ok, l.step, g)
			}
			// The mouth's "not yet" frame and the open mouth, on the
			// turn's plane (no new depth).
			for _, o := range []Observation{with(3, 0.03, tc.turn.Five[vectors.Nose].X/40-8), with(2, 0.5, tc.turn.Five[vectors.Nose].X/40-8)} {
				if ok, _ := l.Offer([]byte("mouth"), o); !ok {
					t.Fatalf("mouth frame %+v refused", o)
				}
			}
			if l.Done() != tc.done {
				t.Fatalf("done %v after the challenge's frames, want %v", l.Done(), tc.done)
			}
			if tc.done {
				return
			}
			g := l.next()
			if g.Code != GuideTurnMore || g.Step != 2 || g.Action != "" {
				t.Fatalf("guidance after the actions %+v, want %s", g, GuideTurnMore)
			}
			if _, err := l.Frames(); !errors.Is(err, ErrNotDone) {
				t.Fatalf("frames of a capture short of the rule: %v", err)
			}
			// Still flat: refused, nothing changes.
			flat := with(-4, 0.02, 0.1)
			if g := l.Guide(flat); g.Candidate || g.Code != GuideTurnMore {
				t.Fatalf("flat frame guidance %+v", g)
			}
			if ok, _ := l.Offer([]byte("flat"), flat); ok || len(l.frames) != 4 || l.Done() {
				t.Fatalf("a flat frame was kept (%v) or changed the capture", ok)
			}
			// Turned back past the rule: kept, done.
			back := with(-6, 0.02, -0.2)
			if g := l.Guide(back); !g.Candidate {
				t.Fatalf("a frame past the rule is no candidate: %+v", g)
			}
			if ok, g := l.Offer([]byte("back"), back); !ok || !l.Done() || g.Code != GuideDone {
				t.Fatalf("a frame past the rule: kept %v, done %v, %+v", ok, l.Done(), g)
			}
			if fr, err := l.Frames(); err != nil || len(fr) != 5 {
				t.Fatalf("frames %d, %v", len(fr), err)
			}
		})
	}
	// Open the mouth: no turn, no parallax needed.
	l := newLive(t, wire.ActionOpenMouth)
	l.MinParallax = RelaxedParallax
	for _, o := range []Observation{with(0, 0.02, 0), with(2, 0.02, 0), with(4, 0.02, 0)} { // the policy's 4 frames: 3 neutral + the action
		l.Offer([]byte("f"), o)
	}
	if ok, _ := l.Offer([]byte("open"), with(1, 0.5, 0)); !ok || !l.Done() {
		t.Fatalf("open mouth refused (%v) or not done", ok)
	}
}

func TestLiveWipe(t *testing.T) {
	l := newLive(t, wire.ActionTurnLeft, wire.ActionTurnRight)
	data := []byte("secret frame")
	if ok, _ := l.Offer(data, framed(0, 0.02)); !ok {
		t.Fatal("neutral frame refused")
	}
	data[0] = 'S' // the capture keeps its own copy
	inner := l.frames[0].data
	if inner[0] != 's' {
		t.Fatal("the capture aliases the caller's buffer")
	}
	l.Wipe()
	if slices.ContainsFunc(inner, func(b byte) bool { return b != 0 }) {
		t.Fatal("wipe left frame bytes")
	}
	if _, err := l.Frames(); !errors.Is(err, ErrWiped) {
		t.Fatalf("frames after wipe: %v", err)
	}
	if ok, _ := l.Offer([]byte("y"), framed(1, 0.02)); ok {
		t.Fatal("a wiped capture kept a frame")
	}
}

// TestLiveOnRecordings plays the real recordings' measured frames in a loop,
// as a camera fed from a looping file would, through Live for every
// challenge the default policy can issue, and checks what Live keeps
// against the enclave's order rule. Person A only turns (never opens the
// mouth), person B talks and turns a little to the left: Live must finish
// exactly the challenges the recording can answer.
func TestLiveOnRecordings(t *testing.T) {
	dir := filepath.Join("..", "testdata", "liveness")
	a, err := LoadAnalysis(filepath.Join(dir, "analysis.json"))
	if err != nil {
		t.Fatal(err)
	}
	acts := []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth}
	for _, rec := range []string{"head-turn-a", "talking-b-take1", "talking-b-take2"} {
		frames, err := ReadDir(filepath.Join(dir, rec))
		if err != nil {
			t.Fatal(err)
		}
		Analyze(a.Analyzer(nil), frames)
		for _, x := range acts {
			for _, y := range acts {
				if x == y {
					continue
				}
				ch := []string{x, y}
				_, pickErr := Pick(frames, ch, 4, 16, RelaxedThresholds)
				l, err := NewLive(ch, 4, 16, RelaxedThresholds, DefaultFraming)
				if err != nil {
					t.Fatal(err)
				}
				var kept []Frame
				for loop := 0; loop < 3 && !l.Done(); loop++ {
					for _, f := range frames {
						o := framed(f.Yaw, f.MouthOpen)
						o.Faces = f.Faces
						if l.Guide(o).Candidate {
							if ok, _ := l.Offer(f.Data, o); ok {
								kept = append(kept, f)
							}
						}
					}
				}
				if l.Done() != (pickErr == nil) {
					t.Errorf("%s %v: live done %v, but Pick says %v", rec, ch, l.Done(), pickErr)
					continue
				}
				if l.Done() && !enclaveOrder(kept, ch) {
					t.Errorf("%s %v: kept frames fail the order rule", rec, ch)
				}
			}
		}
	}
}
