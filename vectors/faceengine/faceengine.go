package faceengine

import (
	"crypto/sha256"
	"fmt"
	"image"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/dlibresnet"
	"github.com/facesign/facesign/vectors/mobilefacenet"
)

// Name is the default engine's registry name and FaceVector engine ID:
// [ArcfaceFusedName], the most accurate engine we have through our own
// detector and aligner on the full LFW (see docs/engine.md).
const Name = ArcfaceFusedName

// DlibName is the dlib engine: the detector, dlib's 150×150 face chip and
// dlib's ResNet descriptor (128-d).
const DlibName = "dlibresnet"

// MobileFaceName is the alternative, smaller engine: the detector, the
// ArcFace 112×112 crop and MobileFace (256-d). It is about 5× cheaper to
// embed and less accurate (EER 6.9 % against 1.4 % on the LFW slice).
const MobileFaceName = "mobilefacenet"

// Fixed decision thresholds of the default engine ([ArcfaceFusedName]) on
// the cosine score ([ArcfaceFusedMatchThreshold] and the others in
// fused.go: see there where they come from). Each engine's cosines live on
// their own scale, so these numbers mean nothing for another engine. Where
// a calibrated curve ships for the engine (vectors/calib), the enclave
// derives its thresholds from the gallery size instead.
const (
	// DefaultMatchThreshold: a score at or above it is the same person.
	DefaultMatchThreshold = ArcfaceFusedMatchThreshold
	// DefaultNewThreshold: a best score below it is a new person.
	DefaultNewThreshold = ArcfaceFusedNewThreshold
	// DefaultMargin: the best other identity must score this far below
	// the match threshold before a match is accepted.
	DefaultMargin = ArcfaceFusedMargin
)

// Calibrated thresholds of the dlib engine, from `facesign eval` on
// shared/testdata/faces and the recorded selfie frames
// (docs/engine-pipeline.md). dlib's cosines crowd between 0.75 and 1
// (different people average 0.84).
const (
	DlibMatchThreshold = 0.94
	DlibNewThreshold   = 0.89
	DlibMargin         = 0.01
)

// Calibrated thresholds of the MobileFace engine.
const (
	MobileFaceMatchThreshold = 0.40
	MobileFaceNewThreshold   = 0.25
	MobileFaceMargin         = 0.10
)

func init() {
	vectors.Register(DlibName, func() (vectors.Engine, error) { return NewDlib(detect.Options{}) })
	vectors.Register(MobileFaceName, func() (vectors.Engine, error) { return NewMobileFace(detect.Options{}) })
}

// embedder is a face embedding network reading an aligned square crop.
type embedder interface {
	Embed(crop *image.RGBA) ([]float32, error)
	ModelSHA256() [32]byte
	InputSize() int
	Dim() int
}

var (
	_ embedder = (*mobilefacenet.Net)(nil)
	_ embedder = (*dlibresnet.Net)(nil)
)

// Engine is a face engine: the detector, a five-point template and an
// embedding network.
type Engine struct {
	name     string
	det      *detect.Detector
	net      embedder
	template [5]vectors.Point // in crop pixels
	th       vectors.Thresholds
	sha      [32]byte
}

var _ vectors.Engine = (*Engine)(nil)

// New returns the default engine ([Name]) with the given detector options.
func New(opts detect.Options) (*Engine, error) { return NewArcfaceFused(opts) }

// NewMobileFace returns the MobileFace engine ([MobileFaceName]).
func NewMobileFace(opts detect.Options) (*Engine, error) {
	n, err := mobilefacenet.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(MobileFaceName, opts, n, align.ArcFace112, vectors.Thresholds{Match: MobileFaceMatchThreshold, New: MobileFaceNewThreshold, Margin: MobileFaceMargin})
}

// NewDlib returns the dlib ResNet engine ([DlibName]).
func NewDlib(opts detect.Options) (*Engine, error) {
	n, err := dlibresnet.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(DlibName, opts, n, dlibresnet.Template, vectors.Thresholds{Match: DlibMatchThreshold, New: DlibNewThreshold, Margin: DlibMargin})
}

func assemble(name string, opts detect.Options, n embedder, template [5]vectors.Point, th vectors.Thresholds) (*Engine, error) {
	d, err := detect.New(opts)
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	h := sha256.New()
	ds, ns := d.ModelSHA256(), n.ModelSHA256()
	h.Write(ds[:])
	h.Write(ns[:])
	e := &Engine{name: name, det: d, net: n, template: template, th: th}
	h.Sum(e.sha[:0])
	return e, nil
}

var shared = sync.OnceValues(func() (*Engine, error) { return New(detect.Options{}) })

// Default returns the process-wide engine with default options.
func Default() (*Engine, error) { return shared() }

// ID returns the engine's registry name.
func (e *Engine) ID() string { return e.name }

// ModelSHA256 identifies detector and embedder weights together.
func (e *Engine) ModelSHA256() [32]byte { return e.sha }

// Dim is the vector length.
func (e *Engine) Dim() int { return e.net.Dim() }

// Detector returns the engine's detector (for liveness checks that need the
// landmarks and pose).
func (e *Engine) Detector() *detect.Detector { return e.det }

var _ vectors.LapEngine = (*Engine)(nil)

// Detect returns every face in img, best first.
func (e *Engine) Detect(img image.Image) ([]vectors.Face, error) { return e.det.Detect(img) }

// DetectLaps is [Engine.Detect] telling l when the boxes and the landmarks
// are done ([vectors.LapEngine]).
func (e *Engine) DetectLaps(img image.Image, l vectors.Laps) ([]vectors.Face, error) {
	return e.det.DetectLaps(img, l)
}

// Crop returns the aligned crop the network reads for face f.
func (e *Engine) Crop(img image.Image, f vectors.Face) (*image.RGBA, error) {
	size := e.net.InputSize()
	fwd, err := align.Similarity(f.Five[:], e.template[:])
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	inv, err := fwd.Invert()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return align.Warp(img, inv, size, size), nil
}

// Embed aligns face f of img and returns its vector.
func (e *Engine) Embed(img image.Image, f vectors.Face) (vectors.FaceVector, error) {
	return e.EmbedLaps(img, f, nil)
}

// EmbedLaps is [Engine.Embed] telling l when the crop
// ([vectors.StageAlign]) and the network ([vectors.StageEmbed]) are done.
func (e *Engine) EmbedLaps(img image.Image, f vectors.Face, l vectors.Laps) (vectors.FaceVector, error) {
	crop, err := e.Crop(img, f)
	vectors.Lap(l, vectors.StageAlign)
	if err != nil {
		return vectors.FaceVector{}, err
	}
	defer clear(crop.Pix)
	v, err := e.net.Embed(crop)
	vectors.Lap(l, vectors.StageEmbed)
	if err != nil {
		return vectors.FaceVector{}, fmt.Errorf("faceengine: %w", err)
	}
	return vectors.FaceVector{Engine: e.name, ModelSHA256: e.sha, Values: v}, nil
}

// One returns the single usable face of img and its vector.
func (e *Engine) One(img image.Image) (vectors.Face, vectors.FaceVector, error) {
	f, err := e.det.One(img)
	if err != nil {
		return vectors.Face{}, vectors.FaceVector{}, err
	}
	v, err := e.Embed(img, f)
	if err != nil {
		return vectors.Face{}, vectors.FaceVector{}, err
	}
	return f, v, nil
}

var _ vectors.Calibrated = (*Engine)(nil)

// Thresholds returns the engine's calibrated thresholds.
func (e *Engine) Thresholds() vectors.Thresholds { return e.th }
