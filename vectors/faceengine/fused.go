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

// PLACEHOLDER thresholds of the arcface-fused engine, NOT calibrated, used
// only where no calibrated curve is shipped (vectors/calib): the two
// networks' own placeholders (arcface-mfn, fr-feature), and the fused
// cosine is the mean of theirs. They are to be replaced by the figures of
// the engine's full-LFW calibration curve (the match threshold of the
// gallery-size rule at a small gallery, the new threshold at the same
// size) when that curve ships; until then this engine, although the
// default, decides on numbers measured on no more than the 16-person LFW
// slice and the recordings.
const (
	ArcfaceFusedMatchThreshold = 0.50
	ArcfaceFusedNewThreshold   = 0.35
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
