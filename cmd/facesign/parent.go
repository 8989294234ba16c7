package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/facesign/facesign/parent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		var (
			addr, enclaveAddr, hostAddr, data string
			rate                              float64
			burst                             int
			maxBody                           int64
			timeout                           time.Duration
		)
		cmd := &cobra.Command{
			Use:   "parent",
			Short: "Run the parent (host) process beside a Nitro enclave",
			Long: `parent serves the public API on --addr, relays sealed requests to the enclave at --enclave
(vsock:CID:5000 on Nitro) and serves the host services (the durable sealed log in --data) on
--host-listen (vsock port 5001 on Nitro), which only the enclave should be able to reach.
It never holds a plaintext frame, vector, ID or key.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				encEP, err := parent.ParseEndpoint(enclaveAddr)
				if err != nil {
					return err
				}
				hostEP, err := parent.ParseEndpoint(hostAddr)
				if err != nil {
					return err
				}
				if data == "" {
					return errors.New("--data is required: the directory that keeps the sealed log")
				}
				log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
				store, err := parent.OpenDirStore(data)
				if err != nil {
					return err
				}
				reg := prometheus.NewRegistry()
				host, err := parent.NewHost(parent.HostConfig{Store: store, Logger: log, Registry: reg})
				if err != nil {
					return err
				}
				srv, err := parent.New(parent.Config{
					Enclave: encEP.Dialer(), Now: time.Now, Rand: rand.Reader, Logger: log, Registry: reg,
					RatePerSecond: rate, Burst: burst, MaxBodyBytes: maxBody, EnclaveTimeout: timeout,
				})
				if err != nil {
					return err
				}
				defer srv.Close()
				hostLn, err := hostEP.Listen()
				if err != nil {
					return fmt.Errorf("host services: %w", err)
				}
				pubLn, err := net.Listen("tcp", addr)
				if err != nil {
					hostLn.Close()
					return err
				}
				hs := parent.NewHTTPServer(host.Handler(), log)
				ps := parent.NewHTTPServer(srv.Handler(), log)
				errc := make(chan error, 2)
				go func() { errc <- hs.Serve(hostLn) }()
				go func() { errc <- ps.Serve(pubLn) }()
				log.Info("parent listening", "addr", pubLn.Addr().String(), "enclave", encEP.String(), "host_services", hostEP.String())
				ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer cancel()
				select {
				case <-ctx.Done():
				case err := <-errc:
					if !errors.Is(err, http.ErrServerClosed) {
						return err
					}
				}
				sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer scancel()
				_ = ps.Shutdown(sctx)
				_ = hs.Shutdown(sctx)
				return nil
			},
		}
		f := cmd.Flags()
		f.StringVar(&addr, "addr", ":8080", "public API listen address")
		f.StringVar(&enclaveAddr, "enclave", "vsock:16:5000", "the enclave's HTTP endpoint (vsock:CID:PORT, unix:PATH or tcp:HOST:PORT)")
		f.StringVar(&hostAddr, "host-listen", "vsock:3:5001", "where the host services listen for the enclave (vsock:3:PORT, unix:PATH or tcp:HOST:PORT)")
		f.StringVar(&data, "data", "", "directory of the durable sealed log (required)")
		f.Float64Var(&rate, "rate", 5, "per-client requests per second on /v1/ routes (0 disables)")
		f.IntVar(&burst, "burst", 20, "per-client burst on /v1/ routes")
		f.Int64Var(&maxBody, "max-body", 0, "request body limit in bytes (0: 16 MiB)")
		f.DurationVar(&timeout, "enclave-timeout", 2*time.Minute, "how long one forwarded request may take")
		return cmd
	})
}
