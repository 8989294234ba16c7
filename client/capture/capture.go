// Package capture turns a directory of recorded frames into the frames that
// answer a liveness challenge. It exists for demos and tests only: a real app
// films the user live while showing the challenge's actions. Picking matching
// frames out of a recording is exactly the replay the liveness check cannot
// tell from a live capture (see docs/liveness.md), which is why this package
// is honest about what it does and is never part of a production flow.
//
// # How frames are picked
//
// Every frame is analysed with the same face engine the enclave runs
// ([EngineAnalyzer]: face count, head yaw, mouth opening). [Pick] then
// builds a sequence that, for each action of the challenge in order, shows a
// frame clearly NOT performing it followed by frames clearly performing it,
// with margins over the enclave's default thresholds ([DefaultThresholds]),
// preceded by neutral frames up to the policy's minimum frame count. Frames
// are never repeated. If the recording does not contain the actions, Pick
// fails with [ErrCannotPerform] and the caller asks for another challenge.
package capture

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/facesign/facesign/wire"
)

// Frame is one recorded frame and what the engine saw in it.
type Frame struct {
	Name  string
	Data  []byte
	Faces int
	// Yaw is the head yaw in degrees, positive when the user turned to their
	// own left; MouthOpen the inner-lip gap over mouth width. Both are zero
	// unless Faces == 1.
	Yaw, MouthOpen float32
}

// An Analyzer measures one encoded frame.
type Analyzer interface {
	Analyze(data []byte) (faces int, yaw, mouthOpen float32, err error)
}

// EngineAnalyzer measures frames with a face engine's detector.
func EngineAnalyzer(e vectors.Engine) Analyzer { return engineAnalyzer{e} }

type engineAnalyzer struct{ e vectors.Engine }

var _ Analyzer = engineAnalyzer{}

func (a engineAnalyzer) Analyze(data []byte) (int, float32, float32, error) {
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return 0, 0, 0, err
	}
	faces, err := a.e.Detect(img)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(faces) != 1 {
		return len(faces), 0, 0, nil
	}
	return 1, faces[0].Yaw, faces[0].MouthOpen, nil
}

// ReadDir reads the JPEG and PNG files of dir, sorted by name (capture order).
func ReadDir(dir string) ([]Frame, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var out []Frame
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		out = append(out, Frame{Name: e.Name(), Data: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) == 0 {
		return nil, fmt.Errorf("capture: no JPEG or PNG frames in %s", dir)
	}
	return out, nil
}

// Analyze fills in the measurements of frames with a. Frames that do not
// decode are kept with Faces == 0.
func Analyze(a Analyzer, frames []Frame) {
	for i := range frames {
		n, yaw, mouth, err := a.Analyze(frames[i].Data)
		if err != nil {
			n = 0
		}
		frames[i].Faces, frames[i].Yaw, frames[i].MouthOpen = n, yaw, mouth
	}
}

// Thresholds say when a frame clearly performs an action (Turn, Front,
// Open) and when it clearly does not (Rest…), in degrees and mouth ratios.
type Thresholds struct {
	Turn, TurnRest   float32 // |yaw| ≥ Turn: turned; on the other side of TurnRest: not turned
	Front            float32 // |yaw| ≤ Front: facing front
	Open, OpenRest   float32 // mouth ≥ Open: open; ≤ OpenRest: closed
	OpenMaxYaw       float32 // an open mouth must be seen from the front-ish
	NeutralMaxMouth  float32 // padding frames: mouth below this
	NeutralMaxAbsYaw float32 // padding frames: |yaw| below this
}

// DefaultThresholds keep a margin over the enclave's default liveness
// settings (turn 15°, front 12°, mouth open 0.30 / closed 0.20).
var DefaultThresholds = Thresholds{
	Turn: 20, TurnRest: 5, Front: 8, Open: 0.36, OpenRest: 0.15, OpenMaxYaw: 20,
	NeutralMaxMouth: 0.15, NeutralMaxAbsYaw: 6,
}

// RelaxedThresholds sit just past the enclave's default liveness settings.
// The client runs the same engine on the same bytes as the enclave, so its
// measurements are the enclave's; the margin only absorbs rounding.
var RelaxedThresholds = Thresholds{
	Turn: 16, TurnRest: 6.5, Front: 11, Open: 0.32, OpenRest: 0.18, OpenMaxYaw: 25,
	NeutralMaxMouth: 0.18, NeutralMaxAbsYaw: 8,
}

// ErrCannotPerform reports a recording that does not show a challenge's actions.
var ErrCannotPerform = errors.New("capture: the recording does not show the challenge's actions")

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func (t Thresholds) does(action string, f Frame) bool {
	switch action {
	case wire.ActionTurnLeft:
		return f.Yaw >= t.Turn
	case wire.ActionTurnRight:
		return f.Yaw <= -t.Turn
	case wire.ActionOpenMouth:
		return f.MouthOpen >= t.Open && abs(f.Yaw) < t.OpenMaxYaw
	case wire.ActionFaceFront:
		return abs(f.Yaw) <= t.Front && f.MouthOpen < t.OpenRest*2
	}
	return false
}

func (t Thresholds) doesNot(action string, f Frame) bool {
	switch action {
	case wire.ActionTurnLeft:
		return f.Yaw < t.TurnRest
	case wire.ActionTurnRight:
		return f.Yaw > -t.TurnRest
	case wire.ActionOpenMouth:
		return f.MouthOpen <= t.OpenRest
	case wire.ActionFaceFront:
		return abs(f.Yaw) >= t.Turn
	}
	return false
}

// strength orders frames performing action: larger is clearer.
func strength(action string, f Frame) float32 {
	switch action {
	case wire.ActionTurnLeft:
		return f.Yaw
	case wire.ActionTurnRight:
		return -f.Yaw
	case wire.ActionOpenMouth:
		return f.MouthOpen
	case wire.ActionFaceFront:
		return -abs(f.Yaw)
	}
	return 0
}

// away orders frames not performing action: smaller is closer to a neutral
// pose (for a turn, |yaw|, whichever side; for an open mouth, the opening).
func away(action string, f Frame) float32 {
	switch action {
	case wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionFaceFront:
		return abs(f.Yaw)
	}
	return strength(action, f)
}

// clearer reports whether f is the better frame to show action than g, both
// performing it: for a turn the LESS turned (both are past the threshold,
// which keeps a margin over the enclave's), otherwise the stronger.
func clearer(action string, f, g Frame) bool {
	switch action {
	case wire.ActionTurnLeft, wire.ActionTurnRight:
		return strength(action, f) < strength(action, g)
	}
	return strength(action, f) > strength(action, g)
}

// similar reports frames that look like repeats of each other to the
// enclave's measurements (a GIF repeating a frame, a still camera): the same
// yaw within a degree and the same mouth opening within 0.02.
func similar(a, b Frame) bool {
	return abs(a.Yaw-b.Yaw) < 1 && abs(a.MouthOpen-b.MouthOpen) < 0.02
}

// Pick returns the frames (encoded, in order) that perform actions, at least
// minFrames and at most maxFrames of them, as few as it can: for each action
// one frame clearly not performing it (the previous action's frame when that
// qualifies), as close to a neutral pose as the recording has, and one
// clearly performing it — for a turn, the least turned frame past t.Turn,
// not the most turned. The enclave checks that every frame shows the same
// person as the others, and face vectors drift with the yaw (the ArcFace
// networks' most of all: docs/liveness.md), so frames turned no further
// than the challenge needs are the ones most likely to pass. Only
// single-face frames are used, and never two that look like repeats of each
// other.
func Pick(frames []Frame, actions []string, minFrames, maxFrames int, t Thresholds) ([][]byte, error) {
	var seq []int
	usable := func(i int) bool {
		if frames[i].Faces != 1 {
			return false
		}
		for _, j := range seq {
			if j == i || similar(frames[i], frames[j]) {
				return false
			}
		}
		return true
	}
	for _, a := range actions {
		if n := len(seq); n == 0 || !t.doesNot(a, frames[seq[n-1]]) {
			best := -1
			for i, f := range frames {
				if usable(i) && t.doesNot(a, f) && (best < 0 || away(a, f) < away(a, frames[best])) {
					best = i
				}
			}
			if best < 0 {
				return nil, fmt.Errorf("%w: no frame clearly before %q", ErrCannotPerform, a)
			}
			seq = append(seq, best)
		}
		best := -1
		for i, f := range frames {
			if usable(i) && t.does(a, f) && (best < 0 || clearer(a, f, frames[best])) {
				best = i
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("%w: no frame clearly performing %q", ErrCannotPerform, a)
		}
		seq = append(seq, best)
	}
	// Neutral padding at the front, spread over the recording.
	var neutral []int
	for i, f := range frames {
		if usable(i) && abs(f.Yaw) <= t.NeutralMaxAbsYaw && f.MouthOpen <= t.NeutralMaxMouth {
			dup := false
			for _, j := range neutral {
				dup = dup || similar(f, frames[j])
			}
			if !dup {
				neutral = append(neutral, i)
			}
		}
	}
	need := minFrames - len(seq)
	if need > len(neutral) {
		return nil, fmt.Errorf("%w: %d frames needed, %d usable", ErrCannotPerform, minFrames, len(seq)+len(neutral))
	}
	var pad []int
	for k := 0; k < need; k++ {
		pad = append(pad, neutral[k*len(neutral)/need])
	}
	seq = append(pad, seq...)
	if len(seq) > maxFrames {
		return nil, fmt.Errorf("%w: %d frames needed, the policy allows %d", ErrCannotPerform, len(seq), maxFrames)
	}
	out := make([][]byte, len(seq))
	for k, i := range seq {
		out[k] = frames[i].Data
	}
	return out, nil
}
