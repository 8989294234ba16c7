//go:build !race

// The CNN runs tens of times slower under the race detector, so this one
// end-to-end test of the real engine is built only without -race; every
// other test (fake engine, precomputed real observations) runs in both.

package enclave

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/wire"
)

// TestRealEngineEndToEnd serves the enclave with the real engine and sends it
// real frames through sealed requests: person A enrols (new), A again from
// other frames (existing, same identity), person B logs in (not_found).
func TestRealEngineEndToEnd(t *testing.T) {
	eng, err := vectors.Open(faceengine.Name)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, log: &MemLog{}, clock: &clock{t: testStart}, dataKey: bytes.Repeat([]byte{0x42}, 32), tap: &tap{}}
	h.startWith(eng, func(c *Config) {
		c.Policy.MinFrames = 4
		c.Policy.Actions = []string{wire.ActionTurnLeft, wire.ActionTurnRight}
	})
	read := func(names ...string) [][]byte {
		var out [][]byte
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join("testdata/liveness", n))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	// Frames per action order: user's left = positive yaw (frames 103, 106).
	perform := map[string][][]byte{
		wire.ActionTurnLeft + ">" + wire.ActionTurnRight: read("head-turn-a/frame_0013.jpg", "head-turn-a/frame_0106.jpg", "head-turn-a/frame_0061.jpg", "head-turn-a/frame_0025.jpg"),
		wire.ActionTurnRight + ">" + wire.ActionTurnLeft: read("head-turn-a/frame_0016.jpg", "head-turn-a/frame_0079.jpg", "head-turn-a/frame_0019.jpg", "head-turn-a/frame_0103.jpg"),
	}
	run := func(route string) wire.Response {
		c := h.challenge()
		return h.faceWith(route, c, perform[c.Actions[0]+">"+c.Actions[1]])
	}
	a := run(wire.RouteEnroll)
	h.mustStatus(a, wire.StatusNew)
	again := run(wire.RouteEnroll)
	h.mustStatus(again, wire.StatusExisting)
	if fmtID(again) != fmtID(a) {
		t.Fatal("A got another identity")
	}
	c := h.challenge()
	var r wire.Response
	h.sealedCall(wire.RouteLogin, wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce,
		Frames: read("talking-b-take1/frame_0001.jpg", "talking-b-take1/frame_0043.jpg", "talking-b-take1/frame_0022.jpg", "talking-b-take1/frame_0031.jpg")}, &r)
	// B does not turn right (and may not turn left clearly): refused before any search.
	if r.Status != wire.StatusRejected || r.Reason != wire.CodeWrongActions {
		t.Fatalf("B: %s %s %s", r.Status, r.Reason, r.Message)
	}
	if h.svc.Identities() != 1 || h.log.Puts() != 3 {
		t.Fatalf("%d identities, %d writes", h.svc.Identities(), h.log.Puts())
	}
}

// BenchmarkRealEnrol is one sealed request of 4 real 478×268 frames through
// the real engine (detection, alignment, embedding per frame) against an
// empty gallery: the CNN's share of an enrolment. It sends /v1/login, whose
// pipeline is an enrolment's but writes a no-change record, so every
// iteration sees the same gallery.
//
//	go test ./enclave -run '^$' -bench BenchmarkRealEnrol -benchtime 5x
func BenchmarkRealEnrol(b *testing.B) {
	eng, err := vectors.Open(faceengine.Name)
	if err != nil {
		b.Fatal(err)
	}
	h := &harness{t: b, log: &MemLog{}, clock: &clock{t: testStart}, dataKey: bytes.Repeat([]byte{0x42}, 32), tap: &tap{}}
	h.startWith(eng, func(c *Config) { c.Policy.Actions = []string{wire.ActionTurnLeft, wire.ActionTurnRight} })
	var frames [2][][]byte
	for i, names := range [2][]string{
		{"head-turn-a/frame_0013.jpg", "head-turn-a/frame_0106.jpg", "head-turn-a/frame_0061.jpg", "head-turn-a/frame_0025.jpg"},
		{"head-turn-a/frame_0016.jpg", "head-turn-a/frame_0079.jpg", "head-turn-a/frame_0019.jpg", "head-turn-a/frame_0103.jpg"},
	} {
		for _, n := range names {
			d, err := os.ReadFile(filepath.Join("testdata/liveness", n))
			if err != nil {
				b.Fatal(err)
			}
			frames[i] = append(frames[i], d)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c := h.challenge()
		f := frames[0]
		if c.Actions[0] == wire.ActionTurnRight {
			f = frames[1]
		}
		b.StartTimer()
		r := h.faceWith(wire.RouteLogin, c, f)
		if r.Status != wire.StatusNotFound {
			b.Fatalf("%s %s %s", r.Status, r.Reason, r.Message)
		}
	}
}
