package faceengine

import (
	"crypto/sha256"
	"fmt"
	"image"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/mobilefacenet"
)

// Name is the registry name and the FaceVector engine ID.
const Name = "mobilefacenet"

// Calibrated decision thresholds on the cosine score (see the package
// documentation and docs/engine-pipeline.md).
const (
	// DefaultMatchThreshold: a score at or above it is the same person.
	DefaultMatchThreshold = 0.40
	// DefaultNewThreshold: a best score below it is a new person.
	DefaultNewThreshold = 0.25
)

func init() {
	vectors.Register(Name, func() (vectors.Engine, error) { return New(detect.Options{}) })
}

// Engine is the default face engine.
type Engine struct {
	det *detect.Detector
	net *mobilefacenet.Net
	sha [32]byte
}

var _ vectors.Engine = (*Engine)(nil)

// New returns the engine with the given detector options.
func New(opts detect.Options) (*Engine, error) {
	d, err := detect.New(opts)
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	n, err := mobilefacenet.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	h := sha256.New()
	ds, ns := d.ModelSHA256(), n.ModelSHA256()
	h.Write(ds[:])
	h.Write(ns[:])
	e := &Engine{det: d, net: n}
	h.Sum(e.sha[:0])
	return e, nil
}

var shared = sync.OnceValues(func() (*Engine, error) { return New(detect.Options{}) })

// Default returns the process-wide engine with default options.
func Default() (*Engine, error) { return shared() }

// ID returns [Name].
func (e *Engine) ID() string { return Name }

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
	crop, _, err := align.Crop(img, f.Five, e.net.InputSize())
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return crop, nil
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
	return vectors.FaceVector{Engine: Name, ModelSHA256: e.sha, Values: v}, nil
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

// Thresholds returns the calibrated defaults.
func (e *Engine) Thresholds() vectors.Thresholds {
	return vectors.Thresholds{Match: DefaultMatchThreshold, New: DefaultNewThreshold}
}
