package mobilefacenet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

const modelSHA256 = "0c3c19661ed4295ed2724d2c415e699747c5c02613aff4a7d8ec69ecdd12a9ca"

type crop struct {
	name string
	img  *image.RGBA
}

// loadCrops reads the aligned 112×112 test crops (provenance in
// testdata/crops/README.md).
func loadCrops(t testing.TB) []crop {
	t.Helper()
	files, err := filepath.Glob("testdata/crops/*.png")
	if err != nil || len(files) == 0 {
		t.Fatalf("no crops: %v", err)
	}
	sort.Strings(files)
	var out []crop
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		rgba := image.NewRGBA(image.Rect(0, 0, InputSize, InputSize))
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
		out = append(out, crop{strings.TrimSuffix(filepath.Base(f), ".png"), rgba})
	}
	return out
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func TestModelProvenance(t *testing.T) {
	want := map[string]string{
		"model/mobileface.json": "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
		"model/mobileface.bin":  "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
	}
	for name, sum := range want {
		b, err := modelFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, want %s (update model/PROVENANCE.md)", name, got, sum)
		}
	}
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

// nodeDir returns the reference script's folder, failing (not skipping)
// when its npm dependencies are not installed.
func nodeDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@vladmandic", "human-models", "models", "mobileface.json")); err != nil {
		t.Fatalf("reference implementation not installed (%v): run make node-deps", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found: %v", err)
	}
	return dir
}

// writeCrops stores crops as the raw N×112×112×3 RGB bytes embed.mjs reads.
func writeCrops(t testing.TB, crops []crop) string {
	t.Helper()
	var raw bytes.Buffer
	for _, c := range crops {
		for i := 0; i < len(c.img.Pix); i += 4 {
			raw.Write(c.img.Pix[i : i+3])
		}
	}
	f := filepath.Join(t.TempDir(), "crops.rgb")
	if err := os.WriteFile(f, raw.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func runNode(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("node", append([]string{"embed.mjs"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node embed.mjs %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestConformanceWithTFJS runs the reference implementation (tfjs on node,
// cpu backend, the model file from the npm package) and this package on
// the same crops: every embedding must agree with cosine ≥ 0.999.
func TestConformanceWithTFJS(t *testing.T) {
	dir := nodeDir(t)
	crops := loadCrops(t)
	check := crops
	if raceEnabled { // a handful under -race; all of them otherwise
		check = nil
		for i := 0; i < len(crops); i += 5 {
			check = append(check, crops[i])
		}
	}
	var ref struct {
		Backend    string      `json:"backend"`
		ModelSHA   string      `json:"model_sha256"`
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(runNode(t, dir, "embed", "--backend", "cpu", "--crops", writeCrops(t, check)), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.ModelSHA != modelSHA256 {
		t.Fatalf("npm package model hash %s, embedded copy %s", ref.ModelSHA, modelSHA256)
	}
	if len(ref.Embeddings) != len(check) {
		t.Fatalf("%d reference embeddings for %d crops", len(ref.Embeddings), len(check))
	}
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	worst := 1.0
	for i, c := range check {
		got, err := n.Embed(c.img)
		if err != nil {
			t.Fatal(err)
		}
		cos := cosine(got, ref.Embeddings[i])
		worst = min(worst, cos)
		t.Logf("%-28s cosine %.9f (1-cos %.1e)", c.name, cos, 1-cos)
		if cos < 0.999 {
			t.Errorf("%s: cosine with tfjs %.6f < 0.999", c.name, cos)
		}
	}
	t.Logf("%d crops, worst cosine %.9f (tfjs %s backend)", len(check), worst, ref.Backend)
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
	var ids []string
	var vecs [][]float32
	for _, c := range loadCrops(t) {
		if !strings.HasPrefix(c.name, "lfw_") {
			continue
		}
		v, err := n.Embed(c.img)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimPrefix(c.name, "lfw_")
		ids = append(ids, base[:strings.LastIndexByte(base, '_')])
		vecs = append(vecs, v)
	}
	var same, diff []float64
	for i := range vecs {
		for j := i + 1; j < len(vecs); j++ {
			s := cosine(vecs[i], vecs[j])
			if ids[i] == ids[j] {
				same = append(same, s)
			} else {
				diff = append(diff, s)
			}
		}
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	wins := 0
	for _, s := range same {
		for _, d := range diff {
			if s > d {
				wins++
			}
		}
	}
	auc := float64(wins) / float64(len(same)*len(diff))
	t.Logf("%d same-person pairs mean %.3f, %d different-person pairs mean %.3f, AUC %.3f", len(same), mean(same), len(diff), mean(diff), auc)
	if len(same) != 4 || len(diff) != 24 {
		t.Fatalf("expected 4 same and 24 different pairs from the LFW crops")
	}
	if gap := mean(same) - mean(diff); gap < 0.2 || auc < 0.9 {
		t.Fatalf("same vs different do not separate: mean gap %.3f, AUC %.3f", gap, auc)
	}
}

func TestEmbedUnitNormAndDeterministic(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := loadCrops(t)[0]
	a, err := n.Embed(c.img)
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
	draw.Draw(big, image.Rect(10, 20, 122, 132), c.img, image.Point{}, draw.Src)
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
		if want[i], err = n.Embed(c.img); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for k := 0; k < 6; k++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := n.Embed(crops[i].img)
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
