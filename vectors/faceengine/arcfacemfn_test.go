package faceengine

import (
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/arcfacemfn"
	"github.com/facesign/facesign/vectors/detect"
)

// TestArcfaceMFNEngine: the engine is registered under its name, reads
// the ArcFace 112×112 crop, carries SHA-256(detector ‖ network) as its
// model hash, has ordered (placeholder) thresholds, is not the default,
// and on a frame of the test recordings gives a unit vector that its own
// cosine scores 1 and the other engines refuse to compare.
func TestArcfaceMFNEngine(t *testing.T) {
	if !slices.Contains(vectors.Engines(), ArcfaceMFNName) {
		t.Fatalf("%q not registered: %v", ArcfaceMFNName, vectors.Engines())
	}
	if Name == ArcfaceMFNName {
		t.Fatal("arcface-mfn must not be the default before its thresholds are calibrated")
	}
	e, err := NewArcfaceMFN(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := arcfacemfn.New()
	if err != nil {
		t.Fatal(err)
	}
	ds, ns := e.Detector().ModelSHA256(), n.ModelSHA256()
	if e.ID() != ArcfaceMFNName || e.Dim() != arcfacemfn.Dim || e.ModelSHA256() != sha256.Sum256(append(ds[:], ns[:]...)) {
		t.Fatalf("ID %q Dim %d hash %x", e.ID(), e.Dim(), e.ModelSHA256())
	}
	th := e.Thresholds()
	if th != (vectors.Thresholds{Match: ArcfaceMFNMatchThreshold, New: ArcfaceMFNNewThreshold, Margin: ArcfaceMFNMargin}) ||
		!(th.New < th.Match && th.Margin >= 0) {
		t.Fatalf("thresholds %+v", th)
	}
	frame := "talking-b-take1-0005.jpg"
	_, vs := embedCached(t, ArcfaceMFNName, frame)
	if len(vs) == 0 || vs[0].Engine != ArcfaceMFNName || len(vs[0].Values) != arcfacemfn.Dim {
		t.Fatalf("vectors %+v", vs)
	}
	if c, err := vectors.Cosine(vs[0], vs[0]); err != nil || c < 0.9999 {
		t.Fatalf("self cosine %v %v", c, err)
	}
	_, other := embedCached(t, DlibName, frame)
	if _, err := vectors.Cosine(vs[0], other[0]); err == nil {
		t.Fatal("arcface-mfn and dlibresnet vectors compared")
	}
}
