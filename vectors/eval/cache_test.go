package eval

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
)

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	det, model := sha256.Sum256([]byte("det")), sha256.Sum256([]byte("model"))
	img1, img2 := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	face := vectors.Face{Box: vectors.Box{X: 1.5, Y: 2, W: 90.25, H: 91}, Score: 0.987654321, Yaw: -3.3, Pitch: 1e-7, Roll: 2, MouthOpen: 0.02,
		Five:      [5]vectors.Point{{X: 1, Y: 2}, {X: 3, Y: 4}, {X: 5, Y: 6}, {X: 7, Y: 8}, {X: 9, Y: 10.125}},
		Landmarks: []vectors.Point{{X: 1, Y: 1}}}
	d := Detections{W: 250, H: 250, Faces: []vectors.Face{face}, NS: 1234}
	if err := c.PutDetections(det, img1, d); err != nil {
		t.Fatal(err)
	}
	if err := c.PutDetections(det, img2, Detections{W: 10, H: 20}); err != nil {
		t.Fatal(err)
	}
	v := CachedVector{Values: []float32{0.6, 0.8, 0}, NS: 99}
	if err := c.PutVector("eng", model, img1, v); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, ok, err := c.Detections(det, img1)
	face.Landmarks = nil // not kept
	if err != nil || !ok || !reflect.DeepEqual(got, Detections{W: 250, H: 250, Faces: []vectors.Face{face}, NS: 1234}) {
		t.Fatalf("detections %+v %v %v", got, ok, err)
	}
	if got, ok, err := c.Detections(det, img2); err != nil || !ok || len(got.Faces) != 0 || got.W != 10 {
		t.Fatalf("no-face record %+v %v %v", got, ok, err)
	}
	if _, ok, err := c.Detections(model, img1); err != nil || ok {
		t.Fatal("other detector hit")
	}
	gv, ok, err := c.Vector("eng", model, img1)
	if err != nil || !ok || !reflect.DeepEqual(gv, v) {
		t.Fatalf("vector %+v %v %v", gv, ok, err)
	}
	for _, miss := range []struct {
		engine string
		model  [32]byte
		img    [32]byte
	}{{"eng", model, img2}, {"other", model, img1}, {"eng", det, img1}} {
		if _, ok, err := c.Vector(miss.engine, miss.model, miss.img); err != nil || ok {
			t.Fatalf("hit for %+v", miss)
		}
	}
}

func TestCacheBadInput(t *testing.T) {
	model := sha256.Sum256([]byte("model"))
	img := sha256.Sum256([]byte("a"))
	good, err := marshalVecLine(img, "eng", model, CachedVector{Values: []float32{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	name := vecFile("eng", model)

	// A torn last record (a run killed mid-write) is cut off.
	dir := t.TempDir()
	torn := append(append(append([]byte{}, good...), '\n'), good[:20]...)
	if err := os.WriteFile(filepath.Join(dir, name), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := OpenCache(dir)
	if _, ok, err := c.Vector("eng", model, img); err != nil || !ok {
		t.Fatalf("torn tail: %v %v", ok, err)
	}
	img2 := sha256.Sum256([]byte("b"))
	if err := c.PutVector("eng", model, img2, CachedVector{Values: []float32{0, 1}}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	data, _ := os.ReadFile(filepath.Join(dir, name))
	if n := bytes.Count(data, []byte{'\n'}); n != 2 || !bytes.HasPrefix(data, append(good, '\n')) {
		t.Fatalf("file after the torn tail:\n%s", data)
	}

	// Malformed complete lines stop the run and leave the file alone.
	for _, tc := range []struct{ name, line, msg string }{
		{"not json", "{", "line 2"},
		{"unknown field", strings.Replace(string(good), `"dim"`, `"x":1,"dim"`, 1), "unknown field"},
		{"other engine", strings.Replace(string(good), `"eng"`, `"gne"`, 1), "do not match the file"},
		{"short vector", strings.Replace(string(good), `"dim":2`, `"dim":3`, 1), "want 12"},
		{"not unit", strings.Replace(string(good), `AACAPwAAAAA=`, `AAAAPwAAAAA=`, 1), "L2-normalised"},
		{"bad hash", strings.Replace(string(good), `"image_sha256":"`, `"image_sha256":"zz`, 1), "hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			content := string(good) + "\n" + tc.line + "\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			c, _ := OpenCache(dir)
			defer c.Close()
			_, ok, err := c.Vector("eng", model, img)
			if !errors.Is(err, ErrCache) || ok || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
			if err := c.PutVector("eng", model, img2, CachedVector{Values: []float32{0, 1}}); !errors.Is(err, ErrCache) {
				t.Fatalf("write into a bad cache: %v", err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, name)); string(data) != content {
				t.Fatal("bad cache file changed")
			}
		})
	}

	// Records that could not be read back are refused before they are written.
	dir = t.TempDir()
	c, _ = OpenCache(dir)
	defer c.Close()
	det := sha256.Sum256([]byte("det"))
	nan := float32(0)
	nan /= nan
	for _, err := range []error{
		c.PutVector("eng", model, img, CachedVector{Values: []float32{1, 1}}),
		c.PutVector("eng", model, img, CachedVector{}),
		c.PutVector("../x", model, img, CachedVector{Values: []float32{1}}),
		c.PutDetections(det, img, Detections{W: 0, H: 10}),
		c.PutDetections(det, img, Detections{W: 10, H: 10, Faces: []vectors.Face{{Score: nan}}}),
	} {
		if !errors.Is(err, ErrCache) {
			t.Fatalf("bad record: %v", err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		for _, e := range ents {
			if info, _ := e.Info(); info.Size() > 0 {
				t.Fatalf("%s written", e.Name())
			}
		}
	}
}

// FuzzCacheLine: no panics; a record that parses marshals back to one that
// parses to the same thing.
func FuzzCacheLine(f *testing.F) {
	model := sha256.Sum256([]byte("model"))
	det := sha256.Sum256([]byte("det"))
	img := sha256.Sum256([]byte("a"))
	v, _ := marshalVecLine(img, "eng", model, CachedVector{Values: []float32{0.6, -0.8}, NS: 5})
	d, _ := marshalDetLine(img, det, Detections{W: 3, H: 4, Faces: []vectors.Face{{Score: 0.5, Box: vectors.Box{W: 2, H: 2}}}})
	f.Add(v)
	f.Add(d)
	f.Add([]byte(`{"image_sha256":"00"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if im, cv, err := parseVecLine(line, "eng", model); err == nil {
			again, err := marshalVecLine(im, "eng", model, cv)
			if err != nil {
				t.Fatal(err)
			}
			im2, cv2, err := parseVecLine(again, "eng", model)
			if err != nil || im2 != im || !reflect.DeepEqual(cv, cv2) {
				t.Fatalf("vector round trip: %v", err)
			}
		}
		if im, dd, err := parseDetLine(line, det); err == nil {
			again, err := marshalDetLine(im, det, dd)
			if err != nil {
				t.Fatal(err)
			}
			im2, dd2, err := parseDetLine(again, det)
			if err != nil || im2 != im || !reflect.DeepEqual(dd, dd2) {
				t.Fatalf("detections round trip: %v", err)
			}
		}
	})
}
