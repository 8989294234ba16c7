package parent

import (
	"strings"
	"testing"

	"github.com/facesign/facesign/wire"
)

// TestEnclaveStagesOnMetrics: the enclave's stage histograms show on the
// parent's /metrics; a bad or missing answer shows only stages_up 0.
func TestEnclaveStagesOnMetrics(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	h := s.Handler()
	good, err := wire.Marshal(wire.StageHistograms{
		Searches: 12, SecondPasses: 1,
		Bounds: []float64{0.01, 0.1},
		Stages: []wire.StageHistogram{{Stage: "embed", Count: 4, Sum: 0.2, Buckets: []uint64{1, 3}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := wire.Marshal(wire.StageHistograms{
		Bounds: []float64{0.01, 0.1},
		Stages: []wire.StageHistogram{{Stage: "unique_id", Count: 1, Sum: 0.2, Buckets: []uint64{1, 1}}},
	})
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		want   []string
		absent []string
	}{
		{"good", 200, good, []string{
			"facesign_enclave_stages_up 1",
			`facesign_enclave_stage_duration_seconds_bucket{stage="embed",le="0.01"} 1`,
			`facesign_enclave_stage_duration_seconds_bucket{stage="embed",le="0.1"} 3`,
			`facesign_enclave_stage_duration_seconds_bucket{stage="embed",le="+Inf"} 4`,
			`facesign_enclave_stage_duration_seconds_sum{stage="embed"} 0.2`,
			`facesign_enclave_stage_duration_seconds_count{stage="embed"} 4`,
			"facesign_enclave_gallery_searches_total 12",
			"facesign_enclave_gallery_second_passes_total 1",
		}, nil},
		{"invalid message", 200, bad, []string{"facesign_enclave_stages_up 0"}, []string{"unique_id", "stage_duration", "searches_total"}},
		{"not CBOR", 200, []byte("<html>"), []string{"facesign_enclave_stages_up 0"}, []string{"stage_duration"}},
		{"error status", 503, good, []string{"facesign_enclave_stages_up 0"}, []string{"stage_duration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe.set(tc.status, MediaCBOR, tc.body)
			out := do(t, h, "GET", "/metrics", nil, nil).Body.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("metrics lack %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("metrics hold %q", a)
				}
			}
		})
	}
	var fetched bool
	for _, c := range fe.calls() {
		if c.Method == "GET" && c.Path == wire.RouteStages {
			fetched = true
		}
	}
	if !fetched {
		t.Fatal("the parent never asked the enclave for its stages")
	}
}
