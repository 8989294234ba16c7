package enclave

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/facesign/facesign/wire"
)

// TestFramePoolEach: each returns the error of the lowest failing index,
// runs every frame before it, and never runs more than the pool's size at
// once, for every pool size.
func TestFramePoolEach(t *testing.T) {
	for _, tc := range []struct {
		n    int
		fail []int
	}{
		{6, nil}, {6, []int{3}}, {6, []int{1, 3}}, {6, []int{0}}, {6, []int{5, 2}}, {1, []int{0}}, {0, nil},
	} {
		for size := 1; size <= 4; size++ {
			t.Run(fmt.Sprintf("n=%d/fail=%v/size=%d", tc.n, tc.fail, size), func(t *testing.T) {
				p := newFramePool(size)
				var cur, peak atomic.Int32
				ran := make([]atomic.Bool, tc.n)
				err := p.each(context.Background(), tc.n, func(i int) error {
					c := cur.Add(1)
					defer cur.Add(-1)
					for {
						m := peak.Load()
						if c <= m || peak.CompareAndSwap(m, c) {
							break
						}
					}
					ran[i].Store(true)
					for _, f := range tc.fail {
						if f == i {
							return fmt.Errorf("frame %d", i)
						}
					}
					return nil
				})
				first := tc.n
				for _, f := range tc.fail {
					first = min(first, f)
				}
				switch {
				case first == tc.n && err != nil:
					t.Fatalf("err = %v, want nil", err)
				case first < tc.n && (err == nil || err.Error() != fmt.Sprintf("frame %d", first)):
					t.Fatalf("err = %v, want frame %d", err, first)
				}
				for i := 0; i < min(first+1, tc.n); i++ {
					if !ran[i].Load() {
						t.Fatalf("frame %d before the first failure did not run", i)
					}
				}
				if int(peak.Load()) > size {
					t.Fatalf("%d frames at once on a pool of %d", peak.Load(), size)
				}
			})
		}
	}
}

// TestFramePoolCancelled: a request whose context ends while it waits for a
// worker stops waiting; the frames it started finish.
func TestFramePoolCancelled(t *testing.T) {
	p := newFramePool(1)
	p.slots <- struct{}{} // the only worker is busy elsewhere
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	err := p.each(ctx, 3, func(int) error { ran.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Fatalf("err %v, %d frames ran", err, ran.Load())
	}
	<-p.slots
	if err := p.each(context.Background(), 3, func(int) error { ran.Add(1); return nil }); err != nil || ran.Load() != 3 {
		t.Fatalf("after release: %v, %d frames", err, ran.Load())
	}
}

// gatedEngine is the fake engine with a meter: it counts the engine calls
// in progress and their peak, and holds the first call until a second one
// runs beside it (so the test sees frames run in parallel, without timing).
type gatedEngine struct {
	fakeEngine
	cur, peak atomic.Int32
	gateOnce  sync.Once
	gate      chan struct{} // closed when two calls overlap
	first     atomic.Bool
}

func newGatedEngine() *gatedEngine {
	return &gatedEngine{fakeEngine: fakeEngine{dim: 64}, gate: make(chan struct{})}
}

func (g *gatedEngine) enter() {
	c := g.cur.Add(1)
	for {
		m := g.peak.Load()
		if c <= m || g.peak.CompareAndSwap(m, c) {
			break
		}
	}
	if c >= 2 {
		g.gateOnce.Do(func() { close(g.gate) })
	}
}

func (g *gatedEngine) Detect(img image.Image) ([]vectors.Face, error) {
	g.enter()
	defer g.cur.Add(-1)
	if g.first.CompareAndSwap(false, true) {
		select {
		case <-g.gate:
		case <-time.After(time.Minute):
			return nil, errors.New("no second frame ran beside the first within a minute")
		}
	}
	return g.fakeEngine.Detect(img)
}

func (g *gatedEngine) Embed(img image.Image, f vectors.Face) (vectors.FaceVector, error) {
	g.enter()
	defer g.cur.Add(-1)
	return g.fakeEngine.Embed(img, f)
}

// TestFramePoolBoundUnderLoad sends many concurrent enrolments through a
// service with a pool of 2 and more pipeline slots than that: frames run in
// parallel, never more than 2 at once across all requests, and every
// request gets the answer it would get alone.
func TestFramePoolBoundUnderLoad(t *testing.T) {
	const workers, requests = 2, 24
	eng := newGatedEngine()
	h := newHarnessWith(t, eng, func(c *Config) {
		c.Policy = testPolicy(eng)
		c.FrameWorkers = workers
		c.MaxConcurrent = 16
	})
	if h.svc.frames.size() != workers {
		t.Fatalf("pool of %d", h.svc.frames.size())
	}
	var wg sync.WaitGroup
	results := make([]wire.Response, requests)
	frames := 0
	for i := range requests {
		c := h.challenge()
		f := performance(t, 20+i, c.Actions, false)
		frames += len(f)
		wg.Go(func() { results[i] = h.faceWith(wire.RouteEnroll, c, f) })
	}
	wg.Wait()
	for i, r := range results {
		if r.Status != wire.StatusNew {
			t.Errorf("request %d: %s %s %s", i, r.Status, r.Reason, r.Message)
		}
	}
	if p := eng.peak.Load(); p != workers {
		t.Fatalf("peak of %d frames in the engine at once, want exactly %d", p, workers)
	}
	st := h.svc.stages.snapshot()
	counts := map[string]uint64{}
	for _, s := range st.Stages {
		counts[s.Stage] = s.Count
	}
	if counts["decode"] != uint64(frames) || counts["frames"] != requests || counts["journal"] != requests {
		t.Fatalf("stage counts %v for %d requests of %d frames", counts, requests, frames)
	}
}

// observeSequential is the obviously-correct twin of observeFrames: one
// frame after the other on the calling goroutine.
func observeSequential(s *Service, frames [][]byte, lim imageio.Limits, minFace float32) ([]Observation, error) {
	var obs []Observation
	for i, f := range frames {
		o, err := s.observeFrame(i, f, lim, minFace)
		if err != nil {
			return nil, err
		}
		obs = append(obs, o)
	}
	return obs, nil
}

// TestObserveFramesMatchesSequential: on the pool, with any number of
// workers, frames give the observations (or the error) the sequential twin
// gives: good captures, and captures with one or several bad frames.
func TestObserveFramesMatchesSequential(t *testing.T) {
	h := newHarness(t)
	good := performance(t, 7, []string{wire.ActionTurnLeft, wire.ActionOpenMouth}, false)
	noFace := drawFrame(t, scene{person: 0, faces: 0, noise: 3})
	twoFaces := drawFrame(t, scene{person: 7, faces: 2, noise: 4})
	with := func(at map[int][]byte) [][]byte {
		out := append([][]byte(nil), good...)
		for i, f := range at {
			out[i] = f
		}
		return out
	}
	lim := imageio.Limits{MaxBytes: int64(h.svc.policy.MaxFrameBytes), MaxPixels: int64(h.svc.policy.MaxPixels)}
	for _, tc := range []struct {
		name   string
		frames [][]byte
	}{
		{"good", good},
		{"no face in the middle", with(map[int][]byte{2: noFace})},
		{"two bad frames", with(map[int][]byte{1: twoFaces, 3: noFace})},
		{"first frame bad", with(map[int][]byte{0: noFace})},
		{"undecodable last", with(map[int][]byte{len(good) - 1: []byte("not an image")})},
	} {
		want, wantErr := observeSequential(h.svc, tc.frames, lim, 10)
		for _, size := range []int{1, 2, 3, 8} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, size), func(t *testing.T) {
				h.svc.frames = newFramePool(size)
				got := make([]Observation, len(tc.frames))
				err := h.svc.observeFrames(context.Background(), tc.frames, got, lim, 10)
				if wantErr != nil {
					if err == nil || err.Error() != wantErr.Error() || wire.CodeOf(err) != wire.CodeOf(wantErr) {
						t.Fatalf("err %v, sequential %v", err, wantErr)
					}
					return
				}
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("pooled observations differ from the sequential ones (err %v)", err)
				}
			})
		}
	}
}

// TestStagesServed: a face request is timed stage by stage and GET /stages
// serves the histograms; with a real clock every stage took some time.
func TestStagesServed(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.StageClock = time.Now })
	r := h.face(wire.RouteEnroll, 5)
	h.mustStatus(r, wire.StatusNew)
	code, body := h.get(wire.RouteStages)
	if code != 200 {
		t.Fatalf("GET %s: %d", wire.RouteStages, code)
	}
	st, err := wire.ParseStageHistograms(body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]wire.StageHistogram{}
	for _, s := range st.Stages {
		got[s.Stage] = s
	}
	frames := got["decode"].Count
	if frames < 2 {
		t.Fatalf("decode observed %d times", frames)
	}
	for _, name := range []string{"open", "queue", "frames", "liveness", "search", "decide", "journal", "seal"} {
		if got[name].Count != 1 {
			t.Errorf("request stage %s observed %d times, want 1", name, got[name].Count)
		}
	}
	for _, name := range []string{"decode", "detect", "align", "embed"} {
		if got[name].Count != frames {
			t.Errorf("frame stage %s observed %d times, want %d", name, got[name].Count, frames)
		}
	}
	if _, ok := got["landmarks"]; ok {
		t.Error("landmarks timed for an engine that does not report its stages")
	}
	if got["frames"].Sum <= 0 || got["decode"].Sum <= 0 {
		t.Errorf("zero durations with a real clock: %+v", got)
	}
	// The gallery's own counters: the enrolment searched it once.
	if st.Searches != 1 || st.SecondPasses != 0 {
		t.Errorf("gallery counters: %d searches, %d second passes; want 1, 0", st.Searches, st.SecondPasses)
	}
	// A request refused before it opens is not a face request's stages.
	if code, _ := h.post(wire.RouteEnroll, wire.MediaTypeRequest, []byte("junk")); code == 200 {
		t.Fatal("junk envelope accepted")
	}
	_, body = h.get(wire.RouteStages)
	again, err := wire.ParseStageHistograms(body)
	if err != nil || !reflect.DeepEqual(again, st) {
		t.Fatalf("a refused envelope changed the histograms (%v)", err)
	}
}

// get fetches an unsealed route of the enclave API.
func (h *harness) get(route string) (int, []byte) {
	h.t.Helper()
	res, err := h.http.Get(h.base + route)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.StatusCode, b
}
