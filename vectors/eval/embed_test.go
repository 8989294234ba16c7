package eval_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/eval"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/vectors/imageio"
)

// frameDataset lays out the faceengine test frames (real webcam frames,
// provenance in vectors/faceengine/testdata) as a two-person dataset plus a
// person whose only image has no face.
func frameDataset(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../faceengine/testdata/"
	for dst, from := range map[string]string{
		"anna/1.jpg": "talking-b-take1-0005.jpg",
		"anna/2.jpg": "talking-b-take2-0010.jpg",
		"bert/1.jpg": "head-turn-a-0020.jpg",
	} {
		data, err := os.ReadFile(src + from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	grey := image.NewGray(image.Rect(0, 0, 160, 120))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(100 + i%7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, grey); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cleo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cleo", "1.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEmbedImagesCache: the worker pool with a cache gives the same vectors
// as the plain one-image-at-a-time path, and a second run reads everything
// (vectors, and the no-face verdict) from the cache.
func TestEmbedImagesCache(t *testing.T) {
	e, err := vectors.Open(faceengine.DlibName)
	if err != nil {
		t.Fatal(err)
	}
	dir := frameDataset(t)
	people, err := eval.LoadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, wantFail := eval.EmbedDataset(e, people, imageio.DefaultLimits, nil)
	if len(wantFail) != 1 || !strings.Contains(wantFail[0].File, "cleo") {
		t.Fatalf("reference failures %+v", wantFail)
	}
	cache, err := eval.OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	opt := eval.EmbedOptions{Limits: imageio.DefaultLimits, Cache: cache, Workers: 2, Now: time.Now}
	for run := range 2 {
		res, err := eval.EmbedImages(e, people, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 4 {
			t.Fatalf("%d results", len(res))
		}
		if got := eval.Group(res, len(people)); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: vectors differ from the reference path", run)
		}
		for _, r := range res {
			if r.Vector == nil {
				if r.Err == nil || !strings.Contains(r.File, "cleo") || r.DetCached != (run == 1) {
					t.Fatalf("run %d: %+v", run, r)
				}
				continue
			}
			if r.Cached != (run == 1) || r.DetectNS <= 0 || r.EmbedNS <= 0 {
				t.Fatalf("run %d: %s cached %v, times %d %d", run, r.File, r.Cached, r.DetectNS, r.EmbedNS)
			}
		}
		if run == 1 {
			info, fixed := eval.Info(e)
			ev, err := eval.Evaluate(info, people, res, eval.Options{Dataset: dir, Fixed: fixed})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Dataset.Failed != 1 || ev.Report.Genuine.N != 1 || ev.Report.Impostor.N != 2 || ev.Timing.Cached != 3 || ev.Timing.Computed != 0 {
				t.Fatalf("%+v", ev)
			}
			if ev.Calibration.Error == "" || ev.Calibration.ShippedCapacity != -1 { // 3 vectors cannot make a curve
				t.Fatalf("calibration %+v", ev.Calibration)
			}
			if len(ev.OpenSet) != 1 || ev.OpenSet[0].Gallery != 2 || ev.OpenSet[0].Returning.People != 1 || ev.OpenSet[0].Unusable != 1 {
				t.Fatalf("open set %+v", ev.OpenSet)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTimeSideBySide(t *testing.T) {
	dlib, err := vectors.Open(faceengine.DlibName)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := vectors.Open(faceengine.MobileFaceName)
	if err != nil {
		t.Fatal(err)
	}
	people, err := eval.LoadDataset(frameDataset(t))
	if err != nil {
		t.Fatal(err)
	}
	files := eval.Spread(people, 3)
	if len(files) != 3 || files[0] != people[0].Files[0] {
		t.Fatalf("spread %v", files)
	}
	if all := eval.Spread(people, 0); len(all) != 4 {
		t.Fatalf("spread all %v", all)
	}
	// Two face images and the faceless one (skipped for both engines).
	rows, err := eval.TimeSideBySide([]vectors.Engine{mf, dlib}, []string{people[0].Files[0], people[1].Files[0], people[2].Files[0]}, imageio.DefaultLimits, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Engine != faceengine.MobileFaceName || rows[1].Engine != faceengine.DlibName {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		if r.Faces != 2 || !(r.DetectMS > 0 && r.EmbedMS > 0 && r.TotalMS >= r.EmbedMS) {
			t.Fatalf("row %+v", r)
		}
	}
	if _, err := eval.TimeSideBySide(nil, nil, imageio.DefaultLimits, time.Now); !errors.Is(err, eval.ErrTiming) {
		t.Fatalf("no engines: %v", err)
	}
	if _, err := eval.TimeSideBySide([]vectors.Engine{dlib}, []string{"nowhere.jpg"}, imageio.DefaultLimits, time.Now); !errors.Is(err, eval.ErrTiming) {
		t.Fatalf("missing file: %v", err)
	}
}
