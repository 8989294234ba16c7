package dlibresnet

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
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const modelSHA256 = "c2cf51e45a1f96cf2ba75d6b588dc259d7f602a813ff6efbeba4884d7359fad1"

type crop struct {
	name string
	img  *image.RGBA
}

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
		manifestFile: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
		weightsFile:  "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
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
	if n.InputSize() != 150 || n.Dim() != 128 {
		t.Errorf("input %d dim %d", n.InputSize(), n.Dim())
	}
}

func nodeDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@vladmandic", "face-api", "model", "face_recognition_model.bin")); err != nil {
		t.Fatalf("reference implementation not installed (%v): run make node-deps", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found: %v", err)
	}
	return dir
}

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
	cmd := exec.Command("node", append([]string{"descriptor.cjs"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node descriptor.cjs %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestConformanceWithFaceAPI runs face-api's FaceRecognitionNet (tfjs on
// node, cpu backend, the weights from the npm package) and this package on
// the same chips: every descriptor must agree with cosine ≥ 0.999.
func TestConformanceWithFaceAPI(t *testing.T) {
	dir := nodeDir(t)
	crops := loadCrops(t)
	var check []crop
	step := 5 // six chips: ResNet on the tfjs cpu backend is slow
	if raceEnabled {
		step = 15
	}
	for i := 0; i < len(crops); i += step {
		check = append(check, crops[i])
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
		t.Fatalf("%d reference descriptors for %d crops", len(ref.Embeddings), len(check))
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
			t.Errorf("%s: cosine with face-api %.6f < 0.999", c.name, cos)
		}
	}
	t.Logf("%d chips, worst cosine %.9f (tfjs %s backend)", len(check), worst, ref.Backend)
}

// TestSameVersusDifferent: same-person LFW pairs score above
// different-person pairs (ROC AUC ≥ 0.9, mean gap ≥ 0.05). dlib
// descriptors crowd into a narrow cone (different people still average a
// cosine ≈ 0.84), so the gap is small in cosine terms; thresholds are
// calibrated per engine.
func TestSameVersusDifferent(t *testing.T) {
	if raceEnabled {
		t.Skip("eight ResNet forward passes are too slow under -race; covered by the normal run")
	}
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
	if gap := mean(same) - mean(diff); gap < 0.05 || auc < 0.9 {
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
	crops := loadCrops(b)
	// Warm up as the node side does: the first pass packs the filters.
	if _, err := n.Embed(crops[0].img); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := n.Embed(crops[i%len(crops)].img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/face")
	if c := cpuTime() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(float64(c.Microseconds())/1e3/float64(b.N), "cpu-ms/face")
	}
}

// BenchmarkTFJSWasm runs face-api on tfjs-wasm over the same chips, b.N
// faces, and reports node's own timing (start-up excluded).
func BenchmarkTFJSWasm(b *testing.B) {
	dir := nodeDir(b)
	crops := loadCrops(b)
	iters := max(1, (b.N+len(crops)-1)/len(crops))
	out := runNode(b, dir, "bench", "--backend", "wasm", "--crops", writeCrops(b, crops), "--iters", strconv.Itoa(iters),
		"--threads", strconv.Itoa(runtime.GOMAXPROCS(0)))
	var r struct {
		MsPerFace float64 `json:"ms_per_face"`
		CPU       float64 `json:"cpu_ms_per_face"`
		Threads   int     `json:"wasm_threads"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.MsPerFace*1e6, "ns/op")
	b.ReportMetric(r.MsPerFace, "ms/face")
	b.ReportMetric(r.CPU, "cpu-ms/face")
	b.ReportMetric(float64(r.Threads), "wasm-threads")
}
