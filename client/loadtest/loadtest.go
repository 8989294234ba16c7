// Package loadtest measures a running FaceSign stack the way clients load
// it: each request gets its own challenge, frames picked from a recording to
// answer it, and one sealed enrolment (or login). It reports latency
// percentiles (the sealed POST only, challenge excluded) and throughput. It
// measures; it asserts nothing.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
)

// Config says what to run.
type Config struct {
	Concurrency int             // requests in flight
	Requests    int             // total requests
	Frames      []capture.Frame // an analysed recording of one person
	Tries       int             // challenges per request before giving up on picking
	Now         func() time.Time
	// Login sends logins instead of enrolments (the person must be
	// enrolled: warm up with an enrolment).
	Login bool
	// Clients, when set, gives worker i the session Clients[i%len]: behind
	// a fleet's front each session lives on the enclave it attested, so
	// one client per worker spreads the load (docs/fleet.md). Otherwise
	// every worker uses Run's client.
	Clients []*client.Client
}

// Stats is the outcome of one run.
type Stats struct {
	Concurrency   int            `json:"concurrency"`
	Requests      int            `json:"requests"`
	Errors        int            `json:"errors"`
	Statuses      map[string]int `json:"statuses"`
	P50           time.Duration  `json:"p50_ns"`
	P95           time.Duration  `json:"p95_ns"`
	P99           time.Duration  `json:"p99_ns"`
	Mean          time.Duration  `json:"mean_ns"`
	Elapsed       time.Duration  `json:"elapsed_ns"`
	ThroughputRPS float64        `json:"throughput_rps"`
}

func (s Stats) String() string {
	return fmt.Sprintf("concurrency %d: %d enrolments (%d errors) p50 %v p95 %v p99 %v mean %v, %.2f enrolments/s %v",
		s.Concurrency, s.Requests, s.Errors, s.P50.Round(time.Millisecond), s.P95.Round(time.Millisecond),
		s.P99.Round(time.Millisecond), s.Mean.Round(time.Millisecond), s.ThroughputRPS, s.Statuses)
}

// Percentile is the nearest-rank percentile (0 < p ≤ 100) of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Run enrols cfg.Requests times with cfg.Concurrency workers.
func Run(ctx context.Context, c *client.Client, cfg Config) (Stats, error) {
	if cfg.Concurrency < 1 || cfg.Requests < 1 || cfg.Now == nil {
		return Stats{}, errors.New("loadtest: concurrency, requests and a clock are required")
	}
	var (
		mu    sync.Mutex
		lat   []time.Duration
		st    = Stats{Concurrency: cfg.Concurrency, Requests: cfg.Requests, Statuses: map[string]int{}}
		next  = make(chan struct{}, cfg.Requests)
		wg    sync.WaitGroup
		first error
	)
	for range cfg.Requests {
		next <- struct{}{}
	}
	close(next)
	start := cfg.Now()
	for w := range cfg.Concurrency {
		wc := c
		if len(cfg.Clients) > 0 {
			wc = cfg.Clients[w%len(cfg.Clients)]
		}
		wg.Go(func() {
			for range next {
				d, status, err := one(ctx, wc, cfg)
				mu.Lock()
				if err != nil {
					st.Errors++
					var rej *client.RejectedError
					if errors.As(err, &rej) {
						st.Statuses["rejected:"+string(rej.Code)]++
					} else if first == nil {
						first = err
					}
				} else {
					st.Statuses[status]++
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st.Elapsed = cfg.Now().Sub(start)
	if len(lat) == 0 {
		return Stats{}, fmt.Errorf("loadtest: no request succeeded (%v): %v", st.Statuses, first)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	st.P50, st.P95, st.P99 = Percentile(lat, 50), Percentile(lat, 95), Percentile(lat, 99)
	st.Mean = sum / time.Duration(len(lat))
	st.ThroughputRPS = float64(len(lat)) / st.Elapsed.Seconds()
	return st, nil
}

func one(ctx context.Context, c *client.Client, cfg Config) (time.Duration, string, error) {
	for range max(cfg.Tries, 1) {
		ch, err := c.Challenge(ctx)
		if err != nil {
			return 0, "", err
		}
		frames, err := capture.PickAny(cfg.Frames, ch)
		if errors.Is(err, capture.ErrCannotPerform) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		t0 := cfg.Now()
		op := c.Enroll
		if cfg.Login {
			op = c.Login
		}
		res, err := op(ctx, ch, frames)
		d := cfg.Now().Sub(t0)
		if err != nil {
			return 0, "", err
		}
		return d, string(res.Status), nil
	}
	return 0, "", capture.ErrNoUsableChallenge
}
