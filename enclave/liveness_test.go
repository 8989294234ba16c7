package enclave

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// observations turns synthetic scenes into what the pipeline would observe
// with the fake engine.
func observations(t *testing.T, scenes []scene) []Observation {
	t.Helper()
	e := fakeEngine{dim: 32}
	var out []Observation
	for _, s := range scenes {
		img, err := decodePNG(drawFrame(t, s))
		if err != nil {
			t.Fatal(err)
		}
		faces, _ := e.Detect(img) // no face: nil
		o := Observation{Faces: faces, Digest: sha256.Sum256([]byte{byte(s.noise), byte(s.person)})}
		if len(faces) == 1 {
			o.Vector, _ = e.Embed(img, faces[0])
			o.Quality = vectors.Quality(faces[0], img)
			o.Patch = make([]uint8, PatchSize*PatchSize)
			for i := range o.Patch {
				o.Patch[i] = uint8(int(s.noise)*31 + i)
			}
		}
		out = append(out, o)
	}
	return out
}

func TestDefaultLiveness(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ch := Challenge{Actions: []string{wire.ActionTurnLeft, wire.ActionOpenMouth}, ExpiresAt: now.Add(time.Minute)}
	live := NewDefaultLiveness(DefaultLivenessConfig(3))
	sc := func(yaw, mouth float32, noise uint8) scene {
		return scene{person: 1, faces: 1, yaw: yaw, mouth: mouth, noise: noise}
	}
	good := []scene{sc(0, 0.05, 1), sc(25, 0.05, 2), sc(0, 0.05, 3), sc(0, 0.5, 4)}
	flat := func(ss []scene) []scene {
		out := append([]scene(nil), ss...)
		for i := range out {
			out[i].flat = true
		}
		return out
	}
	tests := []struct {
		name   string
		scenes []scene
		ch     Challenge
		segs   []wire.Segment
		now    time.Time
		want   wire.Code
	}{
		{"performed", good, ch, nil, now, ""},
		{"performed with segments", good, ch, []wire.Segment{{Action: wire.ActionTurnLeft, From: 0, To: 1}, {Action: wire.ActionOpenMouth, From: 2, To: 3}}, now, ""},
		{"segments disagree", good, ch, []wire.Segment{{Action: wire.ActionTurnLeft, From: 2, To: 3}, {Action: wire.ActionOpenMouth, From: 0, To: 1}}, now, wire.CodeWrongActions},
		{"segment names another action", good, ch, []wire.Segment{{Action: wire.ActionTurnRight, From: 0, To: 1}, {Action: wire.ActionOpenMouth, From: 2, To: 3}}, now, wire.CodeWrongActions},
		{"expired", good, ch, nil, now.Add(time.Minute), wire.CodeChallengeExpired},
		{"too few frames", good[:2], ch, nil, now, wire.CodeTooFewFrames},
		{"wrong order", []scene{sc(0, 0.05, 1), sc(0, 0.5, 2), sc(0, 0.05, 3), sc(25, 0.05, 4)}, ch, nil, now, wire.CodeWrongActions},
		{"turned the other way", []scene{sc(0, 0.05, 1), sc(-25, 0.05, 2), sc(0, 0.05, 3), sc(0, 0.5, 4)}, ch, nil, now, wire.CodeWrongActions},
		{"already turned, never turns", []scene{sc(25, 0.05, 1), sc(26, 0.05, 2), sc(25, 0.5, 3)}, ch, nil, now, wire.CodeWrongActions},
		{"mouth open throughout", []scene{sc(0, 0.5, 1), sc(25, 0.5, 2), sc(0, 0.5, 3), sc(0, 0.5, 4)}, Challenge{Actions: []string{wire.ActionOpenMouth}, ExpiresAt: now.Add(time.Minute)}, nil, now, wire.CodeWrongActions},
		{"still picture", []scene{sc(1, 0.05, 1), sc(2, 0.06, 2), sc(1, 0.05, 3), sc(0, 0.05, 4)}, ch, nil, now, wire.CodeLivenessFailed},
		{"flat photo turned", flat(good), ch, nil, now, wire.CodeLivenessFailed},
		{"repeated frame", append(append([]scene(nil), good...), good[1]), ch, nil, now, wire.CodeLivenessFailed},
		{"no face", append(append([]scene(nil), good...), scene{noise: 9}), ch, nil, now, wire.CodeNoFace},
		{"two faces", append(append([]scene(nil), good...), scene{person: 1, faces: 2, noise: 9}), ch, nil, now, wire.CodeSeveralFaces},
		{"another person", append(append([]scene(nil), good...), scene{person: 2, faces: 1, noise: 9}), ch, nil, now, wire.CodeLivenessFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := live.Check(LivenessInput{Now: tt.now, Challenge: tt.ch, Segments: tt.segs, Frames: observations(t, tt.scenes)})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if wire.CodeOf(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	if err := live.Check(LivenessInput{Challenge: ch}); err == nil {
		t.Fatal("zero time accepted")
	}
}

func TestParallaxOfAPlaneIsZero(t *testing.T) {
	// Any projective map of a planar face keeps the nose where the
	// homography of the other four points puts it.
	a := fakeFace(scene{yaw: 0, flat: true}).Five
	var b [5]vectors.Point
	for i, p := range a {
		x, y := float64(p.X), float64(p.Y)
		w := 0.001*x + 0.002*y + 1
		b[i] = vectors.Point{X: float32((0.9*x + 0.2*y + 5) / w), Y: float32((-0.1*x + 1.1*y - 3) / w)}
	}
	if p := vectors.Parallax(a, b); p > 1e-3 {
		t.Fatalf("plane parallax %v", p)
	}
	head := vectors.Parallax(fakeFace(scene{yaw: 0}).Five, fakeFace(scene{yaw: 25}).Five)
	if head < 0.1 {
		t.Fatalf("3-D head parallax %v", head)
	}
}
