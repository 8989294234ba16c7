package vectors

import "image"

// Stage is one step of an engine's work on a frame. Stages exist for
// timing only: no result depends on them.
type Stage uint8

// The engine stages, in the order a frame goes through them.
const (
	// StageDetect finds the face boxes (BlazeFace in the default engines,
	// including the letterbox resample of the frame).
	StageDetect Stage = iota
	// StageLandmarks places the dense landmarks and measures the pose of
	// each face (FaceMesh in the default engines).
	StageLandmarks
	// StageAlign warps the face onto the embedder's template.
	StageAlign
	// StageEmbed runs the embedding network.
	StageEmbed
	// NumStages is the number of stages.
	NumStages
)

var stageNames = [NumStages]string{"detect", "landmarks", "align", "embed"}

// String is the stage's metric label.
func (s Stage) String() string {
	if s < NumStages {
		return stageNames[s]
	}
	return "unknown"
}

// Laps is told when each stage of an engine call ends. The engine reads no
// clock: a Laps implementation reads its own and charges the time since its
// previous lap (or since it started) to the stage named.
type Laps interface {
	Lap(Stage)
}

// LapEngine is an [Engine] that can say where its time goes. Its Laps
// methods return exactly what Detect and Embed return for the same input;
// l may be nil.
type LapEngine interface {
	Engine
	DetectLaps(img image.Image, l Laps) ([]Face, error)
	EmbedLaps(img image.Image, f Face, l Laps) (FaceVector, error)
}

// Lap calls l.Lap(s) when l is not nil.
func Lap(l Laps, s Stage) {
	if l != nil {
		l.Lap(s)
	}
}
