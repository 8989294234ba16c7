package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/facesign/facesign/parent/simstack"
)

// sim-member is one member of "facesign sim --enclaves N" (simfleet.go):
// a parent with its own sealed-state services and egress relays, and its
// enclave as a child process, on the fleet's shared log, snapshots, CA and
// AWS side. It prints "URL ENCLAVE-PID" on stdout once the enclave is
// ready and runs until signalled; if its enclave exits, it exits too (the
// fleet starts it again).
func init() {
	register(func() *cobra.Command {
		var (
			data, memberDir, kmsUp, ddbUp, stateMode string
			snapshotEvery                            int
			enclaveArgs, corsOrigins                 []string
			readyTimeout, enclaveTimeout, stopTime   time.Duration
			maxBody                                  int64
		)
		cmd := &cobra.Command{
			Use:    "sim-member",
			Short:  "Run one parent and its enclave of a simulator fleet (started by facesign sim --enclaves N)",
			Hidden: true,
			Args:   cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if data == "" || memberDir == "" {
					return &exitError{2, errors.New("--data and --member-dir are required")}
				}
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				if err := os.MkdirAll(memberDir, 0o700); err != nil {
					return err
				}
				log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)).With("member", filepath.Base(memberDir))
				reg := prometheus.NewRegistry()
				ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer cancel()
				var args []string
				switch stateMode {
				case "sealed":
					if kmsUp == "" || ddbUp == "" {
						return &exitError{2, errors.New("sealed state needs --kms-upstream and --ddb-upstream")}
					}
					// Not ctx: the relays must outlive a SIGTERM until the
					// enclave has finished the requests it is serving.
					a, stopState, err := startSimStateServices(context.WithoutCancel(ctx), data, memberDir, kmsUp, ddbUp, log, reg, snapshotEvery)
					if err != nil {
						return err
					}
					defer stopState()
					args = a
				case "simple":
				default:
					return &exitError{2, fmt.Errorf("--state %q: want sealed or simple", stateMode)}
				}
				st, err := simstack.Start(ctx, simstack.Options{
					Addr: "127.0.0.1:0", DataDir: memberDir, LogDir: filepath.Join(data, simstack.LogDir), EnclaveDataDir: data,
					Executable: exe, EnclaveArgs: append(args, enclaveArgs...), EnclaveOutput: cmd.ErrOrStderr(),
					Logger: log, ReadyTimeout: readyTimeout, MaxBodyBytes: maxBody, EnclaveTimeout: enclaveTimeout,
					Registry: reg, AllowedOrigins: corsOrigins,
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), st.URL, st.EnclavePID())
				select {
				case <-ctx.Done():
					sctx, scancel := context.WithTimeout(context.Background(), stopTime)
					defer scancel()
					return st.Stop(sctx)
				case <-st.Exited():
					sctx, scancel := context.WithTimeout(context.Background(), stopTime)
					defer scancel()
					_ = st.Stop(sctx)
					return &exitError{1, st.Wait()}
				}
			},
		}
		f := cmd.Flags()
		f.StringVar(&data, "data", "", "the fleet's data directory (shared log, snapshots, CA, KMS key)")
		f.StringVar(&memberDir, "member-dir", "", "this member's directory (sockets)")
		f.StringVar(&kmsUp, "kms-upstream", "", "the simulated KMS (host:port, TLS)")
		f.StringVar(&ddbUp, "ddb-upstream", "", "the simulated DynamoDB counter (host:port, TLS)")
		f.StringVar(&stateMode, "state", "sealed", "sealed or simple (see facesign sim)")
		f.IntVar(&snapshotEvery, "snapshot-every", 0, "records between snapshots (0: the journal's default)")
		f.StringArrayVar(&enclaveArgs, "enclave-arg", nil, "extra argument for sim-enclave (repeatable)")
		f.StringArrayVar(&corsOrigins, "cors-origin", nil, "web origin allowed to call the API (repeatable)")
		f.DurationVar(&readyTimeout, "ready-timeout", 5*time.Minute, "how long to wait for the enclave to become ready")
		f.DurationVar(&enclaveTimeout, "enclave-timeout", 10*time.Minute, "how long one forwarded request may take")
		f.DurationVar(&stopTime, "stop-timeout", 20*time.Second, "how long to wait for the enclave to stop before killing it")
		f.Int64Var(&maxBody, "max-body", 0, "request body limit in bytes (0: the parent's default)")
		return cmd
	})
}
