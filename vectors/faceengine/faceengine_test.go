package faceengine

import (
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/dlibresnet"
	"github.com/facesign/facesign/vectors/eval"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/facesign/facesign/vectors/mobilefacenet"
)

var (
	cacheMu sync.Mutex
	cache   = map[string]cached{}
)

type cached struct {
	faces []vectors.Face
	vecs  []vectors.FaceVector
}

// embedCached detects and embeds a test frame once per process: the tests
// that look at the same frame share the (slow under -race) forward passes.
func embedCached(t testing.TB, name string) ([]vectors.Face, []vectors.FaceVector) {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[name]; ok {
		return c.faces, c.vecs
	}
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	faces, vecs, _, err := eval.EmbedFile(e, filepath.Join("testdata", name), imageio.DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cache[name] = cached{faces, vecs}
	return faces, vecs
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(vectors.Engines(), Name) {
		t.Fatalf("%q not registered: %v", Name, vectors.Engines())
	}
	e, err := vectors.Open(Name)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != Name || e.Dim() != mobilefacenet.Dim {
		t.Fatalf("ID %q Dim %d", e.ID(), e.Dim())
	}
	d, _ := detect.New(detect.Options{})
	n, _ := mobilefacenet.New()
	ds, ns := d.ModelSHA256(), n.ModelSHA256()
	if want := sha256.Sum256(append(ds[:], ns[:]...)); e.ModelSHA256() != want {
		t.Fatal("model hash is not SHA-256(detector ‖ embedder)")
	}
	if c, ok := e.(vectors.Calibrated); !ok || c.Thresholds().Match <= c.Thresholds().New {
		t.Fatal("engine thresholds missing or inverted")
	}
	dl, err := vectors.Open(DlibName)
	if err != nil {
		t.Fatal(err)
	}
	if dl.ID() != DlibName || dl.Dim() != dlibresnet.Dim || dl.ModelSHA256() == e.ModelSHA256() {
		t.Fatalf("dlib engine: ID %q Dim %d", dl.ID(), dl.Dim())
	}
}

// TestDlibEngine: the second engine separates the same frames at its own
// thresholds, and its vectors never compare with the default engine's.
func TestDlibEngine(t *testing.T) {
	e, err := NewDlib(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vs []vectors.FaceVector
	for _, name := range []string{"talking-b-take1-0005.jpg", "talking-b-take2-0010.jpg", "head-turn-a-0020.jpg"} {
		faces, def := embedCached(t, name)
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := imageio.Decode(data, imageio.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.Embed(img, faces[0]) // the detector is shared: reuse its face
		if err != nil {
			t.Fatal(err)
		}
		if v.Engine != DlibName || len(v.Values) != dlibresnet.Dim {
			t.Fatalf("vector %q/%d", v.Engine, len(v.Values))
		}
		if _, err := vectors.Cosine(v, def[0]); !errors.Is(err, vectors.ErrEngineMismatch) {
			t.Fatalf("cross-engine comparison: %v", err)
		}
		vs = append(vs, v)
	}
	same, _ := vectors.Cosine(vs[0], vs[1])
	d1, _ := vectors.Cosine(vs[0], vs[2])
	d2, _ := vectors.Cosine(vs[1], vs[2])
	t.Logf("dlib: same %.4f, different %.4f %.4f", same, d1, d2)
	if same < DlibMatchThreshold || d1 >= DlibNewThreshold || d2 >= DlibNewThreshold {
		t.Fatalf("dlib: same %.4f, different %.4f / %.4f", same, d1, d2)
	}
}

// TestSameAndDifferentPerson embeds webcam frames: the same man in two
// recordings must clear the match threshold, another man must score below
// the new-person threshold.
func TestSameAndDifferentPerson(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	vec := func(name string) vectors.FaceVector {
		_, vs := embedCached(t, name)
		if len(vs) != 1 {
			t.Fatalf("%s: %d faces", name, len(vs))
		}
		var n float64
		for _, x := range vs[0].Values {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 || vs[0].Engine != Name || vs[0].ModelSHA256 != e.ModelSHA256() {
			t.Fatalf("%s: bad vector (norm² %v, engine %q)", name, n, vs[0].Engine)
		}
		return vs[0]
	}
	a, b, c := vec("talking-b-take1-0005.jpg"), vec("talking-b-take2-0010.jpg"), vec("head-turn-a-0020.jpg")
	same, _ := vectors.Cosine(a, b)
	diff1, _ := vectors.Cosine(a, c)
	diff2, _ := vectors.Cosine(b, c)
	t.Logf("same %.4f, different %.4f %.4f", same, diff1, diff2)
	if same < DefaultMatchThreshold || diff1 >= DefaultNewThreshold || diff2 >= DefaultNewThreshold {
		t.Fatalf("same %.4f, different %.4f / %.4f (thresholds %v / %v)", same, diff1, diff2, DefaultMatchThreshold, DefaultNewThreshold)
	}
}

func TestEmbedErrors(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/head-turn-a-0020.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Embed(img, vectors.Face{}) // all five points at the origin
	if !errors.Is(err, align.ErrDegenerate) || v.Values != nil {
		t.Fatalf("degenerate face: %v, %v", err, v)
	}
}
