package frfeature

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

const modelSHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"

// loadCrops reads the aligned test crops (provenance in
// testdata/crops/README.md).
func loadCrops(t testing.TB) []embedtest.Crop {
	return embedtest.LoadCrops(t, "testdata/crops", InputSize)
}

// nodePeer is onnxruntime-node, installed by make node-deps in the ONNX
// loader's peer folder (one copy of the runtime serves both packages).
func nodePeer(t testing.TB) *nodetest.Peer {
	t.Helper()
	return nodetest.Require(t, filepath.Join("..", "internal", "onnx", "testdata", "node"), "onnxruntime-node")
}

// vecCache holds each test crop's vector, computed once per test binary: a
// forward pass costs seconds under -race, and several tests need them.
var vecCache struct {
	sync.Mutex
	m map[string][]float32
}

// cachedEmbed returns an embed function for crops that computes each
// crop's vector once (keyed by crop name).
func cachedEmbed(t *testing.T, crops []embedtest.Crop) func(*image.RGBA) ([]float32, error) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return func(img *image.RGBA) ([]float32, error) {
		k := slices.IndexFunc(crops, func(c embedtest.Crop) bool { return c.Img == img })
		if k < 0 {
			return nil, errors.New("not a test crop")
		}
		vecCache.Lock()
		defer vecCache.Unlock()
		if v, ok := vecCache.m[crops[k].Name]; ok {
			return v, nil
		}
		v, err := n.Embed(img)
		if err != nil {
			return nil, err
		}
		if vecCache.m == nil {
			vecCache.m = map[string][]float32{}
		}
		vecCache.m[crops[k].Name] = v
		return v, nil
	}
}

func TestModelFiles(t *testing.T) {
	embedtest.CheckFiles(t, modelFS, map[string]string{"model/fr_feature.onnx": modelSHA256})
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := n.ModelSHA256(); hex.EncodeToString(got[:]) != modelSHA256 {
		t.Errorf("ModelSHA256 %x, want %s", got, modelSHA256)
	}
	if n.InputSize() != 112 || n.Dim() != 512 {
		t.Errorf("input %d dim %d", n.InputSize(), n.Dim())
	}
	// What runs: the PReLUs inside the convolutions, one transpose in.
	ops := map[string]int{}
	for _, s := range n.model.Steps() {
		ops[s.Op]++
	}
	t.Logf("steps: %v", ops)
	if ops["Transpose"] != 1 || ops["_FusedConv2D"]+ops["FusedDepthwiseConv2dNative"] != 50 {
		t.Errorf("unexpected steps %v", ops)
	}
}

// TestPreprocess pins the input layout: NCHW, channel 0 = R, (v − 127)/128.
func TestPreprocess(t *testing.T) {
	crop := image.NewRGBA(image.Rect(0, 0, InputSize, InputSize))
	crop.Set(1, 2, color.RGBA{R: 0, G: 127, B: 255, A: 10})
	x, err := Preprocess(crop)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape, []int{1, 3, 112, 112}) {
		t.Fatalf("shape %v", x.Shape)
	}
	at := func(c, y, xx int) float32 { return x.Data[(c*112+y)*112+xx] }
	if at(0, 2, 1) != -127.0/128 || at(1, 2, 1) != 0 || at(2, 2, 1) != 1 || at(0, 0, 0) != -127.0/128 {
		t.Errorf("values R %v G %v B %v, background %v", at(0, 2, 1), at(1, 2, 1), at(2, 2, 1), at(0, 0, 0))
	}
	// A sub-image keeps its own origin.
	big := image.NewRGBA(image.Rect(0, 0, 200, 200))
	big.Set(51, 52, color.RGBA{R: 255, A: 255})
	sub := big.SubImage(image.Rect(50, 50, 162, 162)).(*image.RGBA)
	if x, err = Preprocess(sub); err != nil || x.Data[(0*112+2)*112+1] != 1 {
		t.Errorf("sub-image: %v", err)
	}
}

func TestEmbed(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	crops := loadCrops(t)
	v, err := cachedEmbed(t, crops)(crops[0].Img)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, f := range v {
		s += float64(f) * float64(f)
	}
	if len(v) != Dim || math.Abs(s-1) > 1e-5 {
		t.Fatalf("len %d, norm² %v", len(v), s)
	}
	// The same crop gives the same vector, also from concurrent calls.
	var wg sync.WaitGroup
	bad := make(chan string, 2)
	for range 2 {
		wg.Go(func() {
			if w, err := n.Embed(crops[0].Img); err != nil || !slices.Equal(v, w) {
				bad <- "same crop, different vector"
			}
		})
	}
	wg.Wait()
	close(bad)
	for msg := range bad {
		t.Fatal(msg)
	}
}

// TestEmbedFlip: the flip-augmented vector is a unit vector, the same for
// a crop and its mirror image (the sum is symmetric), close to but not the
// same as Embed's, and a bad crop is refused.
func TestEmbedFlip(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	crops := loadCrops(t)
	v, err := n.EmbedFlip(crops[0].Img)
	if err != nil {
		t.Fatal(err)
	}
	m := embednet.Mirror(crops[0].Img)
	if !slices.Equal(embednet.Mirror(m).Pix, crops[0].Img.Pix) {
		t.Fatal("mirror twice is not the identity")
	}
	w, err := n.EmbedFlip(m)
	if err != nil || !slices.Equal(v, w) {
		t.Fatalf("EmbedFlip of the mirror differs (%v)", err)
	}
	plain, err := cachedEmbed(t, crops)(crops[0].Img)
	if err != nil {
		t.Fatal(err)
	}
	if c := embedtest.Cosine(v, plain); !(c > 0.9 && c < 1) {
		t.Fatalf("cosine with Embed %v", c)
	}
	if v, err := n.EmbedFlip(image.NewRGBA(image.Rect(0, 0, 50, 50))); v != nil || !errors.Is(err, ErrCropSize) {
		t.Fatalf("bad crop: %v, %v", v, err)
	}
}

func TestEmbedBadCrop(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 100, 100), image.Rect(0, 0, 112, 113), image.Rect(0, 0, 0, 0)} {
		crop := image.NewRGBA(r)
		keep := slices.Clone(crop.Pix)
		v, err := n.Embed(crop)
		if v != nil || !errors.Is(err, ErrCropSize) {
			t.Errorf("%v: %v, %v; want ErrCropSize", r, v, err)
		}
		if !slices.Equal(crop.Pix, keep) {
			t.Errorf("%v: crop modified", r)
		}
	}
}

// TestSameVersusDifferent checks the LFW crops (two photos each of six
// people): same-person pairs must score clearly above different-person
// pairs (mean gap ≥ 0.3 and ROC AUC ≥ 0.95 on 6 + 60 pairs).
func TestSameVersusDifferent(t *testing.T) {
	crops := loadCrops(t)
	meanSame, meanDiff, nSame, nDiff, auc := embedtest.SeparateLFW(t, crops, cachedEmbed(t, crops))
	if nSame != 6 || nDiff != 60 {
		t.Fatalf("expected 6 same and 60 different pairs from the LFW crops, got %d and %d", nSame, nDiff)
	}
	if gap := meanSame - meanDiff; gap < 0.3 || auc < 0.95 {
		t.Errorf("same %.3f, different %.3f, AUC %.3f: the network does not separate these faces", meanSame, meanDiff, auc)
	}
}

// TestConformanceWithORT runs onnxruntime-node (CPU) on the same file and
// crops, preprocessed there as faceplugin-face-recognition-js does, and
// compares: cosine ≥ 0.9999 for every crop.
func TestConformanceWithORT(t *testing.T) {
	peer := nodePeer(t)
	crops := loadCrops(t)
	embed := cachedEmbed(t, crops)
	model, err := filepath.Abs(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Version    string      `json:"ort_version"`
		ModelSHA   string      `json:"model_sha256"`
		Embeddings [][]float32 `json:"embeddings"`
	}
	out := peer.Run(t, nil, "ort.cjs", "embed", "--model", model, "--crops", embedtest.WriteRGB(t, crops))
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.ModelSHA != modelSHA256 || len(ref.Embeddings) != len(crops) {
		t.Fatalf("reference ran model %s on %d crops", ref.ModelSHA, len(ref.Embeddings))
	}
	worst := 1.0
	for i, c := range crops {
		got, err := embed(c.Img)
		if err != nil {
			t.Fatal(err)
		}
		cos := embedtest.Cosine(got, ref.Embeddings[i])
		worst = min(worst, cos)
		t.Logf("%-32s cosine %.9f (1-cos %.1e)", c.Name, cos, 1-cos)
		if cos < 0.9999 {
			t.Errorf("%s: cosine with onnxruntime %.7f < 0.9999", c.Name, cos)
		}
	}
	t.Logf("%d crops, worst cosine %.9f (onnxruntime-node %s, CPU)", len(crops), worst, ref.Version)
}
