package parent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/facesign/facesign/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// errStagesStatus reports a non-200 answer to the stage histograms fetch.
var errStagesStatus = errors.New("parent: enclave stage histograms: unexpected status")

// stagesTimeout bounds one fetch of the enclave's stage histograms.
const stagesTimeout = 5 * time.Second

// enclaveStages shows the enclave's stage histograms (GET
// wire.RouteStages over the enclave dialer, at every scrape) on the
// parent's /metrics as facesign_enclave_stage_duration_seconds{stage}, and
// whether the fetch worked as facesign_enclave_stages_up. The enclave
// sends durations and counts only; the parent checks the message
// ([wire.ParseStageHistograms]) and shows nothing of one that fails.
type enclaveStages struct {
	client       *http.Client
	hist         *prometheus.Desc
	up           *prometheus.Desc
	searches     *prometheus.Desc
	secondPasses *prometheus.Desc
}

var _ prometheus.Collector = (*enclaveStages)(nil)

func newEnclaveStages(c *http.Client) *enclaveStages {
	return &enclaveStages{
		client: c,
		hist: prometheus.NewDesc("facesign_enclave_stage_duration_seconds",
			"Time the enclave spent in each stage of its face requests: per request (open, queue, frames, liveness, search, decide, journal, seal) or per frame (decode, detect, landmarks, align, embed). Fetched from the enclave at each scrape; durations only.",
			[]string{"stage"}, nil),
		up: prometheus.NewDesc("facesign_enclave_stages_up",
			"1 if the last fetch of the enclave's stage histograms worked, else 0.", nil, nil),
		searches: prometheus.NewDesc("facesign_enclave_gallery_searches_total",
			"Searches of the enclave's gallery since it started.", nil, nil),
		secondPasses: prometheus.NewDesc("facesign_enclave_gallery_second_passes_total",
			"Gallery searches whose int8 scan needed the certified second pass over the whole gallery (a rising share: the re-rank depth is too small).", nil, nil),
	}
}

// Describe implements [prometheus.Collector].
func (e *enclaveStages) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.hist
	ch <- e.up
	ch <- e.searches
	ch <- e.secondPasses
}

// Collect implements [prometheus.Collector].
func (e *enclaveStages) Collect(ch chan<- prometheus.Metric) {
	h, err := e.fetch()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(e.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(e.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(e.searches, prometheus.CounterValue, float64(h.Searches))
	ch <- prometheus.MustNewConstMetric(e.secondPasses, prometheus.CounterValue, float64(h.SecondPasses))
	for _, s := range h.Stages {
		buckets := make(map[float64]uint64, len(h.Bounds))
		for i, b := range h.Bounds {
			buckets[b] = s.Buckets[i]
		}
		m, err := prometheus.NewConstHistogram(e.hist, s.Count, s.Sum, buckets, s.Stage)
		if err == nil {
			ch <- m
		}
	}
}

func (e *enclaveStages) fetch() (wire.StageHistograms, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stagesTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://enclave"+wire.RouteStages, nil)
	if err != nil {
		return wire.StageHistograms{}, err
	}
	req.Header.Set("Accept", MediaCBOR)
	resp, err := e.client.Do(req)
	if err != nil {
		return wire.StageHistograms{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxStageBytes+1))
	if err != nil {
		return wire.StageHistograms{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return wire.StageHistograms{}, errStagesStatus
	}
	return wire.ParseStageHistograms(b)
}
