package capture

import (
	"errors"
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// Live capture: the frames a device films while the person answers a
// challenge. Unlike [Pick], which chooses from a finished recording, [Live]
// sees one camera frame at a time, tells the person what to do next, and
// keeps only the frames that the challenge needs, in the order the person
// produced them.
//
// Each camera frame goes through two steps. [Live.Guide] takes the fast
// measurement of the device's face tracking ([Observation]) and says what to
// show the person ([Guidance]) and whether the frame is worth keeping
// (Guidance.Candidate). Only then does the caller encode the frame as it
// will be sent, measure those exact bytes as the enclave will (a full
// detection), and hand both to [Live.Offer], which keeps the frame if it
// still qualifies. The slow measurement decides; the fast one only guides.

// Observation is what face tracking saw in one frame. Yaw follows
// [vectors.Face]: positive when the face turns towards the image's right,
// which for unmirrored camera frames is the person's own left.
type Observation struct {
	// Faces is the number of faces seen (0, 1, or more).
	Faces int
	// Yaw in degrees and MouthOpen (inner-lip gap over mouth width) of the
	// face when Faces == 1.
	Yaw, MouthOpen float32
	// EyeDistance is the distance between the eye centres in pixels.
	EyeDistance float32
	// FaceX, FaceY, FaceW, FaceH is the face's box in frame pixels.
	FaceX, FaceY, FaceW, FaceH float32
	// Width and Height are the frame's size in pixels.
	Width, Height int
	// Brightness is the mean luma (0..255) inside the face box.
	Brightness float32
	// Five are the face's alignment points (pixels), for [vectors.Parallax].
	Five [5]vectors.Point
}

// Framing says when a face is placed well enough to measure. The enclave
// refuses eyes closer than 16 px and face boxes under 40 px
// (docs/liveness.md); these limits keep a margin and ask for a face that
// fills a fair part of the frame, as the page's oval does.
type Framing struct {
	MinEyeDistance float32 // pixels
	MinFaceShare   float32 // face box height over frame height: below, "move closer"
	MaxFaceShare   float32 // above, "move back"
	MaxOffCentre   float32 // face centre off the frame centre, as a share of the frame's width or height
	MinBrightness  float32 // mean luma of the face below this: "more light"
}

// DefaultFraming is the framing a phone or laptop camera meets easily at
// arm's length in an ordinary room.
//
// MinBrightness is 40: the enclave has no brightness rule, so this one must
// only stop frames too dark to measure, never a good turn. At 50 it
// refused person A's 40° turns of the real recordings (head-turn-a frames
// 32–35: the face box's mean luma 44.5, the lit cheek turned away, the
// face measured as well as in the frontal frames); the page then waited a
// whole loop of the video for the next turn.
var DefaultFraming = Framing{MinEyeDistance: 18, MinFaceShare: 0.2, MaxFaceShare: 0.9, MaxOffCentre: 0.3, MinBrightness: 40}

// GuideCode is what the page should tell the person; the page maps each to
// a sentence in its own language.
type GuideCode string

// Guidance codes, most urgent first: a frame that fails one of the framing
// checks gets that check's code, whatever the step.
const (
	GuideNoFace       GuideCode = "no_face"       // put your face in the oval
	GuideSeveralFaces GuideCode = "several_faces" // only one face, please
	GuideMoveCloser   GuideCode = "move_closer"
	GuideMoveBack     GuideCode = "move_back"
	GuideCentre       GuideCode = "centre_face" // centre your face in the oval
	GuideMoreLight    GuideCode = "more_light"
	GuideLookAtCamera GuideCode = "look_at_camera" // face the camera, mouth closed
	GuideCloseMouth   GuideCode = "close_mouth"
	GuideTurnAside    GuideCode = "turn_aside" // turn a little to either side (before face_front)
	GuideAction       GuideCode = "action"     // do Guidance.Action
	GuideTurnMore     GuideCode = "turn_more"  // every action done, the turns too flat yet: turn to a side and back
	GuideDone         GuideCode = "done"
)

// Guidance is what to show for one frame.
type Guidance struct {
	Code GuideCode
	// Action is the challenge action the person is asked for, when Code is
	// GuideAction, or the action that comes next otherwise ("" once every
	// action is kept).
	Action string
	// Step is the index of the current action (0-based; len(actions) once
	// every action is kept) and Steps the number of actions.
	Step, Steps int
	// Candidate reports that the frame would advance the capture: the
	// caller should encode it, measure the bytes and [Live.Offer] them.
	Candidate bool
}

// Errors of [NewLive] and [Live.Frames].
var (
	ErrLiveConfig = errors.New("capture: invalid live capture")
	ErrNotDone    = errors.New("capture: the challenge's actions have not all been captured")
	ErrWiped      = errors.New("capture: the frames were wiped")
)

type phase int

const (
	phaseNeutral phase = iota // frames facing the camera, mouth closed
	phaseRest                 // the "not yet" frame of the current action
	phaseDo                   // the frame performing the current action
	phaseDepth                // every action kept, the parallax rule not yet met
	phaseDone
)

type kept struct {
	data []byte
	f    Frame
	five [5]vectors.Point
}

// RelaxedParallax is the enclave's default parallax rule (0.15 eye
// distances between two frames of a challenge with a turn;
// enclave.DefaultLivenessConfig) with a margin for rounding: the device
// measures the same bytes with the same detector.
const RelaxedParallax = 0.155

// Live assembles the frames answering one challenge from a camera. It is not
// safe for concurrent use. Frames it keeps are its own copies; [Live.Wipe]
// zeroes them.
type Live struct {
	actions  []string
	min, max int
	t        Thresholds
	framing  Framing

	// MinParallax, when positive, is the parallax ([vectors.Parallax], in
	// eye distances) that two of the kept frames must reach before a
	// challenge with a turn is done, as the enclave requires: over every
	// pair of the capture's frames, whatever their order. A turn counts
	// by its yaw, as the enclave's order rule counts it; if the actions
	// are all kept and no pair reaches MinParallax yet, the person is asked
	// to turn to a side and back ([GuideTurnMore]) and the first frame
	// that lifts the capture past the rule is kept as well (within the
	// policy's frame limit). Zero: no check.
	MinParallax float64

	neutral int // neutral frames to collect first
	step    int
	ph      phase
	frames  []kept
	wiped   bool
}

// NewLive starts a capture of actions (a challenge's, in order) under the
// policy's frame limits, with thresholds t (margins over the enclave's) and
// framing f. The capture collects first enough frames of the person facing
// the camera for the policy's minimum, then for each action a frame not yet
// performing it and one performing it.
func NewLive(actions []string, minFrames, maxFrames int, t Thresholds, f Framing) (*Live, error) {
	if len(actions) == 0 {
		return nil, fmt.Errorf("%w: no actions", ErrLiveConfig)
	}
	for _, a := range actions {
		switch a {
		case wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth, wire.ActionFaceFront:
		default:
			return nil, fmt.Errorf("%w: unknown action %q", ErrLiveConfig, a)
		}
	}
	// One neutral frame, plus a rest and a performing frame per action
	// (the first action's rest is the neutral frame unless it is
	// face_front): at most 1 + 2·len(actions) frames besides padding.
	most := 1 + 2*len(actions)
	neutral := max(1, minFrames-(2*len(actions)-1))
	if minFrames < 1 || maxFrames < minFrames || neutral-1+most > maxFrames {
		return nil, fmt.Errorf("%w: %d actions do not fit in %d..%d frames", ErrLiveConfig, len(actions), minFrames, maxFrames)
	}
	return &Live{actions: slices.Clone(actions), min: minFrames, max: maxFrames, t: t, framing: f, neutral: neutral}, nil
}

// frameOf is the part of an observation the thresholds look at.
func frameOf(o Observation) Frame {
	return Frame{Faces: o.Faces, Yaw: o.Yaw, MouthOpen: o.MouthOpen}
}

// framingCode is the framing problem of o, or "".
func (l *Live) framingCode(o Observation) GuideCode {
	fr := l.framing
	switch {
	case o.Faces == 0:
		return GuideNoFace
	case o.Faces > 1:
		return GuideSeveralFaces
	case o.Height <= 0 || o.Width <= 0:
		return GuideNoFace
	case o.EyeDistance < fr.MinEyeDistance || o.FaceH < fr.MinFaceShare*float32(o.Height):
		return GuideMoveCloser
	case o.FaceH > fr.MaxFaceShare*float32(o.Height):
		return GuideMoveBack
	}
	cx, cy := o.FaceX+o.FaceW/2, o.FaceY+o.FaceH/2
	if abs(cx-float32(o.Width)/2) > fr.MaxOffCentre*float32(o.Width) || abs(cy-float32(o.Height)/2) > fr.MaxOffCentre*float32(o.Height) {
		return GuideCentre
	}
	if o.Brightness < fr.MinBrightness {
		return GuideMoreLight
	}
	return ""
}

func (l *Live) neutralFrame(f Frame) bool {
	return abs(f.Yaw) <= l.t.NeutralMaxAbsYaw && f.MouthOpen <= l.t.NeutralMaxMouth
}

// fresh reports whether f is not a look-alike of a kept frame (the enclave
// refuses repeated frames; a still camera or a looping video repeats).
func (l *Live) fresh(f Frame) bool {
	for _, k := range l.frames {
		if similar(k.f, f) {
			return false
		}
	}
	return true
}

// qualifies reports whether f, with alignment points five, advances the
// current phase.
func (l *Live) qualifies(f Frame, five [5]vectors.Point) bool {
	if !l.fresh(f) {
		return false
	}
	switch l.ph {
	case phaseNeutral:
		return l.neutralFrame(f)
	case phaseRest:
		return l.t.doesNot(l.actions[l.step], f)
	case phaseDo:
		return l.t.does(l.actions[l.step], f)
	case phaseDepth:
		return l.reach(five) >= l.MinParallax
	}
	return false
}

func isTurn(a string) bool { return a == wire.ActionTurnLeft || a == wire.ActionTurnRight }

// needsDepth reports whether the challenge has a turn and the rule is on.
func (l *Live) needsDepth() bool { return l.MinParallax > 0 && slices.ContainsFunc(l.actions, isTurn) }

// depth is the kept frames' parallax as the enclave measures a capture
// ([vectors.MaxParallax]).
func (l *Live) depth() float64 {
	fives := make([][5]vectors.Point, len(l.frames))
	for i, k := range l.frames {
		fives[i] = k.five
	}
	return vectors.MaxParallax(fives)
}

// reach is the largest [vectors.Parallax] from a kept frame to a frame with
// points five, taken after them. In phaseDepth no pair of kept frames
// reaches the rule, so a frame completes the capture exactly when its
// reach does.
func (l *Live) reach(five [5]vectors.Point) float64 {
	best := 0.0
	for _, k := range l.frames {
		best = max(best, vectors.Parallax(k.five, five))
	}
	return best
}

// restCode is what to ask for before action a.
func restCode(a string) GuideCode {
	switch a {
	case wire.ActionOpenMouth:
		return GuideCloseMouth
	case wire.ActionFaceFront:
		return GuideTurnAside
	}
	return GuideLookAtCamera
}

// Guide says what to show for a frame measured as o, and whether the frame
// is a candidate. It changes nothing.
func (l *Live) Guide(o Observation) Guidance {
	g := l.next()
	if l.ph == phaseDone {
		return g
	}
	if c := l.framingCode(o); c != "" {
		g.Code = c
		return g
	}
	g.Candidate = l.qualifies(frameOf(o), o.Five)
	return g
}

// Offer considers the frame data (as it will be sent), measured as o by the
// full detector: it keeps a copy and advances if the frame is well framed
// and qualifies for the current phase, and reports whether it did, with the
// guidance for what comes next. A frame that does not qualify changes
// nothing.
func (l *Live) Offer(data []byte, o Observation) (bool, Guidance) {
	if l.wiped || l.ph == phaseDone || len(data) == 0 || l.framingCode(o) != "" || !l.qualifies(frameOf(o), o.Five) || len(l.frames) >= l.max {
		return false, l.next()
	}
	l.frames = append(l.frames, kept{data: slices.Clone(data), f: frameOf(o), five: o.Five})
	switch l.ph {
	case phaseNeutral:
		if l.neutral--; l.neutral == 0 {
			l.ph = phaseRest
			if l.t.doesNot(l.actions[0], l.frames[len(l.frames)-1].f) {
				l.ph = phaseDo
			}
		}
	case phaseRest:
		l.ph = phaseDo
	case phaseDo:
		l.step++
		l.ph = phaseRest
		if l.step == len(l.actions) {
			l.ph = phaseDone
			if l.needsDepth() && l.depth() < l.MinParallax {
				l.ph = phaseDepth
			}
		}
	case phaseDepth:
		l.ph = phaseDone
	}
	return true, l.next()
}

// next is the guidance of the capture's current phase: what Offer returns
// after a change, and what Guide says of a well-framed frame.
func (l *Live) next() Guidance {
	g := Guidance{Step: l.step, Steps: len(l.actions)}
	switch l.ph {
	case phaseDone:
		g.Code = GuideDone
		return g
	case phaseNeutral:
		g.Code = GuideLookAtCamera
	case phaseRest:
		g.Code = restCode(l.actions[l.step])
	case phaseDo:
		g.Code = GuideAction
	case phaseDepth:
		g.Code = GuideTurnMore
		return g
	}
	g.Action = l.actions[l.step]
	return g
}

// Done reports whether every action was captured.
func (l *Live) Done() bool { return l.ph == phaseDone }

// Frames returns the kept frames in capture order (the capture's own
// copies, not to be modified), or [ErrNotDone].
func (l *Live) Frames() ([][]byte, error) {
	if l.wiped {
		return nil, ErrWiped
	}
	if l.ph != phaseDone {
		return nil, fmt.Errorf("%w: step %d of %d", ErrNotDone, l.step+1, len(l.actions))
	}
	out := make([][]byte, len(l.frames))
	for i, k := range l.frames {
		out[i] = k.data
	}
	return out, nil
}

// Wipe zeroes and forgets every kept frame. The capture then keeps nothing
// more and [Live.Frames] fails with [ErrWiped].
func (l *Live) Wipe() {
	for _, k := range l.frames {
		clear(k.data)
	}
	l.frames = nil
	l.wiped = true
}
