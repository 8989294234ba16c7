package wire

import (
	"errors"
	"fmt"
	"math"
)

// RouteStages is the enclave's GET route for its stage histograms
// ([StageHistograms], CBOR). Only the parent dials it, to show the
// histograms on its own /metrics; the parent does not expose the route.
const RouteStages = "/stages"

// StageNames are the stages of a face request (enrol, login, delete), in
// pipeline order. Request stages are observed once per request: open (read
// the body and open the envelope), queue (wait for a pipeline slot),
// frames (wall time of all the request's frames on the shared worker pool,
// waits for a free worker included), liveness, search (fuse the frames'
// vectors and scan the gallery), decide (correct the scan, decide, build
// the answer), journal (the one durable write), seal (encode and seal the
// answer). Frame stages are observed once per frame: decode, detect (face
// boxes), landmarks, align (the aligned crop, the liveness patch and the
// quality weight), embed.
var StageNames = []string{"open", "queue", "frames", "decode", "detect", "landmarks", "align", "embed", "liveness", "search", "decide", "journal", "seal"}

// StageBounds are the histogram bucket upper bounds, in seconds, that the
// enclave uses.
var StageBounds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Limits of a [StageHistograms] message.
const (
	MaxStageBounds = 64
	MaxStageBytes  = 64 << 10
)

// StageHistograms is the body of [RouteStages]: one cumulative histogram
// of durations per stage, in the Prometheus model (buckets count the
// observations at or below each bound; the +Inf bucket is Count). It holds
// durations and counts only — no route, outcome or identity.
type StageHistograms struct {
	Bounds []float64        `cbor:"bounds"` // seconds, strictly increasing, finite, positive
	Stages []StageHistogram `cbor:"stages"`
	// Searches counts the gallery's searches since the enclave started, and
	// SecondPasses those of them whose int8 scan needed the certified second
	// pass over the gallery (≤ Searches): a rising share says the re-rank
	// depth is too small for the gallery's scores (docs/search.md).
	Searches     uint64 `cbor:"searches,omitempty"`
	SecondPasses uint64 `cbor:"second_passes,omitempty"`
}

// StageHistogram is one stage's histogram.
type StageHistogram struct {
	Stage   string   `cbor:"stage"`   // one of [StageNames]
	Count   uint64   `cbor:"count"`   // observations
	Sum     float64  `cbor:"sum"`     // seconds, finite, ≥ 0
	Buckets []uint64 `cbor:"buckets"` // cumulative counts per bound, non-decreasing, ≤ Count
}

// ErrBadStages reports a [StageHistograms] message that does not parse or
// breaks its invariants.
var ErrBadStages = errors.New("wire: bad stage histograms")

// Check reports whether h keeps the invariants documented on its fields;
// each stage appears at most once.
func (h *StageHistograms) Check() error {
	n := len(h.Bounds)
	if n == 0 || n > MaxStageBounds {
		return fmt.Errorf("%w: %d bounds, want 1..%d", ErrBadStages, n, MaxStageBounds)
	}
	for i, b := range h.Bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) || b <= 0 || (i > 0 && b <= h.Bounds[i-1]) {
			return fmt.Errorf("%w: bound %d (%v) not finite, positive and increasing", ErrBadStages, i, b)
		}
	}
	if len(h.Stages) > len(StageNames) {
		return fmt.Errorf("%w: %d stages, at most %d", ErrBadStages, len(h.Stages), len(StageNames))
	}
	if h.SecondPasses > h.Searches {
		return fmt.Errorf("%w: %d second passes in %d searches", ErrBadStages, h.SecondPasses, h.Searches)
	}
	seen := map[string]bool{}
	for _, s := range h.Stages {
		if !knownStage(s.Stage) {
			return fmt.Errorf("%w: unknown stage %q", ErrBadStages, s.Stage)
		}
		if seen[s.Stage] {
			return fmt.Errorf("%w: stage %q twice", ErrBadStages, s.Stage)
		}
		seen[s.Stage] = true
		if math.IsNaN(s.Sum) || math.IsInf(s.Sum, 0) || s.Sum < 0 {
			return fmt.Errorf("%w: stage %q: sum %v", ErrBadStages, s.Stage, s.Sum)
		}
		if len(s.Buckets) != n {
			return fmt.Errorf("%w: stage %q: %d buckets for %d bounds", ErrBadStages, s.Stage, len(s.Buckets), n)
		}
		for i, c := range s.Buckets {
			if c > s.Count || (i > 0 && c < s.Buckets[i-1]) {
				return fmt.Errorf("%w: stage %q: bucket %d not cumulative", ErrBadStages, s.Stage, i)
			}
		}
	}
	return nil
}

func knownStage(s string) bool {
	for _, n := range StageNames {
		if s == n {
			return true
		}
	}
	return false
}

// ParseStageHistograms decodes and checks a [RouteStages] body.
func ParseStageHistograms(b []byte) (StageHistograms, error) {
	if len(b) > MaxStageBytes {
		return StageHistograms{}, fmt.Errorf("%w: %d bytes, at most %d", ErrBadStages, len(b), MaxStageBytes)
	}
	var h StageHistograms
	if err := Unmarshal(b, &h); err != nil {
		return StageHistograms{}, fmt.Errorf("%w: %w", ErrBadStages, err)
	}
	if err := h.Check(); err != nil {
		return StageHistograms{}, err
	}
	return h, nil
}
