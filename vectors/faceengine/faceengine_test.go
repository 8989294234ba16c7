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

// openEngine returns the registered engine name, opened once per process.
func openEngine(t testing.TB, name string) vectors.Engine {
	t.Helper()
	e, err := vectors.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// embedCached detects and embeds a test frame with engine name once per
// process: the tests that look at the same frame share the (slow under
// -race) forward passes.
func embedCached(t testing.TB, name, frame string) ([]vectors.Face, []vectors.FaceVector) {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	key := name + "/" + frame
	if c, ok := cache[key]; ok {
		return c.faces, c.vecs
	}
	faces, vecs, _, err := eval.EmbedFile(openEngine(t, name), filepath.Join("testdata", frame), imageio.DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	cache[key] = cached{faces, vecs}
	return faces, vecs
}

// engines are the registered engines with what a test needs to know.
var engines = []struct {
	name       string
	dim        int
	embedderSH func() ([32]byte, error)
	th         vectors.Thresholds
}{
	{DlibName, dlibresnet.Dim, func() ([32]byte, error) {
		n, err := dlibresnet.New()
		if err != nil {
			return [32]byte{}, err
		}
		return n.ModelSHA256(), nil
	}, vectors.Thresholds{Match: DlibMatchThreshold, New: DlibNewThreshold, Margin: DlibMargin}},
	{MobileFaceName, mobilefacenet.Dim, func() ([32]byte, error) {
		n, err := mobilefacenet.New()
		if err != nil {
			return [32]byte{}, err
		}
		return n.ModelSHA256(), nil
	}, vectors.Thresholds{Match: MobileFaceMatchThreshold, New: MobileFaceNewThreshold, Margin: MobileFaceMargin}},
}

func TestRegistered(t *testing.T) {
	if Name != ArcfaceFusedName {
		t.Fatalf("default engine %q, want %q (the most accurate)", Name, ArcfaceFusedName)
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if def.ID() != Name {
		t.Fatalf("Default() is %q", def.ID())
	}
	d, err := detect.New(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := d.ModelSHA256()
	seen := map[[32]byte]string{}
	for _, c := range engines {
		t.Run(c.name, func(t *testing.T) {
			if !slices.Contains(vectors.Engines(), c.name) {
				t.Fatalf("%q not registered: %v", c.name, vectors.Engines())
			}
			e := openEngine(t, c.name)
			if e.ID() != c.name || e.Dim() != c.dim {
				t.Fatalf("ID %q Dim %d", e.ID(), e.Dim())
			}
			ns, err := c.embedderSH()
			if err != nil {
				t.Fatal(err)
			}
			if want := sha256.Sum256(append(ds[:], ns[:]...)); e.ModelSHA256() != want {
				t.Fatal("model hash is not SHA-256(detector ‖ embedder)")
			}
			if prev, dup := seen[e.ModelSHA256()]; dup {
				t.Fatalf("same model hash as %s", prev)
			}
			seen[e.ModelSHA256()] = c.name
			cal, ok := e.(vectors.Calibrated)
			if !ok || cal.Thresholds() != c.th {
				t.Fatalf("thresholds %+v, want %+v", cal, c.th)
			}
			if th := cal.Thresholds(); !(th.New < th.Match && th.Margin >= 0 && th.Match-th.Margin > th.New-1) {
				t.Fatalf("thresholds inverted: %+v", th)
			}
		})
	}
}

// TestEnginesNeverCompare: vectors of the two engines on the same face are
// refused by vectors.Cosine (different engine IDs and model hashes).
func TestEnginesNeverCompare(t *testing.T) {
	frame := "talking-b-take1-0005.jpg"
	_, a := embedCached(t, DlibName, frame)
	_, b := embedCached(t, MobileFaceName, frame)
	if _, err := vectors.Cosine(a[0], b[0]); !errors.Is(err, vectors.ErrEngineMismatch) {
		t.Fatalf("cross-engine comparison: %v", err)
	}
	if _, err := vectors.Cosine(b[0], a[0]); !errors.Is(err, vectors.ErrEngineMismatch) {
		t.Fatalf("cross-engine comparison: %v", err)
	}
}

// TestSameAndDifferentPerson embeds webcam frames with every engine: the
// same man in two recordings must clear the engine's match threshold,
// another man must score below its new-person threshold.
func TestSameAndDifferentPerson(t *testing.T) {
	for _, c := range engines {
		t.Run(c.name, func(t *testing.T) {
			e := openEngine(t, c.name)
			vec := func(frame string) vectors.FaceVector {
				_, vs := embedCached(t, c.name, frame)
				if len(vs) != 1 {
					t.Fatalf("%s: %d faces", frame, len(vs))
				}
				var n float64
				for _, x := range vs[0].Values {
					n += float64(x) * float64(x)
				}
				if math.Abs(n-1) > 1e-5 || vs[0].Engine != c.name || vs[0].ModelSHA256 != e.ModelSHA256() || len(vs[0].Values) != c.dim {
					t.Fatalf("%s: bad vector (norm² %v, engine %q)", frame, n, vs[0].Engine)
				}
				return vs[0]
			}
			a, b, d := vec("talking-b-take1-0005.jpg"), vec("talking-b-take2-0010.jpg"), vec("head-turn-a-0020.jpg")
			same, _ := vectors.Cosine(a, b)
			diff1, _ := vectors.Cosine(a, d)
			diff2, _ := vectors.Cosine(b, d)
			t.Logf("same %.4f, different %.4f %.4f", same, diff1, diff2)
			if same < c.th.Match || diff1 >= c.th.New || diff2 >= c.th.New {
				t.Fatalf("same %.4f, different %.4f / %.4f (thresholds %+v)", same, diff1, diff2, c.th)
			}
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/head-turn-a-0020.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range engines {
		v, err := openEngine(t, c.name).Embed(img, vectors.Face{}) // all five points at the origin
		if !errors.Is(err, align.ErrDegenerate) || v.Values != nil {
			t.Fatalf("%s: degenerate face: %v, %v", c.name, err, v)
		}
	}
}
