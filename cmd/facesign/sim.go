package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/facesign/facesign/client/page"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/parent/simstack"
)

func init() {
	register(func() *cobra.Command {
		var (
			addr, data     string
			rate           float64
			burst          int
			readyTimeout   time.Duration
			enclaveArgs    []string
			maxBody        int64
			stopTimeout    time.Duration
			enclaveTimeout time.Duration
			stateMode      string
			snapshotEvery  int
			corsOrigins    []string
			pageSDK        string
			noPage         bool
			pageStep       time.Duration
			enclaves       int
			kmsPolicy      string
		)
		cmd := &cobra.Command{
			Use:   "sim",
			Short: "Run the whole stack on this machine: the parent here, the enclave as a child process (simulated NSM)",
			Long: `sim starts the parent (public API on --addr, host services on a unix socket in --data) and
the enclave as a child process ("facesign sim-enclave") with the simulated Nitro Security
Module. It waits until the enclave is ready, prints the API's URL on stdout, and runs until
interrupted; SIGINT/SIGTERM are forwarded to the enclave and the stack stops cleanly. If the
enclave exits, sim exits with an error: nothing is restarted.

The enrolment page (docs/page.md) is served at / when facesign.wasm and wasm_exec.js are found
in --page-sdk (by default beside this executable: "make build" puts them there); its URL is
printed on stderr. The simulator's attestation root is served at /v1/simulator/root.pem. Clients must opt in to
trusting it (--trust-simulator); nobody trusts it by default.

With --enclaves N, sim runs a fleet instead (docs/fleet.md): N enclaves, each with its own parent
process ("facesign sim-member"), on one shared log, snapshot directory, KMS key and rollback
counter, behind one front on --addr (attestations round-robin over the ready enclaves, sealed
requests to the enclave holding their key). A member that dies is started again. The control
socket DATA/fleet.sock answers GET /members and POST /members/{i}/replace
{"enclave_args": [...]} (a rolling upgrade, one member at a time). /metrics shows each enclave's
log position and lag. The fleet's front does not serve the enrolment page.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				if data == "" {
					if data, err = os.MkdirTemp("", "facesign-sim-"); err != nil {
						return err
					}
				}
				if err := parent.CheckOrigins(corsOrigins); err != nil {
					return &exitError{2, fmt.Errorf("--cors-origin: %w", err)}
				}
				if enclaves < 0 {
					return &exitError{2, fmt.Errorf("--enclaves %d: want 0 (one enclave, no front) or more", enclaves)}
				}
				if enclaves > 0 {
					ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
					defer cancel()
					return runFleet(ctx, fleetOptions{
						addr: addr, data: data, stateMode: stateMode, kmsPolicy: kmsPolicy, enclaves: enclaves,
						snapshotEvery: snapshotEvery, burst: burst, rate: rate, enclaveArgs: enclaveArgs, corsOrigins: corsOrigins,
						readyTimeout: readyTimeout, stopTimeout: stopTimeout, enclaveTimeout: enclaveTimeout, maxBody: maxBody,
					}, cmd.OutOrStdout(), cmd.ErrOrStderr())
				}
				log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
				// One registry for the public /metrics: the parent's own
				// metrics and the sealed-state services'.
				reg := prometheus.NewRegistry()
				ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer cancel()
				if stateMode == "sealed" { // the simulated AWS side and snapshots (simstate.go)
					args, stopState, err := startSimState(ctx, data, kmsPolicy, log, reg, snapshotEvery)
					if err != nil {
						return err
					}
					defer stopState()
					enclaveArgs = append(args, enclaveArgs...)
				} else if stateMode != "simple" {
					return &exitError{2, fmt.Errorf("--state %q: want sealed or simple", stateMode)}
				}
				var pageFn func([]byte) (http.Handler, error)
				if !noPage {
					assets, err := page.LoadAssets(pageSDK)
					if err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "facesign sim: no enrolment page: %v\n", err)
					} else {
						pageFn = func(root []byte) (http.Handler, error) {
							return page.New(assets, page.Config{Simulator: true, RootsPEM: root, StepTimeout: pageStep})
						}
					}
				}
				st, err := simstack.Start(ctx, simstack.Options{
					Page: pageFn,
					Addr: addr, DataDir: data, Executable: exe, EnclaveArgs: enclaveArgs,
					EnclaveOutput: cmd.ErrOrStderr(), Logger: log, ReadyTimeout: readyTimeout,
					RatePerSecond: rate, Burst: burst, MaxBodyBytes: maxBody, EnclaveTimeout: enclaveTimeout,
					Registry: reg, AllowedOrigins: corsOrigins,
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "facesign sim: ready at %s (data %s); the simulator root is NOT a production trust anchor\n", st.URL, st.DataDir)
				if pageFn != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "facesign sim: the enrolment page is at %s/ (SIMULATOR: not for real identities)\n", st.URL)
				}
				fmt.Fprintln(cmd.OutOrStdout(), st.URL)
				select {
				case <-ctx.Done():
					sctx, scancel := context.WithTimeout(context.Background(), stopTimeout)
					defer scancel()
					if err := st.Stop(sctx); err != nil {
						return err
					}
					fmt.Fprintln(cmd.ErrOrStderr(), "facesign sim: stopped")
					return nil
				case <-st.Exited():
					sctx, scancel := context.WithTimeout(context.Background(), stopTimeout)
					defer scancel()
					_ = st.Stop(sctx)
					return &exitError{1, st.Wait()}
				}
			},
		}
		f := cmd.Flags()
		f.StringVar(&addr, "addr", "127.0.0.1:8080", "public API listen address (port 0 picks a free port)")
		f.StringVar(&data, "data", "", "data directory (sockets, sealed log, simulator CA); default a new temporary directory")
		f.Float64Var(&rate, "rate", 20, "per-client requests per second on /v1/ routes (0 disables rate limiting)")
		f.IntVar(&burst, "burst", 64, "per-client burst on /v1/ routes")
		f.DurationVar(&readyTimeout, "ready-timeout", 5*time.Minute, "how long to wait for the enclave to become ready")
		f.DurationVar(&stopTimeout, "stop-timeout", 20*time.Second, "how long to wait for the enclave to stop before killing it")
		f.DurationVar(&enclaveTimeout, "enclave-timeout", 10*time.Minute, "how long one forwarded request may take (the CPU engine queues requests under load)")
		f.Int64Var(&maxBody, "max-body", 0, "request body limit in bytes (0: the parent's default, 16 MiB)")
		f.StringVar(&stateMode, "state", "sealed", "gallery state: sealed (state.Journal: simulated KMS, rollback counter, snapshots; docs/operations-state.md) or simple (enclave.SealedJournal: a key file in --data, no rollback detection; tests only)")
		f.IntVar(&snapshotEvery, "snapshot-every", 0, "sealed state: records between snapshots (0: the journal's default)")
		f.StringArrayVar(&corsOrigins, "cors-origin", nil, "a web origin (http://host:port) whose pages may call the /v1/ API from a browser; repeatable")
		f.StringVar(&pageSDK, "page-sdk", exeDir(), "directory with facesign.wasm and wasm_exec.js (make wasm) for the enrolment page at /")
		f.BoolVar(&noPage, "no-page", false, "do not serve the enrolment page")
		f.DurationVar(&pageStep, "page-step-timeout", 0, "enrolment page: how long a capture waits for the next move before it stops (0: the page's default, 40s)")
		f.IntVar(&enclaves, "enclaves", 0, "run a fleet of this many enclaves, each with its own parent, on one log behind one front (docs/fleet.md); 0: one enclave, no front")
		f.StringVar(&kmsPolicy, "kms-policy", simPolicyExe, "policy of the KMS key made for a new data directory: exe (this executable's PCRs), image:FILE.eif (one image's PCR0-2) or signer:CERT.pem (PCR8: any image signed with it)")
		f.StringArrayVar(&enclaveArgs, "enclave-arg", nil, "extra argument for sim-enclave (repeatable), e.g. --enclave-arg=--preload-synthetic=10000")
		return cmd
	})
}
