package faceengine

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/arcfacemfn"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/frfeature"
)

// ArcfaceFusedName is the fused ArcFace engine: the detector, the ArcFace
// 112×112 crop, and both ArcFace-class networks on that one crop —
// MobileFaceNet (192-d, [ArcfaceMFNName]) and fr_feature (512-d,
// [FRFeatureName]) — each L2-normalised, weighted equally and concatenated
// (704-d). Its cosine is the mean of the two networks' cosines, so one 1:N
// search decides on the score-level fusion of both. The two networks were
// trained apart and err on different faces; docs/engine.md has the figures.
const ArcfaceFusedName = "arcface-fused"

// Fixed thresholds of the arcface-fused engine: the figures its shipped
// calibration curve (vectors/calib/curves/arcface-fused.json: the
// calibration half of the full LFW, errata removed) gives under the
// default policy at its capacity, 36 enrolled vectors (`facesign engines
// --gallery 36`: match 0.6728 extrapolated, new 0.4171). The enclave
// decides by the curve itself, at the gallery's size (enclave.DefaultPolicy);
// these are what a policy with fixed thresholds, and the tools that show
// them, use — correct for a gallery of up to 36 vectors and too lax beyond.
const (
	ArcfaceFusedMatchThreshold = 0.673
	ArcfaceFusedNewThreshold   = 0.417
	ArcfaceFusedMargin         = 0.05
)

func init() {
	vectors.Register(ArcfaceFusedName, func() (vectors.Engine, error) { return NewArcfaceFused(detect.Options{}) })
}

// NewArcfaceFused returns the fused ArcFace engine ([ArcfaceFusedName]).
func NewArcfaceFused(opts detect.Options) (*Engine, error) {
	mfn, err := arcfacemfn.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	fr, err := frfeature.New()
	if err != nil {
		return nil, fmt.Errorf("faceengine: %w", err)
	}
	n, err := newConcat([]embedder{mfn, fr}, nil)
	if err != nil {
		return nil, err
	}
	return assemble(ArcfaceFusedName, opts, n, align.ArcFace112,
		vectors.Thresholds{Match: ArcfaceFusedMatchThreshold, New: ArcfaceFusedNewThreshold, Margin: ArcfaceFusedMargin})
}
