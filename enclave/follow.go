package enclave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/facesign/facesign/wire"
)

// Following a log that other enclaves write too (fleet.go): between
// requests a background loop ([Service.Follow]) polls the rollback counter
// and catches up, so the gallery stays current and a request seldom loses
// its sequence number; when one does, decideAndCommit catches up and
// decides again.

// poller is a [Follower] that can ask the rollback counter how far behind
// it is without holding the journal (enclave/state.Journal).
type poller interface {
	Poll(ctx context.Context) (behind uint64, err error)
}

// catchUpLocked applies the records other enclaves wrote since the
// journal's view. Called with s.mu held.
func (s *Service) catchUpLocked(ctx context.Context) error {
	f, ok := s.journal.(Follower)
	if !ok {
		return fmt.Errorf("%w: the journal cannot follow a shared log", ErrJournalBehind)
	}
	n, err := f.CatchUp(ctx, s.applyLocked)
	if errors.Is(err, ErrJournalCorrupt) {
		s.fail(err)
	}
	if n > 0 {
		s.caughtUp.Add(uint64(n))
	}
	return err
}

// CatchUp applies the records other enclaves wrote since this one's view,
// and returns how many it read. A journal that cannot follow a shared log
// has nothing to catch up on.
func (s *Service) CatchUp(ctx context.Context) (int, error) {
	if _, ok := s.journal.(Follower); !ok {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.caughtUp.Load()
	err := s.catchUpLocked(ctx)
	return int(s.caughtUp.Load() - before), err
}

// Follow keeps the gallery current with the shared log until ctx ends:
// every interval it polls the rollback counter (without the gallery lock)
// and catches up when other enclaves acknowledged records this one has not
// applied, and every eighth interval it reads the log regardless (records
// durable but not yet acknowledged). Errors are logged; a journal that
// reports corruption or a fork stops the service ([Service.Fatal]).
func (s *Service) Follow(ctx context.Context, interval time.Duration) {
	if _, ok := s.journal.(Follower); !ok || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.Ready() {
			continue
		}
		behind := uint64(1)
		if p, ok := s.journal.(poller); ok && tick%8 != 0 {
			var err error
			behind, err = p.Poll(ctx)
			if errors.Is(err, ErrJournalCorrupt) {
				s.fail(err)
				continue
			}
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("polling the rollback counter failed", "err", err)
				}
				continue
			}
		}
		if behind == 0 {
			continue
		}
		if _, err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("catching up failed", "err", err)
		}
	}
}

// fail stops the service for good: it answers nothing more, and
// [Service.Fatal] reports why (the enclave binary exits; a fresh boot
// checks the log from the start).
func (s *Service) fail(err error) {
	s.ready.Store(false)
	s.failOnce.Do(func() {
		s.log.Error("enclave stopped: its state can no longer be trusted to match the log", "err", err)
		s.fatalErr = err
		close(s.fatal)
	})
}

// Fatal is closed when the service stopped because its journal reported
// corruption, a fork or a rollback; [Service.Err] then says why.
func (s *Service) Fatal() <-chan struct{} { return s.fatal }

// Err is the reason the service stopped, once [Service.Fatal] is closed.
func (s *Service) Err() error {
	select {
	case <-s.fatal:
		return s.fatalErr
	default:
		return nil
	}
}

// Status is what the enclave tells its parent about its state at
// wire.RouteStatus: log positions only (which the parent, storing the
// log, knows anyway), never identities or outcomes.
func (s *Service) Status() wire.EnclaveStatus {
	st := wire.EnclaveStatus{Ready: s.Ready(), CaughtUp: s.caughtUp.Load()}
	if f, ok := s.journal.(Follower); ok {
		st.LogNext, st.LogAcked = f.Position()
		st.Lag = max(st.LogAcked, st.LogNext) - st.LogNext
	}
	s.migrationStatus(&st)
	return st
}

func (s *Service) handleStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s.Status())
}
