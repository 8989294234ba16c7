package parent

import "github.com/prometheus/client_golang/prometheus"

// metrics are labelled by route template and coarse outcome class only: no
// identities, no client addresses, and nothing the sealed answer holds (the
// parent cannot see it anyway).
type metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	inflight      prometheus.Gauge
	enclaveErrors prometheus.Counter
}

type hostMetrics struct {
	logWrites *prometheus.CounterVec
	logBytes  prometheus.Counter
}

func newHostMetrics(reg prometheus.Registerer) (*hostMetrics, error) {
	m := &hostMetrics{
		logWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "log_writes_total",
			Help: "Sealed log record writes by result (ok, conflict, error).",
		}, []string{"result"}),
		logBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "log_bytes_total",
			Help: "Bytes of sealed log records durably written.",
		}),
	}
	for _, c := range []prometheus.Collector{m.logWrites, m.logBytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "requests_total",
			Help: "Public API requests by route template and outcome class.",
		}, []string{"route", "class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "request_duration_seconds",
			Help:    "Public API latency by route template and outcome class.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "class"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "requests_in_flight",
			Help: "Public API requests being served.",
		}),
		enclaveErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "facesign", Subsystem: "parent", Name: "enclave_errors_total",
			Help: "Forwarded requests the enclave did not answer usably (unreachable, timeout, bad answer).",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.inflight, m.enclaveErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
