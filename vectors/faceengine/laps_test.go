package faceengine

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// lapLog records the stages in the order they were reported.
type lapLog []vectors.Stage

func (l *lapLog) Lap(s vectors.Stage) { *l = append(*l, s) }

// TestLapsChangeNothing: the Laps variants return exactly what Detect and
// Embed return, and report each stage once, in order.
func TestLapsChangeNothing(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "head-turn-a-0020.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.Limits{MaxBytes: 1 << 24, MaxPixels: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	var laps lapLog
	got, err := e.DetectLaps(img, &laps)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DetectLaps differs from Detect (%v)", err)
	}
	wv, err := e.Embed(img, want[0])
	if err != nil {
		t.Fatal(err)
	}
	gv, err := e.EmbedLaps(img, want[0], &laps)
	if err != nil || !reflect.DeepEqual(gv, wv) {
		t.Fatalf("EmbedLaps differs from Embed (%v)", err)
	}
	order := lapLog{vectors.StageDetect, vectors.StageLandmarks, vectors.StageAlign, vectors.StageEmbed}
	if !slices.Equal(laps, order) {
		t.Fatalf("laps %v, want %v", laps, order)
	}
	// A nil Laps is allowed.
	if _, err := e.DetectLaps(img, nil); err != nil {
		t.Fatal(err)
	}
	for s := vectors.Stage(0); s <= vectors.NumStages; s++ {
		if s.String() == "" {
			t.Errorf("stage %d has no name", s)
		}
	}
}
