package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func goodStages() StageHistograms {
	return StageHistograms{
		Searches: 9, SecondPasses: 2,
		Bounds: []float64{0.001, 0.01, 0.1},
		Stages: []StageHistogram{
			{Stage: "open", Count: 3, Sum: 0.004, Buckets: []uint64{1, 3, 3}},
			{Stage: "embed", Count: 12, Sum: 1.5, Buckets: []uint64{0, 0, 2}},
		},
	}
}

func TestParseStageHistograms(t *testing.T) {
	b, err := Marshal(goodStages())
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseStageHistograms(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Marshal(h)
	if !bytes.Equal(again, b) {
		t.Fatal("round trip changed the encoding")
	}
	for _, tc := range []struct {
		name string
		edit func(*StageHistograms)
	}{
		{"no bounds", func(h *StageHistograms) { h.Bounds = nil }},
		{"decreasing bounds", func(h *StageHistograms) { h.Bounds[1] = 0.0001 }},
		{"NaN bound", func(h *StageHistograms) { h.Bounds[2] = math.NaN() }},
		{"infinite bound", func(h *StageHistograms) { h.Bounds[2] = math.Inf(1) }},
		{"zero bound", func(h *StageHistograms) { h.Bounds[0] = 0 }},
		{"too many bounds", func(h *StageHistograms) {
			h.Bounds = make([]float64, MaxStageBounds+1)
			for i := range h.Bounds {
				h.Bounds[i] = float64(i + 1)
			}
		}},
		{"unknown stage", func(h *StageHistograms) { h.Stages[0].Stage = "user_id" }},
		{"stage twice", func(h *StageHistograms) { h.Stages[1].Stage = "open" }},
		{"negative sum", func(h *StageHistograms) { h.Stages[0].Sum = -1 }},
		{"NaN sum", func(h *StageHistograms) { h.Stages[0].Sum = math.NaN() }},
		{"bucket count", func(h *StageHistograms) { h.Stages[0].Buckets = h.Stages[0].Buckets[:2] }},
		{"not cumulative", func(h *StageHistograms) { h.Stages[0].Buckets = []uint64{2, 1, 3} }},
		{"bucket above count", func(h *StageHistograms) { h.Stages[0].Buckets = []uint64{1, 3, 4} }},
		{"more second passes than searches", func(h *StageHistograms) { h.Searches, h.SecondPasses = 3, 4 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := goodStages()
			tc.edit(&h)
			b, err := Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseStageHistograms(b)
			if !errors.Is(err, ErrBadStages) {
				t.Fatalf("err = %v, want ErrBadStages", err)
			}
			if got.Bounds != nil || got.Stages != nil {
				t.Fatal("a result came back with the error")
			}
		})
	}
	if _, err := ParseStageHistograms(make([]byte, MaxStageBytes+1)); !errors.Is(err, ErrBadStages) {
		t.Fatalf("oversized body: %v", err)
	}
	if _, err := ParseStageHistograms([]byte{0xa1, 0x01}); !errors.Is(err, ErrBadStages) {
		t.Fatalf("truncated CBOR: %v", err)
	}
}

// FuzzParseStageHistograms: whatever parses keeps its invariants and
// re-encodes to bytes that parse to the same value.
func FuzzParseStageHistograms(f *testing.F) {
	b, _ := Marshal(goodStages())
	f.Add(b)
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa2, 0x66, 'b', 'o', 'u', 'n', 'd', 's', 0x80, 0x66, 's', 't', 'a', 'g', 'e', 's', 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseStageHistograms(data)
		if err != nil {
			if !errors.Is(err, ErrBadStages) {
				t.Fatalf("error %v does not wrap ErrBadStages", err)
			}
			return
		}
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
		enc, err := Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := ParseStageHistograms(enc)
		if err != nil {
			t.Fatal(err)
		}
		enc2, _ := Marshal(h2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("re-encoding is not stable")
		}
	})
}
