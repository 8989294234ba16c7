package vectors

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"sync"
)

// Point is a position in image pixel coordinates (x right, y down).
type Point struct{ X, Y float32 }

// Box is an axis-aligned rectangle in image pixel coordinates.
type Box struct{ X, Y, W, H float32 }

// Landmark5 indexes the five points of the ArcFace alignment template, in
// image order: the eye that appears on the image's left first.
const (
	LeftEye = iota
	RightEye
	Nose
	LeftMouth
	RightMouth
)

// Face is one detected face with the geometry liveness and alignment need.
type Face struct {
	Box   Box
	Score float32 // detector confidence in [0, 1]
	// Five holds the five alignment points, indexed by LeftEye..RightMouth.
	Five [5]Point
	// Landmarks holds the detector's dense landmarks (engine specific), if any.
	Landmarks []Point
	// Yaw, Pitch and Roll are head pose estimates in degrees. Positive yaw
	// means the face turned towards the image's right.
	Yaw, Pitch, Roll float32
	// MouthOpen is the inner-lip gap divided by the mouth width (0 closed).
	MouthOpen float32
}

// FaceVector is an L2-normalised embedding of one face. Vectors made by
// different engines (or different weights) never compare.
type FaceVector struct {
	Engine      string
	ModelSHA256 [32]byte
	Values      []float32
}

// ErrEngineMismatch reports a comparison between vectors from different engines.
var ErrEngineMismatch = errors.New("vectors: face vectors come from different engines")

// Cosine returns the cosine similarity of two vectors of the same engine.
// Both are L2-normalised, so this is their inner product, in [-1, 1].
func Cosine(a, b FaceVector) (float32, error) {
	if a.Engine != b.Engine || a.ModelSHA256 != b.ModelSHA256 {
		return 0, ErrEngineMismatch
	}
	if len(a.Values) != len(b.Values) {
		return 0, fmt.Errorf("%w: dimensions %d and %d", ErrEngineMismatch, len(a.Values), len(b.Values))
	}
	var s float64
	for i := range a.Values {
		s += float64(a.Values[i]) * float64(b.Values[i])
	}
	return float32(s), nil
}

// Normalize scales v to unit L2 norm in place and reports false when v is zero
// or not finite.
func Normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return false
	}
	inv := 1 / math.Sqrt(s)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return true
}

// An Engine finds faces in images and turns one face into a FaceVector.
// Implementations are safe for concurrent use.
type Engine interface {
	// ID names the engine and its weights, e.g. "mobilefacenet-v1".
	ID() string
	// ModelSHA256 is the SHA-256 over the engine's weight files.
	ModelSHA256() [32]byte
	// Dim is the length of the vectors it makes.
	Dim() int
	// Detect returns every face in img, best first.
	Detect(img image.Image) ([]Face, error)
	// Embed aligns face f of img and returns its vector.
	Embed(img image.Image, f Face) (FaceVector, error)
}

var (
	registryMu sync.RWMutex
	registry   = map[string]func() (Engine, error){}
)

// Register makes an engine constructor available by name. It panics if the
// name is taken: registration happens in init functions.
func Register(name string, open func() (Engine, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("vectors: engine registered twice: " + name)
	}
	registry[name] = open
}

// ErrUnknownEngine reports a name no engine registered under.
var ErrUnknownEngine = errors.New("vectors: unknown engine")

// Engines lists the registered engine names, sorted.
func Engines() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open returns the engine registered under name.
func Open(name string) (Engine, error) {
	registryMu.RLock()
	open, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownEngine, name)
	}
	return open()
}
