package faceengine

import (
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/frfeature"
)

// TestFRFeatureEngine: the engine is registered under its name, reads the
// ArcFace 112×112 crop, carries SHA-256(detector ‖ network) as its model
// hash, has ordered (placeholder) thresholds, is not the default, and on
// webcam frames of the test recordings scores the same man in two
// recordings above its match threshold and another man below its
// new-person threshold; its vectors are never compared with another
// engine's.
func TestFRFeatureEngine(t *testing.T) {
	if !slices.Contains(vectors.Engines(), FRFeatureName) {
		t.Fatalf("%q not registered: %v", FRFeatureName, vectors.Engines())
	}
	if Name == FRFeatureName {
		t.Fatal("fr-feature must not be the default before its thresholds are calibrated")
	}
	e, err := NewFRFeature(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := frfeature.New()
	if err != nil {
		t.Fatal(err)
	}
	ds, ns := e.Detector().ModelSHA256(), n.ModelSHA256()
	if e.ID() != FRFeatureName || e.Dim() != frfeature.Dim || e.ModelSHA256() != sha256.Sum256(append(ds[:], ns[:]...)) {
		t.Fatalf("ID %q Dim %d hash %x", e.ID(), e.Dim(), e.ModelSHA256())
	}
	th := e.Thresholds()
	if th != (vectors.Thresholds{Match: FRFeatureMatchThreshold, New: FRFeatureNewThreshold, Margin: FRFeatureMargin}) ||
		!(th.New < th.Match && th.Margin >= 0) {
		t.Fatalf("thresholds %+v", th)
	}
	vec := func(frame string) vectors.FaceVector {
		_, vs := embedCached(t, FRFeatureName, frame)
		if len(vs) != 1 || vs[0].Engine != FRFeatureName || vs[0].ModelSHA256 != e.ModelSHA256() || len(vs[0].Values) != frfeature.Dim {
			t.Fatalf("%s: vectors %+v", frame, vs)
		}
		return vs[0]
	}
	a, b, d := vec("talking-b-take1-0005.jpg"), vec("talking-b-take2-0010.jpg"), vec("head-turn-a-0020.jpg")
	same, _ := vectors.Cosine(a, b)
	diff1, _ := vectors.Cosine(a, d)
	diff2, _ := vectors.Cosine(b, d)
	t.Logf("same %.4f, different %.4f %.4f", same, diff1, diff2)
	if same < th.Match || diff1 >= th.New || diff2 >= th.New {
		t.Fatalf("same %.4f, different %.4f / %.4f (thresholds %+v)", same, diff1, diff2, th)
	}
	_, other := embedCached(t, DlibName, "talking-b-take1-0005.jpg")
	if _, err := vectors.Cosine(a, other[0]); err == nil {
		t.Fatal("fr-feature and dlibresnet vectors compared")
	}
}
