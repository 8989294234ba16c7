package enclave

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// stage indexes wire.StageNames.
type stage uint8

const (
	stOpen stage = iota
	stQueue
	stFrames
	stDecode
	stDetect
	stLandmarks
	stAlign
	stEmbed
	stLiveness
	stSearch
	stDecide
	stJournal
	stSeal
	numStages
)

// engineStage maps the engine's stages onto the enclave's.
var engineStage = [vectors.NumStages]stage{
	vectors.StageDetect:    stDetect,
	vectors.StageLandmarks: stLandmarks,
	vectors.StageAlign:     stAlign,
	vectors.StageEmbed:     stEmbed,
}

func (s stage) String() string { return wire.StageNames[s] }

// histogram is one stage's duration histogram (wire.StageBounds).
type histogram struct {
	mu      sync.Mutex
	count   uint64
	sum     float64
	buckets []uint64 // per bound, not cumulative
}

// stageStats holds the duration histograms of every stage of the face
// requests: durations and counts only, never a route, an outcome or an
// identity. Safe for concurrent use.
type stageStats struct {
	h [numStages]histogram
}

func newStageStats() *stageStats {
	s := &stageStats{}
	for i := range s.h {
		s.h[i].buckets = make([]uint64, len(wire.StageBounds))
	}
	return s
}

func (s *stageStats) observe(st stage, d time.Duration) {
	sec := max(d.Seconds(), 0)
	i, _ := slices.BinarySearch(wire.StageBounds, sec) // first bound ≥ sec
	h := &s.h[st]
	h.mu.Lock()
	h.count++
	h.sum += sec
	if i < len(h.buckets) {
		h.buckets[i]++
	}
	h.mu.Unlock()
}

// snapshot returns the histograms in the wire form (cumulative buckets),
// stages with no observation left out.
func (s *stageStats) snapshot() wire.StageHistograms {
	out := wire.StageHistograms{Bounds: slices.Clone(wire.StageBounds)}
	for i := range s.h {
		h := &s.h[i]
		h.mu.Lock()
		if h.count > 0 {
			sh := wire.StageHistogram{Stage: stage(i).String(), Count: h.count, Sum: h.sum, Buckets: make([]uint64, len(h.buckets))}
			var c uint64
			for j, n := range h.buckets {
				c += n
				sh.Buckets[j] = c
			}
			if math.IsInf(sh.Sum, 0) {
				sh.Sum = math.MaxFloat64
			}
			out.Stages = append(out.Stages, sh)
		}
		h.mu.Unlock()
	}
	return out
}

// reqTimer splits one face request's time between the request stages: the
// time since the last call to enter is charged to the stage being left.
// Its methods do nothing on a nil timer. One goroutine uses it.
type reqTimer struct {
	stats *stageStats
	now   func() time.Time
	cur   stage
	since time.Time
	acc   [numStages]time.Duration
	seen  [numStages]bool
}

// startTimer starts timing a request in stage first, which began at since
// (a reading of s.stageNow).
func (s *Service) startTimer(first stage, since time.Time) *reqTimer {
	t := &reqTimer{stats: s.stages, now: s.stageNow, cur: first, since: since}
	t.seen[first] = true
	return t
}

// enter closes the current stage and starts st; it returns the stage left.
func (t *reqTimer) enter(st stage) stage {
	if t == nil {
		return 0
	}
	n := t.now()
	t.acc[t.cur] += n.Sub(t.since)
	prev := t.cur
	t.cur, t.since, t.seen[st] = st, n, true
	return prev
}

// finish closes the current stage and observes every stage entered.
func (t *reqTimer) finish() {
	if t == nil {
		return
	}
	t.enter(t.cur)
	for st, ok := range t.seen {
		if ok {
			t.stats.observe(stage(st), t.acc[st])
		}
	}
}

type timerKey struct{}

func withTimer(ctx context.Context, t *reqTimer) context.Context {
	return context.WithValue(ctx, timerKey{}, t)
}

func timerFrom(ctx context.Context) *reqTimer {
	t, _ := ctx.Value(timerKey{}).(*reqTimer)
	return t
}

// frameLaps charges one frame's time to the frame stages; it implements
// [vectors.Laps] for the engine and observes when the frame is done.
type frameLaps struct {
	stats *stageStats
	now   func() time.Time
	since time.Time
	acc   [numStages]time.Duration
	seen  [numStages]bool
}

var _ vectors.Laps = (*frameLaps)(nil)

func (s *Service) frameLaps() *frameLaps {
	return &frameLaps{stats: s.stages, now: s.stageNow, since: s.stageNow()}
}

func (f *frameLaps) lap(st stage) {
	n := f.now()
	f.acc[st] += n.Sub(f.since)
	f.since, f.seen[st] = n, true
}

// Lap implements [vectors.Laps].
func (f *frameLaps) Lap(s vectors.Stage) {
	if s < vectors.NumStages {
		f.lap(engineStage[s])
	}
}

func (f *frameLaps) done() {
	for st, ok := range f.seen {
		if ok {
			f.stats.observe(stage(st), f.acc[st])
		}
	}
}

// galleryStats reads the search counters of the service's gallery (zero for
// an index that is not a [GalleryIndex]). s.index is set once, in New.
func (s *Service) galleryStats() vectors.GalleryStats {
	if x, ok := s.index.(*GalleryIndex); ok {
		return x.Stats()
	}
	return vectors.GalleryStats{}
}

// handleStages serves the stage histograms to the parent (GET /stages).
func (s *Service) handleStages(w http.ResponseWriter, _ *http.Request) {
	h := s.stages.snapshot()
	st := s.galleryStats()
	h.Searches, h.SecondPasses = st.Searches, st.Fallbacks
	b, err := wire.Marshal(h)
	if err != nil {
		writePlainError(w, wire.CodeInternal, "encoding failed")
		return
	}
	w.Header().Set("Content-Type", wire.MediaTypeCBOR)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
