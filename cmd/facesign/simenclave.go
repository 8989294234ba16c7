package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/simulator"
	"github.com/spf13/cobra"
)

// simDataKeyFile holds the simulated enclave's journal key in the
// "--state simple" mode only. A real enclave never writes its key where the
// parent can read it; the default sealed mode does not either: its data key
// is wrapped by the simulated KMS (package stateboot, docs/state.md).
const simDataKeyFile = "sim-enclave-data.key"

func init() {
	register(func() *cobra.Command {
		var (
			listen, parentAddr, data, eifPath, engine string
			nextEngine                                string
			preload                                   int
			fixed                                     bool
			sealed                                    simStateFlags
		)
		cmd := &cobra.Command{
			Use:    "sim-enclave",
			Short:  "Run the enclave service with the simulated NSM (started by facesign sim)",
			Hidden: true,
			Long: `sim-enclave is the enclave half of "facesign sim": the same service as the production
enclave binary, but attestation and randomness come from the simulated Nitro Security Module
(its CA lives in --data as sim-root.pem) and the API listens on --listen instead of vsock.

PCR0/1/2 are the measurements of --eif when given; otherwise PCR0 and PCR1 measure this
executable's bytes and PCR2 measures nothing, so they are deterministic and never all zero.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				l, err := enclave.ParseEndpoint(listen)
				if err != nil {
					return &exitError{2, err}
				}
				p, err := enclave.ParseEndpoint(parentAddr)
				if err != nil {
					return &exitError{2, err}
				}
				if data == "" {
					return &exitError{2, errors.New("--data is required")}
				}
				if err := os.MkdirAll(data, 0o700); err != nil {
					return err
				}
				now := time.Now()
				ca, err := simulator.LoadOrCreateCA(data, rand.Reader, now)
				if err != nil {
					return fmt.Errorf("simulator CA: %w", err)
				}
				pcrs, err := simPCRs(eifPath, now)
				if err != nil {
					return err
				}
				nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: pcrs, Clock: time.Now, Rand: rand.Reader})
				if err != nil {
					return err
				}
				var key []byte
				var newJournal func(context.Context, enclave.Log, io.Reader, int) (enclave.Journal, error)
				if sealed.sealed() { // simstate.go
					newJournal, err = sealed.newJournal(nsm, slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)).With("process", "sim-enclave"))
				} else {
					key, err = simDataKey(filepath.Join(data, simDataKeyFile), nsm.Random())
				}
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return enclave.Run(ctx, enclave.RunConfig{
					Attester:        nsm,
					Listen:          l,
					Parent:          p,
					DataKey:         key,
					NewJournal:      newJournal,
					Engine:          engine,
					NextEngine:      nextEngine,
					Preload:         preload,
					FixedThresholds: fixed,
					Logger:          slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)).With("process", "sim-enclave"),
					Now:             time.Now,
				})
			},
		}
		f := cmd.Flags()
		f.StringVar(&listen, "listen", "", "where the enclave API listens: unix:PATH or tcp:HOST:PORT")
		f.StringVar(&parentAddr, "parent", "", "the parent's host services: unix:PATH or tcp:HOST:PORT")
		f.StringVar(&data, "data", "", "directory for the simulator CA and the simulated enclave's data key")
		f.StringVar(&eifPath, "eif", "", "take PCR0/1/2 from this enclave image file")
		f.StringVar(&engine, "engine", enclave.DefaultEngine, "face engine")
		f.StringVar(&nextEngine, "next-engine", "", "migrate the gallery to this engine (docs/fleet.md): both engines run on every capture")
		f.IntVar(&preload, "preload-synthetic", 0, "add this many synthetic identities to the gallery after boot (benchmarks; not journaled)")
		f.BoolVar(&fixed, "fixed-thresholds", false, "decide by the engine's fixed thresholds at any gallery size, not its curve's gallery-size rule (benchmarks with --preload-synthetic past the rule's capacity; never for real identities)")
		sealed.register(f)
		_ = cmd.MarkFlagRequired("listen")
		_ = cmd.MarkFlagRequired("parent")
		return cmd
	})
}

// simPCRs measures the image the simulated enclave "booted": the EIF when
// given, else this executable (PCR = SHA-384(48 zero bytes ‖ SHA-384(data)),
// the EIF measurement rule).
func simPCRs(eifPath string, now time.Time) (map[int][]byte, error) {
	if eifPath != "" {
		return simulator.PCRsFromEIFFile(eifPath, now)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return nil, err
	}
	measure := func(data []byte) []byte {
		inner := sha512.Sum384(data)
		outer := sha512.Sum384(append(make([]byte, 48), inner[:]...))
		return outer[:]
	}
	return map[int][]byte{0: measure(b), 1: measure(b), 2: measure(nil)}, nil
}

// simDataKey loads the simulated enclave's 32-byte data key, or makes one
// from rand and writes it (mode 0600) on first boot.
func simDataKey(path string, rand io.Reader) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) != 32 {
			return nil, fmt.Errorf("%s: %d bytes, want 32", path, len(b))
		}
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	k, err := enclave.NewDataKey(rand)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, bytes.NewReader(k)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}
