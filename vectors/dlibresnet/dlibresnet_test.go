package dlibresnet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

const modelSHA256 = "c2cf51e45a1f96cf2ba75d6b588dc259d7f602a813ff6efbeba4884d7359fad1"

// loadCrops reads the aligned test crops (provenance in
// testdata/crops/README.md).
func loadCrops(t testing.TB) []embedtest.Crop {
	return embedtest.LoadCrops(t, "testdata/crops", InputSize)
}

func TestModelProvenance(t *testing.T) {
	want := map[string]string{
		manifestFile: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
		weightsFile:  "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
	}
	embedtest.CheckFiles(t, modelFS, want)
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := n.ModelSHA256(); hex.EncodeToString(got[:]) != modelSHA256 {
		t.Errorf("ModelSHA256 %x, want %s", got, modelSHA256)
	}
	if n.InputSize() != 150 || n.Dim() != 128 {
		t.Errorf("input %d dim %d", n.InputSize(), n.Dim())
	}
}

// nodePeer returns the reference script's folder, failing (not skipping)
// when its npm dependencies are not installed at their pinned versions.
func nodePeer(t testing.TB) *nodetest.Peer {
	t.Helper()
	return nodetest.Require(t, "testdata/node", "@vladmandic/face-api/model/face_recognition_model.bin")
}

// TestConformanceWithFaceAPI runs face-api's FaceRecognitionNet (tfjs on
// node, cpu backend, the weights from the npm package) and this package on
// the same chips: every descriptor must agree with cosine ≥ 0.999.
func TestConformanceWithFaceAPI(t *testing.T) {
	peer := nodePeer(t)
	crops := loadCrops(t)
	step := 5                                     // six chips: ResNet on the tfjs cpu backend is slow
	if embedtest.RaceEnabled || testing.Short() { // -short: make test's arm64 run under qemu
		step = 15
	}
	check := embedtest.Every(crops, step)
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	embedtest.Conformance(t, peer, "descriptor.cjs", modelSHA256, check, n.Embed)
}

// TestSameVersusDifferent: same-person LFW pairs score above
// different-person pairs (ROC AUC ≥ 0.9, mean gap ≥ 0.05). dlib
// descriptors crowd into a narrow cone (different people still average a
// cosine ≈ 0.84), so the gap is small in cosine terms; thresholds are
// calibrated per engine.
func TestSameVersusDifferent(t *testing.T) {
	if embedtest.RaceEnabled {
		t.Skip("eight ResNet forward passes are too slow under -race; covered by the normal run")
	}
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	meanSame, meanDiff, nSame, nDiff, auc := embedtest.SeparateLFW(t, loadCrops(t), n.Embed)
	if nSame != 4 || nDiff != 24 {
		t.Fatalf("expected 4 same and 24 different pairs from the LFW crops")
	}
	if gap := meanSame - meanDiff; gap < 0.05 || auc < 0.9 {
		t.Fatalf("same vs different do not separate: mean gap %.3f, AUC %.3f", gap, auc)
	}
}

func TestEmbedRejectsBadCrops(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 112, 112), image.Rect(0, 0, 150, 149), image.Rect(0, 0, 0, 0)} {
		t.Run(fmt.Sprint(r.Dx(), "x", r.Dy()), func(t *testing.T) {
			v, err := n.Embed(image.NewRGBA(r))
			if v != nil || !errors.Is(err, ErrCropSize) {
				t.Fatalf("vector %v err %v, want ErrCropSize", v, err)
			}
		})
	}
}

func ExampleNet_Embed() {
	n, err := New()
	if err != nil {
		panic(err)
	}
	chip := image.NewRGBA(image.Rect(0, 0, n.InputSize(), n.InputSize())) // an aligned face chip in practice
	for i := range chip.Pix {
		chip.Pix[i] = uint8(i * 7)
	}
	v, err := n.Embed(chip)
	if err != nil {
		panic(err)
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	fmt.Printf("%d dimensions, norm %.3f\n", len(v), math.Sqrt(s))
	// Output: 128 dimensions, norm 1.000
}

// BenchmarkEmbed measures one forward pass (150×150 chip → 128-d).
//
//	go test -run '^$' -bench . -benchtime 10x -cpu 1,2 ./vectors/dlibresnet
func BenchmarkEmbed(b *testing.B) {
	n, err := New()
	if err != nil {
		b.Fatal(err)
	}
	embedtest.BenchEmbed(b, loadCrops(b), n.Embed)
}

// BenchmarkTFJSWasm runs face-api on tfjs-wasm over the same chips, b.N
// faces, and reports node's own timing (start-up excluded).
func BenchmarkTFJSWasm(b *testing.B) {
	embedtest.BenchNode(b, nodePeer(b), "descriptor.cjs", loadCrops(b))
}
