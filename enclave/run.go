package enclave

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/vectors"
)

// Vsock ports of the parent's egress relays, dialled at [ParentCID]: the
// enclave's only way to AWS KMS and DynamoDB (TLS runs inside the enclave;
// the relays carry ciphertext). Next to [EnclavePort] and
// [HostServicesPort]; "facesign parent" listens on them with
// --egress-kms vsock:3:8000=... and --egress-dynamodb vsock:3:8001=....
const (
	KMSEgressPort      = 8000
	DynamoDBEgressPort = 8001
)

// RunConfig is what an enclave binary decides: its security module, where it
// listens, where the parent's host services are, and the journal's data key.
type RunConfig struct {
	Attester attest.Attester
	Listen   Endpoint
	Parent   Endpoint
	// DataKey seals the journal (32 bytes) when NewJournal is nil. It must
	// be the same at every boot or the log cannot be replayed; see
	// [SealedJournal].
	DataKey []byte
	// NewJournal, when set, makes the journal over the parent's record log
	// instead of a [SealedJournal] under DataKey: the seam for the sealed
	// state layer (hash chain, snapshots, KMS-wrapped keys, rollback
	// counter; package enclave/state). Both enclave binaries get it from
	// package enclave/stateboot; only the simulator's "--state simple"
	// still uses DataKey.
	NewJournal func(ctx context.Context, log Log, rand io.Reader, dim int) (Journal, error)
	// Engine names the registered face engine ([DefaultEngine] if empty).
	Engine string
	// NextEngine names the engine the gallery migrates to (docs/fleet.md);
	// empty when none. The policy then names both ([MigratingPolicy]).
	NextEngine string
	// Preload adds that many synthetic identities after boot (benchmarks).
	Preload int
	// FixedThresholds runs [FixedPolicy] instead of [DefaultPolicy]: the
	// engine's fixed thresholds at any gallery size, so a benchmark with a
	// large synthetic gallery (Preload) still enrols people where the
	// gallery-size rule, past its capacity, would refuse them. The attested
	// policy shows it (no threshold rule); never for real identities.
	FixedThresholds bool
	Logger          *slog.Logger
	// Now is the clock (time.Now in the binaries).
	Now func() time.Time
	// FollowInterval is how often the enclave polls a log other enclaves
	// share, to keep its gallery current ([Service.Follow]); 0 means
	// [DefaultFollowInterval].
	FollowInterval time.Duration
}

// DefaultFollowInterval is how often an enclave polls the shared log.
const DefaultFollowInterval = 500 * time.Millisecond

// Run boots the enclave and serves its API until ctx ends. It is the whole of
// both enclave binaries (production and simulator) apart from the choice of
// [attest.Attester] and data key.
func Run(ctx context.Context, rc RunConfig) error {
	if rc.Attester == nil || rc.Now == nil {
		return errors.New("enclave: run needs an attester and a clock")
	}
	if err := vectors.KernelLevelError(); err != nil {
		return fmt.Errorf("enclave: %w", err)
	}
	log := rc.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := rc.Engine
	if name == "" {
		name = DefaultEngine
	}
	eng, err := vectors.Open(name)
	if err != nil {
		return fmt.Errorf("enclave: engine: %w", err)
	}
	policy := DefaultPolicy(eng)
	if rc.FixedThresholds {
		policy = FixedPolicy(eng)
		log.Warn("fixed decision thresholds at any gallery size (benchmarks only): past the capacity of the engine's curve, strangers may be handed other people's identities")
	}
	var next vectors.Engine
	if rc.NextEngine != "" {
		if next, err = vectors.Open(rc.NextEngine); err != nil {
			return fmt.Errorf("enclave: next engine: %w", err)
		}
		policy.Migration = migrationPolicy(next) // MigratingPolicy
		if rc.FixedThresholds {
			policy.Migration = migrationOf(FixedPolicy(next))
		}
	}
	hostLog := NewHostLog(rc.Parent.Dialer())
	var j Journal
	if rc.NewJournal != nil {
		j, err = rc.NewJournal(ctx, hostLog, rc.Attester.Random(), eng.Dim())
	} else {
		j, err = NewSealedJournal(hostLog, rc.DataKey, rc.Attester.Random(), eng.Dim())
	}
	if err != nil {
		return fmt.Errorf("enclave: journal: %w", err)
	}
	l, err := rc.Listen.Listen()
	if err != nil {
		return fmt.Errorf("enclave: listen on %s: %w", rc.Listen, err)
	}
	defer l.Close()
	log.Info("enclave booting", "listen", rc.Listen.String(), "parent", rc.Parent.String(), "engine", eng.ID(), "kernels", vectors.KernelLevel())
	svc, err := New(ctx, Config{
		Attester:   rc.Attester,
		Engine:     eng,
		NextEngine: next,
		Policy:     policy,
		Journal:    j,
		Now:        rc.Now,
		Logger:     log,
	})
	if err != nil {
		return err
	}
	if rc.Preload > 0 {
		if err := svc.PreloadSynthetic(ctx, rc.Preload, rc.Attester.Random()); err != nil {
			return err
		}
		log.Info("preloaded synthetic identities", "n", rc.Preload)
	}
	every := rc.FollowInterval
	if every <= 0 {
		every = DefaultFollowInterval
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go svc.Follow(ctx, every)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, l) }()
	select {
	case err := <-served:
		return err
	case <-svc.Fatal():
		cancel()
		<-served
		return fmt.Errorf("enclave: stopped: %w", svc.Err())
	}
}

// NewDataKey draws a 32-byte data key from rand.
func NewDataKey(rand io.Reader) ([]byte, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("enclave: data key: %w", err)
	}
	return k, nil
}
