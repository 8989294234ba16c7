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

// Name is the default engine's registry name and FaceVector engine ID.
const Name = "mobilefacenet"

// DlibName is the second engine: the same detector with dlib's ResNet
// descriptor (128-d) on dlib's 150×150 face chip.
const DlibName = "dlibresnet"

// Calibrated decision thresholds on the cosine score (see the package
// documentation and docs/engine-pipeline.md).
const (
	// DefaultMatchThreshold: a score at or above it is the same person.
	DefaultMatchThreshold = 0.40
	// DefaultNewThreshold: a best score below it is a new person.
	DefaultNewThreshold = 0.25
)

// Calibrated thresholds of the dlib engine (cosine of L2-normalised
// descriptors; see docs/engine-pipeline.md).
const (
	DlibMatchThreshold = 0.94
	DlibNewThreshold   = 0.89
)

func init() {
	vectors.Register(Name, func() (vectors.Engine, error) { return New(detect.Options{}) })
	vectors.Register(DlibName, func() (vectors.Engine, error) { return NewDlib(detect.Options{}) })
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
func New(opts detect.Options) (*Engine, error) {
	n, err := mobilefacenet.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(Name, opts, n, align.ArcFace112, vectors.Thresholds{Match: DefaultMatchThreshold, New: DefaultNewThreshold})
}

// NewDlib returns the dlib ResNet engine ([DlibName]).
func NewDlib(opts detect.Options) (*Engine, error) {
	n, err := dlibresnet.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(DlibName, opts, n, dlibresnet.Template, vectors.Thresholds{Match: DlibMatchThreshold, New: DlibNewThreshold})
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

// Detect returns every face in img, best first.
func (e *Engine) Detect(img image.Image) ([]vectors.Face, error) { return e.det.Detect(img) }

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
	crop, err := e.Crop(img, f)
	if err != nil {
		return vectors.FaceVector{}, err
	}
	defer clear(crop.Pix)
	v, err := e.net.Embed(crop)
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
