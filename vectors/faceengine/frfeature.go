package faceengine

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/frfeature"
)

// FRFeatureName is the fr_feature engine: the detector, the ArcFace
// 112×112 crop and the 512-d fr_feature.onnx of
// faceplugin-face-recognition-js@0.0.1 run by the ONNX front-end
// (vectors/frfeature; read its model/PROVENANCE.md before production use).
const FRFeatureName = "fr-feature"

// PLACEHOLDER thresholds of the fr-feature engine, NOT calibrated: set
// from the cosine distributions on the 16-person LFW slice only (same
// person: mean 0.61, 1st percentile 0.26; different people: mean 0.00,
// highest 0.33 of 1,468 pairs), to be replaced by the thresholds derived
// from the engine's calibrated impostor curve (vectors/calib) before this
// engine decides anything in production.
const (
	FRFeatureMatchThreshold = 0.45
	FRFeatureNewThreshold   = 0.35
	FRFeatureMargin         = 0.05
)

func init() {
	vectors.Register(FRFeatureName, func() (vectors.Engine, error) { return NewFRFeature(detect.Options{}) })
}

var _ embedder = (*frfeature.Net)(nil)

// NewFRFeature returns the fr_feature engine ([FRFeatureName]).
func NewFRFeature(opts detect.Options) (*Engine, error) {
	n, err := frfeature.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	return assemble(FRFeatureName, opts, n, align.ArcFace112,
		vectors.Thresholds{Match: FRFeatureMatchThreshold, New: FRFeatureNewThreshold, Margin: FRFeatureMargin})
}
