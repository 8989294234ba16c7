package parent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// EgressSpec is one egress relay to start: listen on Listen, relay to
// Upstream ("kms.eu-west-1.amazonaws.com:443").
type EgressSpec struct {
	Name     string // "kms", "dynamodb": the metrics label
	Listen   Endpoint
	Upstream string
	// Dial connects to the upstream; nil means TCP. Tests use it to record
	// what the relay carries.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// StateServicesConfig configures the parent's side of the enclave's sealed
// state: the snapshot routes, the credential routes and the egress relays.
type StateServicesConfig struct {
	// Snapshots keeps the sealed snapshots; nil serves no snapshot routes.
	Snapshots SnapshotStore
	// Credentials configures the credential routes (Logger and Registry
	// are taken from this config).
	Credentials CredentialsHostConfig
	// Egress lists the relays to start.
	Egress []EgressSpec
	// Logger receives events (never payloads or credentials); nil discards.
	Logger *slog.Logger
	// Registry receives every metric (pass the public server's registry so
	// /metrics shows them); nil makes a private one.
	Registry prometheus.Registerer
}

// StateServices is what "facesign parent" and "facesign sim" both run for
// the sealed state besides the log routes of [Host]: [SnapshotHost],
// [CredentialsHost] and one [Egress] per upstream. Serve [StateServices.Wrap]
// on the host-services listener.
type StateServices struct {
	snaps  *SnapshotHost
	creds  *CredentialsHost
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
	mu     sync.Mutex
	errs   []error
}

// StartStateServices checks cfg, listens on every relay's endpoint and
// starts relaying until ctx ends or [StateServices.Close].
func StartStateServices(ctx context.Context, cfg StateServicesConfig) (*StateServices, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &StateServices{log: log}
	var err error
	if cfg.Snapshots != nil {
		if s.snaps, err = NewSnapshotHost(SnapshotHostConfig{Store: cfg.Snapshots, Logger: log, Registry: reg}); err != nil {
			return nil, err
		}
	}
	cc := cfg.Credentials
	cc.Logger, cc.Registry = log, reg
	if s.creds, err = NewCredentialsHost(cc); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	relays := make([]*Egress, len(cfg.Egress))
	for i, e := range cfg.Egress {
		if names[e.Name] {
			return nil, fmt.Errorf("%w: two egress relays named %q", ErrConfig, e.Name)
		}
		names[e.Name] = true
		if relays[i], err = NewEgress(EgressConfig{Name: e.Name, Upstream: e.Upstream, Dial: e.Dial, Logger: log, Registry: reg}); err != nil {
			return nil, err
		}
	}
	lns := make([]net.Listener, 0, len(cfg.Egress))
	for _, e := range cfg.Egress {
		ln, err := e.Listen.Listen()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("parent: egress %s: listen on %s: %w", e.Name, e.Listen, err)
		}
		lns = append(lns, ln)
	}
	ctx, s.cancel = context.WithCancel(ctx)
	for i, r := range relays {
		ln := lns[i]
		log.Info("egress relay listening", "egress", cfg.Egress[i].Name, "listen", cfg.Egress[i].Listen.String(), "upstream", cfg.Egress[i].Upstream)
		s.wg.Go(func() {
			if err := r.Serve(ctx, ln); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Error("egress relay stopped", "error", err.Error())
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
			}
		})
	}
	return s, nil
}

// Wrap serves the snapshot and credential routes and passes every other
// request to next (the log routes of [Host.Handler]).
func (s *StateServices) Wrap(next http.Handler) http.Handler {
	h := s.creds.Wrap(next)
	if s.snaps != nil {
		h = s.snaps.Wrap(h)
	}
	return h
}

// Close stops the relays (closing their connections) and waits for them; it
// returns the errors relays stopped with on their own.
func (s *StateServices) Close() error {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}
