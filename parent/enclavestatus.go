package parent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/facesign/facesign/wire"
)

// ErrBadEnclaveAnswer reports an enclave answer the parent cannot read.
var ErrBadEnclaveAnswer = errors.New("parent: enclave answer unreadable")

// EnclaveStatus asks the enclave for its view of the shared log
// (wire.RouteStatus, within 5 s).
func (s *Server) EnclaveStatus(ctx context.Context) (wire.EnclaveStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://enclave"+wire.RouteStatus, nil)
	if err != nil {
		return wire.EnclaveStatus{}, err
	}
	resp, err := s.enclave.Do(req)
	if err != nil {
		return wire.EnclaveStatus{}, fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return wire.EnclaveStatus{}, fmt.Errorf("%w: enclave status answered %d", ErrNotReady, resp.StatusCode)
	}
	var st wire.EnclaveStatus
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&st); err != nil {
		return wire.EnclaveStatus{}, fmt.Errorf("%w: enclave status: %v", ErrBadEnclaveAnswer, err)
	}
	return st, nil
}

// enclaveCollector exports the enclave's status at every scrape: where it
// is in the shared log and how far behind the fleet (docs/fleet.md).
type enclaveCollector struct {
	s                               *Server
	ready, position, acked, lag, cu *prometheus.Desc
	engine, percent, dropped        *prometheus.Desc
}

func newEnclaveCollector(s *Server) *enclaveCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("facesign_enclave_"+name, help, nil, nil)
	}
	return &enclaveCollector{
		s:        s,
		ready:    d("ready", "1 if the enclave answers face requests (asked at scrape time)."),
		position: d("log_position", "Log records the enclave has applied: the sequence number it writes next."),
		acked:    d("log_acknowledged", "Highest rollback-counter value the enclave has seen (records acknowledged by the fleet)."),
		lag:      d("log_lag", "Acknowledged records the enclave has not applied yet."),
		cu:       d("log_caught_up_records_total", "Records the enclave applied from other enclaves' writes since it booted."),
		engine: prometheus.NewDesc("facesign_enclave_engine", "The log's face engine and the engine a migration moves it to (1 per enclave).",
			[]string{"engine", "migrating_to"}, nil),
		percent: d("migration_percent", "Share of identities with a vector under the migration's new engine, in whole percent."),
		dropped: d("migration_dropped", "Identities the last completed engine migration dropped (never came back: they need to enrol again)."),
	}
}

func (c *enclaveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ready, c.position, c.acked, c.lag, c.cu, c.engine, c.percent, c.dropped} {
		ch <- d
	}
}

func (c *enclaveCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.s.EnclaveStatus(context.Background())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, 0)
		return
	}
	ready := 0.0
	if st.Ready {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, ready)
	ch <- prometheus.MustNewConstMetric(c.position, prometheus.GaugeValue, float64(st.LogNext))
	ch <- prometheus.MustNewConstMetric(c.acked, prometheus.GaugeValue, float64(st.LogAcked))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(st.Lag))
	ch <- prometheus.MustNewConstMetric(c.cu, prometheus.CounterValue, float64(st.CaughtUp))
	ch <- prometheus.MustNewConstMetric(c.engine, prometheus.GaugeValue, 1, st.Engine, st.MigratingTo)
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.GaugeValue, float64(st.MigrationDropped))
	if st.MigratingTo != "" {
		ch <- prometheus.MustNewConstMetric(c.percent, prometheus.GaugeValue, float64(st.MigrationPercent))
	}
}
