// Package embedtest holds the test helpers the embedding networks' tests
// share: aligned test crops, the node reference runs (through
// [nodetest.Peer]: pinned npm versions checked, a timeout before the test's
// deadline), cosine, weight-file checks and per-face benchmark metrics. Only
// _test.go files import it.
package embedtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/draw"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/internal/nodetest"
)

// Crop is one aligned test crop.
type Crop struct {
	Name string // file name without .png
	Img  *image.RGBA
}

// LoadCrops reads dir/*.png, sorted by name, as size×size RGBA crops.
func LoadCrops(t testing.TB, dir string, size int) []Crop {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no crops in %s: %v", dir, err)
	}
	sort.Strings(files)
	var out []Crop
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("%s is %dx%d, want %dx%d", f, b.Dx(), b.Dy(), size, size)
		}
		rgba := image.NewRGBA(image.Rect(0, 0, size, size))
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
		out = append(out, Crop{strings.TrimSuffix(filepath.Base(f), ".png"), rgba})
	}
	return out
}

// Every returns every step-th crop, starting with the first.
func Every(crops []Crop, step int) []Crop {
	var out []Crop
	for i := 0; i < len(crops); i += max(step, 1) {
		out = append(out, crops[i])
	}
	return out
}

// Cosine is the cosine similarity of a and b in float64.
func Cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// CheckFiles fails unless each named file of fsys has the given SHA-256.
func CheckFiles(t testing.TB, fsys fs.FS, want map[string]string) {
	t.Helper()
	for name, sum := range want {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, want %s (update model/PROVENANCE.md)", name, got, sum)
		}
	}
}

// WriteRGB stores crops as raw N×H×W×3 RGB bytes in a temporary file and
// returns its path.
func WriteRGB(t testing.TB, crops []Crop) string {
	t.Helper()
	var raw bytes.Buffer
	for _, c := range crops {
		for i := 0; i < len(c.Img.Pix); i += 4 {
			raw.Write(c.Img.Pix[i : i+3])
		}
	}
	f := filepath.Join(t.TempDir(), "crops.rgb")
	if err := os.WriteFile(f, raw.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// ReportFaces reports wall-clock and CPU milliseconds per face (one face
// per b.N), CPU counted from c0 = [CPUTime] at the start. On a shared
// machine the CPU figure is the steadier one; the wall figure is what a
// caller waits.
func ReportFaces(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/face")
	if c := CPUTime() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(float64(c.Microseconds())/1e3/float64(b.N), "cpu-ms/face")
	}
}

// Separation compares every pair of vectors: ids[i] names vecs[i]'s
// person. It returns the mean cosine of same-person and different-person
// pairs, their counts, and the ROC AUC (the share of (same, different)
// pairs where the same-person pair scores higher).
func Separation(ids []string, vecs [][]float32) (meanSame, meanDiff float64, nSame, nDiff int, auc float64) {
	var same, diff []float64
	for i := range vecs {
		for j := i + 1; j < len(vecs); j++ {
			s := Cosine(vecs[i], vecs[j])
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
	if len(same) > 0 && len(diff) > 0 {
		auc = float64(wins) / float64(len(same)*len(diff))
	}
	return mean(same), mean(diff), len(same), len(diff), auc
}

// LFWIdentity returns the person of an LFW crop named "lfw_First_Last_0001".
func LFWIdentity(name string) (string, bool) {
	base, ok := strings.CutPrefix(name, "lfw_")
	i := strings.LastIndexByte(base, '_')
	if !ok || i < 0 {
		return "", false
	}
	return base[:i], true
}

// BenchNode runs a reference script's "bench" mode in peer (tfjs with the
// WebAssembly backend on node) over crops for at least b.N faces, and
// reports node's own timing of the forward passes (start-up and model
// loading excluded) as ns/op, ms/face and cpu-ms/face, so it reads directly
// beside the Go benchmark; wasm-threads is what tfjs-wasm could use
// (GOMAXPROCS asked for).
func BenchNode(b *testing.B, peer *nodetest.Peer, script string, crops []Crop) {
	b.Helper()
	iters := max(1, (b.N+len(crops)-1)/len(crops))
	out := peer.Run(b, nil, script, "bench", "--backend", "wasm", "--crops", WriteRGB(b, crops),
		"--iters", strconv.Itoa(iters), "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)))
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

// Conformance runs the reference script's "embed" mode in peer (tfjs on
// node, cpu backend) on crops and compares each vector with embed's:
// cosine ≥ 0.999 per crop, and the model hash node computed over the npm
// package's files must equal modelSHA256 (the embedded copy's).
func Conformance(t *testing.T, peer *nodetest.Peer, script, modelSHA256 string, crops []Crop, embed func(*image.RGBA) ([]float32, error)) {
	t.Helper()
	var ref struct {
		Backend    string      `json:"backend"`
		ModelSHA   string      `json:"model_sha256"`
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(peer.Run(t, nil, script, "embed", "--backend", "cpu", "--crops", WriteRGB(t, crops)), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.ModelSHA != modelSHA256 {
		t.Fatalf("npm package model hash %s, embedded copy %s", ref.ModelSHA, modelSHA256)
	}
	if len(ref.Embeddings) != len(crops) {
		t.Fatalf("%d reference vectors for %d crops", len(ref.Embeddings), len(crops))
	}
	worst := 1.0
	for i, c := range crops {
		got, err := embed(c.Img)
		if err != nil {
			t.Fatal(err)
		}
		cos := Cosine(got, ref.Embeddings[i])
		worst = min(worst, cos)
		t.Logf("%-28s cosine %.9f (1-cos %.1e)", c.Name, cos, 1-cos)
		if cos < 0.999 {
			t.Errorf("%s: cosine with the reference %.6f < 0.999", c.Name, cos)
		}
	}
	t.Logf("%d crops, worst cosine %.9f (tfjs %s backend)", len(crops), worst, ref.Backend)
}

// BenchEmbed measures one forward pass at a time over crops, after one
// warm-up pass (as the node side warms up: the first pass packs the
// filters), and reports [ReportFaces] metrics.
func BenchEmbed(b *testing.B, crops []Crop, embed func(*image.RGBA) ([]float32, error)) {
	b.Helper()
	if _, err := embed(crops[0].Img); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := CPUTime()
	for i := 0; b.Loop(); i++ {
		if _, err := embed(crops[i%len(crops)].Img); err != nil {
			b.Fatal(err)
		}
	}
	ReportFaces(b, c0)
}

// DetectReference runs the detector's tfjs reference pipeline (script
// detect.mjs in dir, see vectors/detect/testdata/node) on imgs: it writes
// each image as raw RGBA plus a manifest and returns the script's stdout
// (one JSON document). It fails, never skips, when node or the npm
// dependencies are missing ([nodetest.Require]).
func DetectReference(t testing.TB, dir string, imgs []*image.RGBA, extra ...string) []byte {
	t.Helper()
	peer := nodetest.Require(t, dir, "@tensorflow/tfjs-core")
	tmp := t.TempDir()
	var manifest []map[string]any
	for i, img := range imgs {
		f := filepath.Join(tmp, strconv.Itoa(i)+".rgba")
		if err := os.WriteFile(f, img.Pix, 0o600); err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, map[string]any{"file": f, "width": img.Rect.Dx(), "height": img.Rect.Dy()})
	}
	mf := filepath.Join(tmp, "manifest.json")
	data, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return peer.Run(t, nil, "detect.mjs", append([]string{mf}, extra...)...)
}

// SeparateLFW embeds the LFW crops among crops (named "lfw_First_Last_0001")
// and returns [Separation] over them.
func SeparateLFW(t testing.TB, crops []Crop, embed func(*image.RGBA) ([]float32, error)) (meanSame, meanDiff float64, nSame, nDiff int, auc float64) {
	t.Helper()
	var ids []string
	var vecs [][]float32
	for _, c := range crops {
		id, ok := LFWIdentity(c.Name)
		if !ok {
			continue
		}
		v, err := embed(c.Img)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		ids = append(ids, id)
		vecs = append(vecs, v)
	}
	meanSame, meanDiff, nSame, nDiff, auc = Separation(ids, vecs)
	t.Logf("%d same-person pairs mean %.3f, %d different-person pairs mean %.3f, AUC %.3f", nSame, meanSame, nDiff, meanDiff, auc)
	return meanSame, meanDiff, nSame, nDiff, auc
}
