// Command facesign-enclave is the production enclave binary. It runs only on
// Nitro: attestation and randomness come from /dev/nsm, the API listens on
// vsock port 5000 and the parent's host services are dialled at vsock CID 3
// port 5001. Simulator code is never linked into it (see deps_test.go).
//
// Its sealed-state configuration comes from the measured image, never from
// the parent: the FACESIGN_* variables of the application ramdisk's env
// file (package stateboot; scripts/eif.sh bakes them, docs/operations.md).
// The gallery is a state.Journal: a data key wrapped by AWS KMS under a key
// whose policy names this image's PCRs, a DynamoDB rollback counter, and
// snapshots at the parent; KMS and DynamoDB are reached through the
// parent's egress relays (vsock ports 8000 and 8001) with TLS inside the
// enclave. A restarted enclave unwraps the same data key and replays its
// own log.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/stateboot"
	_ "github.com/facesign/facesign/vectors/faceengine" // registers the default engine
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Environ(), os.Stderr, openNitro); err != nil {
		fmt.Fprintf(os.Stderr, "error: facesign-enclave: %v\n", err)
		os.Exit(1)
	}
}

// nitroAttester is the NSM session the binary runs on.
type nitroAttester interface {
	attest.Attester
	Close() error
}

func openNitro() (nitroAttester, error) { return attest.OpenNitro() }

// run checks the measured configuration in environ first — a bad one stops
// the enclave before it opens the NSM or dials anything — then boots.
func run(ctx context.Context, environ []string, stderr io.Writer, open func() (nitroAttester, error)) error {
	cfg, err := stateboot.FromEnv(environ)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	att, err := open()
	if err != nil {
		return err
	}
	defer att.Close()
	newJournal, err := stateboot.NewJournal(cfg, stateboot.Nitro(log), att)
	if err != nil {
		return err
	}
	return enclave.Run(ctx, enclave.RunConfig{
		Attester:   att,
		Listen:     enclave.Endpoint{Network: "vsock", Port: enclave.EnclavePort},
		Parent:     enclave.Endpoint{Network: "vsock", CID: enclave.ParentCID, Port: enclave.HostServicesPort},
		NewJournal: newJournal,
		Engine:     cfg.Engine,
		NextEngine: cfg.NextEngine,
		Logger:     log,
		Now:        time.Now,
	})
}
