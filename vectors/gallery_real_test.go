package vectors

import (
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors/mobilefacenet"
)

// TestGalleryRealEmbeddings searches real MobileFaceNet embeddings: the 30
// aligned crops in vectors/mobilefacenet/testdata/crops (provenance and
// licences in its README), a gallery of every crop except the LFW second
// photos, which are then the queries together with every stored embedding
// itself. Both storage types must agree bit for bit, every answer must equal
// the float64 brute-force reference, and a stored embedding must find
// itself first. (Whether the second photo finds the first is the engine's
// accuracy, not the gallery's; it is logged.)
func TestGalleryRealEmbeddings(t *testing.T) {
	net, err := mobilefacenet.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("mobilefacenet", "testdata", "crops")
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil || len(files) < 10 {
		t.Fatalf("crops: %v (%d files)", err, len(files))
	}
	slices.Sort(files)
	embed := func(path string) []float32 {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		rgba := image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
		v, err := net.Embed(rgba)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	f32, _ := NewGallery(mobilefacenet.Dim, GalleryOptions{Type: GalleryFloat32})
	i8, _ := NewGallery(mobilefacenet.Dim, GalleryOptions{Type: GalleryInt8, Rerank: 2})
	model := map[Slot][]float32{}
	firsts := map[string]Slot{}
	type query struct {
		person string
		v      []float32
	}
	var queries []query
	for _, path := range files {
		name := filepath.Base(path)
		v := embed(path)
		if person, ok := strings.CutSuffix(name, "_0002.png"); ok {
			queries = append(queries, query{person, v})
			continue
		}
		s, err := f32.Add(v)
		if err != nil {
			t.Fatal(err)
		}
		if s2, err := i8.Add(v); err != nil || s2 != s {
			t.Fatalf("int8 Add: %d %v", s2, err)
		}
		model[s] = v
		if person, ok := strings.CutSuffix(name, "_0001.png"); ok {
			firsts[person] = s
		}
	}
	if len(queries) == 0 {
		t.Fatal("no second photos among the crops")
	}
	self := map[int]Slot{}
	for s := Slot(0); int(s) < len(model); s++ {
		self[len(queries)] = s
		queries = append(queries, query{"self", model[s]})
	}
	qs := make([][]float32, len(queries))
	for i, q := range queries {
		qs[i] = q.v
	}
	for _, k := range []int{1, 3, len(model)} {
		fb, err := f32.SearchBatch(qs, k)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := i8.SearchBatch(qs, k)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range queries {
			a, _ := f32.Search(q.v, k)
			b, _ := i8.Search(q.v, k)
			galCheck(t, model, q.v, k, a)
			if !slices.Equal(a, b) || !slices.Equal(a, fb[i]) || !slices.Equal(a, ib[i]) {
				t.Fatalf("%s k=%d: f32 %v, int8 %v, batches %v %v", q.person, k, a, b, fb[i], ib[i])
			}
			if s, ok := self[i]; ok && a[0].Slot != s {
				t.Fatalf("stored embedding %d: best match %+v", s, a[0])
			}
			if first, ok := firsts[q.person]; ok && k == 1 {
				t.Logf("%s second photo: best slot %d (%.3f); first photo is slot %d", q.person, a[0].Slot, a[0].Score, first)
			}
		}
	}
}
