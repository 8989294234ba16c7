// Command facesign-enclave is the production enclave binary. It runs only on
// Nitro: attestation and randomness come from /dev/nsm, the API listens on
// vsock port 5000 and the parent's host services are dialled at vsock CID 3
// port 5001. Simulator code is never linked into it (see deps_test.go).
//
// Issue 5 limitation: the journal's data key is drawn from the NSM at every
// boot and never leaves the enclave, so a restarted enclave cannot read the
// log its predecessor wrote and refuses to start on a non-empty log
// (journal corrupt: record 0 does not open). KMS-wrapped data keys that
// survive restarts are the sealed-state layer's job (enclave/state,
// enclave/kms; docs/security.md).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave"
	_ "github.com/facesign/facesign/vectors/faceengine" // registers the default engine
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "error: facesign-enclave: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	att, err := attest.OpenNitro()
	if err != nil {
		return err
	}
	defer att.Close()
	key, err := enclave.NewDataKey(att.Random())
	if err != nil {
		return err
	}
	return enclave.Run(ctx, enclave.RunConfig{
		Attester: att,
		Listen:   enclave.Endpoint{Network: "vsock", Port: enclave.EnclavePort},
		Parent:   enclave.Endpoint{Network: "vsock", CID: enclave.ParentCID, Port: enclave.HostServicesPort},
		DataKey:  key,
		Logger:   slog.New(slog.NewJSONHandler(os.Stderr, nil)),
		Now:      time.Now,
	})
}
