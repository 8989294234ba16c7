//go:build !race

// The CNN runs tens of times slower under the race detector, so this one
// end-to-end test of the real engine is built only without -race; every
// other test (fake engine, precomputed real observations) runs in both.

package enclave

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/vectors/imageio"
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
// the real engine (detection, landmarks, alignment, embedding per frame),
// sent as /v1/login, whose pipeline is an enrolment's but writes a
// no-change record, so every iteration sees the same gallery. Sub-benchmarks
// run the frames on a pool of 1 worker (one after the other, as before the
// pool) and of GOMAXPROCS workers. Besides ns/op it reports where the time
// went, per enrolment, as custom metrics: "cpu-ms", the process's CPU time
// (user + system, getrusage: the fairer figure on a loaded machine);
// "<stage>-ms" for every stage of wire.StageNames (frame stages summed over
// the 4 frames, so they exceed the wall time when frames run in parallel)
// and "frame-stages-ms", the frame stages' sum.
//
//	go test ./enclave -run '^$' -bench BenchmarkRealEnrol -benchtime 5x -cpu 2
//
// FACESIGN_BENCH_GALLERY=N preloads N synthetic identities first (the
// issue's figure is for 10⁶; 128-d float32 identities take 512 B each).
func BenchmarkRealEnrol(b *testing.B) {
	eng, err := vectors.Open(faceengine.Name)
	if err != nil {
		b.Fatal(err)
	}
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
	gallery := 0
	if env := os.Getenv("FACESIGN_BENCH_GALLERY"); env != "" {
		if gallery, err = strconv.Atoi(env); err != nil || gallery < 0 {
			b.Fatalf("FACESIGN_BENCH_GALLERY: %q", env)
		}
	}
	for _, workers := range slices.Compact([]int{1, runtime.GOMAXPROCS(0)}) {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			h := &harness{t: b, log: &MemLog{}, clock: &clock{t: testStart}, dataKey: bytes.Repeat([]byte{0x42}, 32), tap: &tap{}}
			h.startWith(eng, func(c *Config) {
				if gallery > 0 {
					// A synthetic gallery is far past the rule's capacity
					// (arcface-fused's curve: 36 vectors), where every
					// decision is refused: benchmark it at the engine's
					// fixed thresholds, as the enclave's FixedThresholds
					// option does for load tests.
					c.Policy = FixedPolicy(eng)
				}
				c.Policy.Actions = []string{wire.ActionTurnLeft, wire.ActionTurnRight}
				c.FrameWorkers = workers
				c.StageClock = time.Now
			})
			if gallery > 0 {
				if err := h.svc.PreloadSynthetic(b.Context(), gallery, seededRand(uint64(gallery))); err != nil {
					b.Fatal(err)
				}
			}
			gs0 := h.svc.galleryStats()
			before, u0 := h.svc.stages.snapshot(), rusage()
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
			b.StopTimer()
			u1 := rusage()
			b.ReportMetric((u1.user+u1.sys-u0.user-u0.sys)*1000/float64(b.N), "cpu-ms")
			b.ReportMetric((u1.sys-u0.sys)*1000/float64(b.N), "sys-ms")
			b.ReportMetric(float64(u1.faults-u0.faults)/float64(b.N), "faults")
			// int8 searches that needed the certified second pass over the gallery
			b.ReportMetric(float64(h.svc.galleryStats().Fallbacks-gs0.Fallbacks)/float64(b.N), "second-passes")
			reportStages(b, before, h.svc.stages.snapshot())
		})
	}
}

// reportStages reports the time per iteration spent in each stage between
// two snapshots, in ms.
func reportStages(b *testing.B, before, after wire.StageHistograms) {
	sum := func(h wire.StageHistograms) map[string]float64 {
		m := map[string]float64{}
		for _, s := range h.Stages {
			m[s.Stage] = s.Sum
		}
		return m
	}
	s0, s1 := sum(before), sum(after)
	var frameCPU float64
	for _, name := range wire.StageNames {
		ms := (s1[name] - s0[name]) * 1000 / float64(b.N)
		b.ReportMetric(ms, name+"-ms")
		switch name {
		case "decode", "detect", "landmarks", "align", "embed":
			frameCPU += ms
		}
	}
	b.ReportMetric(frameCPU, "frame-stages-ms")
}

// TestObserveFramesMatchesSequentialRealEngine: with the real engine, the
// pooled frames give bit for bit the observations of the sequential twin.
func TestObserveFramesMatchesSequentialRealEngine(t *testing.T) {
	eng, err := vectors.Open(faceengine.Name)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, eng, func(c *Config) { c.FrameWorkers = 2 })
	var frames [][]byte
	for _, n := range []string{"head-turn-a/frame_0013.jpg", "head-turn-a/frame_0106.jpg", "head-turn-a/frame_0061.jpg", "head-turn-a/frame_0025.jpg"} {
		d, err := os.ReadFile(filepath.Join("testdata/liveness", n))
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, d)
	}
	lim := imageio.Limits{MaxBytes: int64(h.svc.policy.MaxFrameBytes), MaxPixels: int64(h.svc.policy.MaxPixels)}
	want, err := observeSequential(h.svc, frames, lim, 40)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]Observation, len(frames))
	if err := h.svc.observeFrames(t.Context(), frames, got, lim, 40); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("pooled observations differ from the sequential ones")
	}
}
