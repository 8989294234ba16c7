package parent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Egress defaults.
const (
	DefaultEgressMaxConns    = 64
	DefaultEgressDialTimeout = 10 * time.Second
	DefaultEgressIdleTimeout = 2 * time.Minute
)

// EgressConfig configures an [Egress] relay.
type EgressConfig struct {
	// Name labels the relay in metrics and logs ("kms", "dynamodb").
	// Required.
	Name string
	// Upstream is the one host:port every connection is relayed to, for
	// example "kms.eu-west-1.amazonaws.com:443". Required. The enclave
	// cannot choose another destination.
	Upstream string
	// MaxConns bounds concurrent relayed connections; a connection over
	// the bound is closed at once. 0 means [DefaultEgressMaxConns].
	MaxConns int
	// DialTimeout bounds connecting to the upstream; 0 means
	// [DefaultEgressDialTimeout].
	DialTimeout time.Duration
	// IdleTimeout closes a connection with no bytes in either direction for
	// this long; 0 means [DefaultEgressIdleTimeout].
	IdleTimeout time.Duration
	// Dial connects to the upstream; nil means a net.Dialer over TCP.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives connection events (never payload bytes); nil discards.
	Logger *slog.Logger
	// Registry receives the relay's metrics (const label upstream=Name);
	// nil makes a private one.
	Registry prometheus.Registerer
}

// Egress relays TCP byte streams from the enclave to one fixed upstream:
// the way the enclave reaches AWS KMS and DynamoDB, which it cannot reach
// itself (an enclave has no network but vsock). Listen on a vsock port (or
// a unix socket in the simulator) and call [Egress.Serve].
//
// The relay is deliberately blind: the enclave runs TLS to the upstream
// through it, so the parent carries ciphertext only and cannot read or
// alter the requests (the enclave verifies the upstream's certificate). It
// never logs payloads. What it can do — like any parent — is refuse or
// delay service. Connections are bounded ([EgressConfig.MaxConns]), dialling
// and idling are timed out, and half-closes are passed on, so TLS
// close_notify and HTTP keep-alive behave as on a direct connection.
type Egress struct {
	cfg    EgressConfig
	log    *slog.Logger
	slots  chan struct{}
	conns  *prometheus.CounterVec
	active prometheus.Gauge
	bytes  *prometheus.CounterVec

	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// NewEgress checks cfg and makes a relay.
func NewEgress(cfg EgressConfig) (*Egress, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: egress relay needs a name", ErrConfig)
	}
	if _, _, err := net.SplitHostPort(cfg.Upstream); err != nil || strings.HasPrefix(cfg.Upstream, ":") {
		return nil, fmt.Errorf("%w: egress upstream %q must be host:port", ErrConfig, cfg.Upstream)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultEgressMaxConns
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultEgressDialTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultEgressIdleTimeout
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	e := &Egress{cfg: cfg, log: cfg.Logger, slots: make(chan struct{}, cfg.MaxConns), open: map[net.Conn]struct{}{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("egress", cfg.Name)
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	labels := prometheus.Labels{"upstream": cfg.Name}
	e.conns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "egress_connections_total", ConstLabels: labels,
		Help: "Enclave egress connections by result (relayed, rejected: over the bound, dial_error).",
	}, []string{"result"})
	e.active = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "egress_connections_active", ConstLabels: labels,
		Help: "Enclave egress connections being relayed.",
	})
	e.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "egress_bytes_total", ConstLabels: labels,
		Help: "Bytes relayed (ciphertext) by direction (out: enclave to upstream, in: upstream to enclave).",
	}, []string{"direction"})
	for _, c := range []prometheus.Collector{e.conns, e.active, e.bytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Serve accepts connections on ln and relays each to the upstream until ln
// fails or ctx ends; then it closes ln and every open connection and
// returns. It returns nil after ctx ended, otherwise the accept error.
func (e *Egress) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer func() {
		ln.Close()
		e.mu.Lock()
		for c := range e.open {
			c.Close()
		}
		e.mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("parent: egress %s: accept: %w", e.cfg.Name, err)
		}
		select {
		case e.slots <- struct{}{}:
		default:
			e.conns.WithLabelValues("rejected").Inc()
			e.log.Warn("egress connection refused: at the connection bound", "max", e.cfg.MaxConns)
			c.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-e.slots }()
			e.relay(ctx, c)
		})
	}
}

func (e *Egress) track(c net.Conn, add bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if add {
		e.open[c] = struct{}{}
	} else {
		delete(e.open, c)
	}
}

func (e *Egress) relay(ctx context.Context, down net.Conn) {
	e.track(down, true)
	defer e.track(down, false)
	defer down.Close()
	dctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
	up, err := e.cfg.Dial(dctx, "tcp", e.cfg.Upstream)
	cancel()
	if err != nil {
		e.conns.WithLabelValues("dial_error").Inc()
		e.log.Warn("egress dial failed", "error", err.Error())
		return
	}
	e.track(up, true)
	defer e.track(up, false)
	defer up.Close()
	e.conns.WithLabelValues("relayed").Inc()
	e.active.Inc()
	defer e.active.Dec()
	start := time.Now()

	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var out, in int64
	var wg sync.WaitGroup
	wg.Go(func() { out = e.pipe(up, down, &last) })
	wg.Go(func() { in = e.pipe(down, up, &last) })
	wg.Wait()
	e.bytes.WithLabelValues("out").Add(float64(out))
	e.bytes.WithLabelValues("in").Add(float64(in))
	e.log.Debug("egress connection closed", "out_bytes", out, "in_bytes", in, "duration", time.Since(start).Round(time.Millisecond))
}

type closeWriter interface{ CloseWrite() error }

// pipe copies src to dst until src ends, then half-closes dst (or closes
// both on an error). A read that times out while the other direction moved
// within the idle timeout keeps waiting: only a connection idle both ways
// is closed.
func (e *Egress) pipe(dst, src net.Conn, last *atomic.Int64) int64 {
	buf := make([]byte, 32<<10)
	var n int64
	idle := e.cfg.IdleTimeout
	for {
		_ = src.SetReadDeadline(time.Now().Add(idle))
		k, rerr := src.Read(buf)
		if k > 0 {
			last.Store(time.Now().UnixNano())
			_ = dst.SetWriteDeadline(time.Now().Add(idle))
			if _, err := dst.Write(buf[:k]); err != nil {
				src.Close()
				dst.Close()
				return n
			}
			n += int64(k)
		}
		if rerr == nil {
			continue
		}
		var ne net.Error
		if errors.As(rerr, &ne) && ne.Timeout() && time.Since(time.Unix(0, last.Load())) < idle {
			continue
		}
		if errors.Is(rerr, io.EOF) {
			if cw, ok := dst.(closeWriter); ok {
				_ = cw.CloseWrite()
				return n
			}
		}
		src.Close()
		dst.Close()
		return n
	}
}

// ParseEgress reads a relay spec of the form LISTEN=HOST:PORT, where LISTEN
// is an [Endpoint] ("vsock:3:8000", "unix:/run/kms.sock") and HOST:PORT the
// upstream, e.g. "vsock:3:8000=kms.eu-west-1.amazonaws.com:443".
func ParseEgress(s string) (Endpoint, string, error) {
	l, up, ok := strings.Cut(s, "=")
	if !ok {
		return Endpoint{}, "", fmt.Errorf("%w %q: want LISTEN=HOST:PORT", ErrBadAddress, s)
	}
	ep, err := ParseEndpoint(l)
	if err != nil {
		return Endpoint{}, "", err
	}
	if h, _, err := net.SplitHostPort(up); err != nil || h == "" {
		return Endpoint{}, "", fmt.Errorf("%w %q: upstream must be HOST:PORT", ErrBadAddress, s)
	}
	return ep, up, nil
}
