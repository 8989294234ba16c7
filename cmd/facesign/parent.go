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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/facesign/facesign/parent"
)

// parentFlags are "facesign parent"'s settings.
type parentFlags struct {
	addr, enclaveAddr, hostAddr string
	store, data                 string
	s3Region, s3Endpoint        string
	s3PathStyle                 bool
	snapshots                   bool
	egressKMS, egressDynamoDB   string
	awsCredentials, awsRegion   string
	counterCredentials          string
	rate                        float64
	corsOrigins                 []string
	burst                       int
	maxBody                     int64
	timeout                     time.Duration
	page                        bool
	pageFlags                   pageFlags
}

func init() {
	register(func() *cobra.Command {
		var pf parentFlags
		cmd := &cobra.Command{
			Use:   "parent",
			Short: "Run the parent (host) process beside a Nitro enclave",
			Long: `parent serves the public API on --addr, relays sealed requests to the enclave at --enclave
(vsock:CID:5000 on Nitro) and serves the host services on --host-listen (vsock port 5001 on
Nitro), which only the enclave should be able to reach: the durable sealed log and snapshots in
--store, and the AWS credential routes. --egress-kms and --egress-dynamodb relay the enclave's
TLS connections to AWS KMS and DynamoDB (vsock ports 8000 and 8001), bytes only.
It never holds a plaintext frame, vector, ID or key. See docs/operations.md.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runParent(cmd, pf)
			},
		}
		f := cmd.Flags()
		f.StringVar(&pf.addr, "addr", ":8080", "public API listen address")
		f.StringVar(&pf.enclaveAddr, "enclave", "vsock:16:5000", "the enclave's HTTP endpoint (vsock:CID:PORT, unix:PATH or tcp:HOST:PORT)")
		f.StringVar(&pf.hostAddr, "host-listen", "vsock:3:5001", "where the host services listen for the enclave (vsock:3:PORT, unix:PATH or tcp:HOST:PORT)")
		f.StringVar(&pf.store, "store", "", "where the sealed log and snapshots live: dir:PATH or s3://BUCKET/PREFIX")
		f.StringVar(&pf.data, "data", "", "same as --store dir:DATA")
		f.StringVar(&pf.s3Region, "s3-region", "", "S3 store: the bucket's region (default: --aws-region)")
		f.StringVar(&pf.s3Endpoint, "s3-endpoint", "", "S3 store: an S3-compatible endpoint URL instead of AWS")
		f.BoolVar(&pf.s3PathStyle, "s3-path-style", false, "S3 store: path-style requests (most S3-compatible servers)")
		f.BoolVar(&pf.snapshots, "snapshots", true, "serve the snapshot routes (snapshots on the same store)")
		f.StringVar(&pf.egressKMS, "egress-kms", "", "KMS egress relay LISTEN=HOST:PORT, e.g. vsock:3:8000=kms.eu-west-1.amazonaws.com:443")
		f.StringVar(&pf.egressDynamoDB, "egress-dynamodb", "", "DynamoDB egress relay LISTEN=HOST:PORT, e.g. vsock:3:8001=dynamodb.eu-west-1.amazonaws.com:443")
		f.StringVar(&pf.awsCredentials, "aws-credentials", "none", "serve the enclave AWS credentials: instance-role (the SDK's default chain) or none")
		f.StringVar(&pf.awsRegion, "aws-region", "", "AWS region for the SDK's default configuration (default: the environment's)")
		f.StringVar(&pf.counterCredentials, "counter-credentials", "", "file with the KMS ciphertext of the rollback counter's credentials (docs/state.md)")
		f.Float64Var(&pf.rate, "rate", 5, "per-client requests per second on /v1/ routes (0 disables)")
		f.BoolVar(&pf.page, "page", false, "serve the enrolment page at / (docs/page.md); needs --page-pcr")
		f.StringVar(&pf.pageFlags.sdkDir, "page-sdk", exeDir(), "enrolment page: directory with facesign.wasm and wasm_exec.js (make wasm)")
		f.StringArrayVar(&pf.pageFlags.pcrs, "page-pcr", nil, "enrolment page: pin a PCR of the enclave image, `N=HEX` (repeatable)")
		f.StringVar(&pf.pageFlags.policyHash, "page-policy-hash", "", "enrolment page: pin the exact policy (32 bytes of hex)")
		f.StringArrayVar(&pf.corsOrigins, "cors-origin", nil, "a web origin (https://host[:port]) whose pages may call the /v1/ API from a browser; repeatable")
		f.IntVar(&pf.burst, "burst", 20, "per-client burst on /v1/ routes")
		f.Int64Var(&pf.maxBody, "max-body", 0, "request body limit in bytes (0: 16 MiB)")
		f.DurationVar(&pf.timeout, "enclave-timeout", 2*time.Minute, "how long one forwarded request may take")
		return cmd
	})
}

// parentConfig is what the flags resolve to before anything starts.
type parentConfig struct {
	enclave, host parent.Endpoint
	store         parent.StoreSpec
	egress        []parent.EgressSpec
	counterBlob   []byte
}

// checkParentFlags resolves and checks every flag; nothing is started.
func checkParentFlags(pf parentFlags) (parentConfig, error) {
	var pc parentConfig
	var err error
	if pc.enclave, err = parent.ParseEndpoint(pf.enclaveAddr); err != nil {
		return pc, fmt.Errorf("--enclave: %w", err)
	}
	if pc.host, err = parent.ParseEndpoint(pf.hostAddr); err != nil {
		return pc, fmt.Errorf("--host-listen: %w", err)
	}
	switch {
	case pf.store != "" && pf.data != "":
		return pc, errors.New("--store and --data: give one")
	case pf.data != "":
		pf.store = "dir:" + pf.data
	case pf.store == "":
		return pc, errors.New("--store is required: dir:PATH or s3://BUCKET/PREFIX")
	}
	if pc.store, err = parent.ParseStoreSpec(pf.store); err != nil {
		return pc, fmt.Errorf("--store: %w", err)
	}
	if pc.store.Kind != "s3" && (pf.s3Region != "" || pf.s3Endpoint != "" || pf.s3PathStyle) {
		return pc, errors.New("--s3-* flags need an s3:// --store")
	}
	for _, e := range []struct{ name, flag, v string }{{"kms", "--egress-kms", pf.egressKMS}, {"dynamodb", "--egress-dynamodb", pf.egressDynamoDB}} {
		if e.v == "" {
			continue
		}
		ep, up, err := parent.ParseEgress(e.v)
		if err != nil {
			return pc, fmt.Errorf("%s: %w", e.flag, err)
		}
		pc.egress = append(pc.egress, parent.EgressSpec{Name: e.name, Listen: ep, Upstream: up})
	}
	if err := parent.CheckOrigins(pf.corsOrigins); err != nil {
		return pc, fmt.Errorf("--cors-origin: %w", err)
	}
	switch pf.awsCredentials {
	case "none", "instance-role":
	default:
		return pc, fmt.Errorf("--aws-credentials %q: want instance-role or none", pf.awsCredentials)
	}
	if pf.counterCredentials != "" {
		if pc.counterBlob, err = os.ReadFile(pf.counterCredentials); err != nil {
			return pc, fmt.Errorf("--counter-credentials: %w", err)
		}
		if len(pc.counterBlob) == 0 {
			return pc, fmt.Errorf("--counter-credentials: %s is empty", pf.counterCredentials)
		}
	}
	return pc, nil
}

func runParent(cmd *cobra.Command, pf parentFlags) error {
	pc, err := checkParentFlags(pf)
	if err != nil {
		return &exitError{2, err}
	}
	log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	var awsCfg *aws.Config
	loadAWS := func() (aws.Config, error) {
		if awsCfg == nil {
			var opts []func(*config.LoadOptions) error
			if pf.awsRegion != "" {
				opts = append(opts, config.WithRegion(pf.awsRegion))
			}
			c, err := config.LoadDefaultConfig(ctx, opts...)
			if err != nil {
				return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
			}
			awsCfg = &c
		}
		return *awsCfg, nil
	}
	var s3api parent.S3API
	if pc.store.Kind == "s3" {
		c, err := loadAWS()
		if err != nil {
			return err
		}
		s3api = s3.NewFromConfig(c, func(o *s3.Options) {
			if pf.s3Region != "" {
				o.Region = pf.s3Region
			}
			if pf.s3Endpoint != "" {
				o.BaseEndpoint = aws.String(pf.s3Endpoint)
			}
			o.UsePathStyle = pf.s3PathStyle
		})
	}
	store, snaps, err := parent.OpenStores(ctx, pc.store, s3api)
	if err != nil {
		return err
	}
	if !pf.snapshots {
		snaps = nil
	}
	var creds aws.CredentialsProvider
	if pf.awsCredentials == "instance-role" {
		c, err := loadAWS()
		if err != nil {
			return err
		}
		creds = c.Credentials
	}

	reg := prometheus.NewRegistry()
	host, err := parent.NewHost(parent.HostConfig{Store: store, Logger: log, Registry: reg})
	if err != nil {
		return err
	}
	ss, err := parent.StartStateServices(ctx, parent.StateServicesConfig{
		Snapshots:   snaps,
		Credentials: parent.CredentialsHostConfig{Provider: creds, CounterCredentials: pc.counterBlob},
		Egress:      pc.egress,
		Logger:      log,
		Registry:    reg,
	})
	if err != nil {
		return err
	}
	defer ss.Close()
	var pageHandler http.Handler
	if pf.page {
		site, err := pf.pageFlags.site()
		if err != nil {
			return err
		}
		pageHandler = site
	}
	srv, err := parent.New(parent.Config{
		Page:    pageHandler,
		Enclave: pc.enclave.Dialer(), Now: time.Now, Rand: rand.Reader, Logger: log, Registry: reg,
		RatePerSecond: pf.rate, Burst: pf.burst, MaxBodyBytes: pf.maxBody, EnclaveTimeout: pf.timeout,
		AllowedOrigins: pf.corsOrigins,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	hostLn, err := pc.host.Listen()
	if err != nil {
		return fmt.Errorf("host services: %w", err)
	}
	pubLn, err := net.Listen("tcp", pf.addr)
	if err != nil {
		hostLn.Close()
		return err
	}
	hs := parent.NewHTTPServer(ss.Wrap(host.Handler()), log)
	ps := parent.NewHTTPServer(srv.Handler(), log)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(hostLn) }()
	go func() { errc <- ps.Serve(pubLn) }()
	log.Info("parent listening", "addr", pubLn.Addr().String(), "enclave", pc.enclave.String(), "host_services", pc.host.String(),
		"store", pc.store.String(), "snapshots", snaps != nil, "aws_credentials", pf.awsCredentials,
		"counter_credentials", len(pc.counterBlob) > 0, "egress_relays", len(pc.egress))
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
}
