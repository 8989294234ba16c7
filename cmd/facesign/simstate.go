package main

// The simulator's sealed state: "facesign sim" runs the stand-ins for what
// AWS provides on Nitro (the simulator's KMS with a key whose policy names
// the enclave's PCRs, and the DynamoDB-protocol rollback counter, both over
// HTTPS with a simulator service CA) on loopback, reached by the enclave
// only through the parent's egress relays with TLS inside the enclave, plus
// the parent's snapshot and credential routes; "facesign sim-enclave" then
// boots its state through package stateboot, the production wiring. See
// docs/operations-state.md.

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/eif"
	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/stateboot"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/wire"
)

// Files of the simulator's sealed state inside the data directory.
const (
	simKMSDir       = "kms"                         // the simulated KMS's keys (keys.json)
	simKMSKeyARN    = "kms/key-arn"                 // the ARN of the gallery key
	simCounterCreds = "kms/counter-credentials.bin" // the counter's credentials, sealed under the key
	simCounterKey   = "counters/principal.json"     // the simulated IAM: the only credentials the counter accepts
	simCounterDir   = "counters"                    // the simulated DynamoDB counter table
	simSnapshotDir  = "snapshots"                   // sealed snapshots (parent.DirSnapshots)
	simStateSock    = "snapshots.sock"              // host services of the sealed state: snapshots, credentials
	simEgressKMS    = "egress-kms.sock"
	simEgressDDB    = "egress-dynamodb.sock"
	simCounterTable = "facesign-sim"
)

// simCredentials stand in for the parent instance role's credentials: the
// parent serves them to the enclave, which signs its KMS calls with them.
// The simulated KMS checks no signature; the key policy's PCRs decide.
var simCredentials = credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")

// startSimState brings up the sim's "AWS side" (KMS and the DynamoDB
// counter, HTTPS with a certificate from the simulator's service CA) and
// the parent's sealed-state services (snapshots, credentials, the egress
// relays: parent.StartStateServices, the code "facesign parent" runs), and
// returns the sim-enclave arguments that use them, and a function that
// stops them. The KMS key is made on first use with the policy kmsPolicy
// names (simKeyPolicy; by default the PCRs sim-enclave will report for
// this executable: a data directory is bound to the binary that created
// it, as a Nitro deployment's state is bound to its image).
func startSimState(ctx context.Context, data, kmsPolicy string, log *slog.Logger, reg prometheus.Registerer, snapshotEvery int) ([]string, func(), error) {
	aws, err := startSimAWS(data, log, kmsPolicy)
	if err != nil {
		return nil, nil, err
	}
	args, stopServices, err := startSimStateServices(ctx, aws.dir, aws.dir, aws.kmsAddr, aws.ddbAddr, log, reg, snapshotEvery)
	if err != nil {
		aws.stop()
		return nil, nil, err
	}
	return args, func() { stopServices(); aws.stop() }, nil
}

// simAWS is the simulator's "AWS side", shared by every enclave of a data
// directory: the simulated KMS with the gallery key and the
// DynamoDB-protocol rollback counter, on loopback with TLS.
type simAWS struct {
	dir              string
	kmsAddr, ddbAddr string // host:port, TLS with the service CA's certificate
	stop             func()
}

// simPolicyExe is the KMS key policy of a data directory by default: the
// PCRs sim-enclave reports for this executable.
const simPolicyExe = "exe"

// simKeyPolicy turns a --kms-policy value into the simulated key policy:
// "exe" (PCR0/1/2 of this executable, one binary), "image:FILE.eif" (PCR0,
// PCR1 and PCR2 of one enclave image) or "signer:CERT.pem" (PCR8 alone:
// any image signed with that certificate; docs/fleet.md).
func simKeyPolicy(spec string, now time.Time) (simulator.KMSPolicy, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch {
	case spec == simPolicyExe:
		pcrs, err := simPCRs("", now)
		return simulator.KMSPolicy{PCRs: pcrs}, err
	case kind == "image" && arg != "":
		pcrs, err := simulator.PCRsFromEIFFile(arg, now)
		if err != nil {
			return simulator.KMSPolicy{}, err
		}
		return simulator.KMSPolicy{PCRs: map[int][]byte{0: pcrs[0], 1: pcrs[1], 2: pcrs[2]}}, nil
	case kind == "signer" && arg != "":
		b, err := os.ReadFile(arg)
		if err != nil {
			return simulator.KMSPolicy{}, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return simulator.KMSPolicy{}, fmt.Errorf("%s holds no PEM certificate", arg)
		}
		pcr8 := eif.Extend(blk.Bytes)
		return simulator.KMSPolicy{PCRs: map[int][]byte{8: pcr8[:]}}, nil
	}
	return simulator.KMSPolicy{}, fmt.Errorf("kms policy %q: want exe, image:FILE.eif or signer:CERT.pem", spec)
}

// startSimAWS starts the "AWS side" for the data directory data, making
// the simulator CA, the service CA, the KMS key (with the policy spec
// names, on first use only: the key's policy is fixed when it is made, as
// on AWS) and the sealed counter credentials if they do not exist yet.
func startSimAWS(data string, log *slog.Logger, policySpec string) (*simAWS, error) {
	dir, err := filepath.Abs(data)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{dir, filepath.Join(dir, simKMSDir), filepath.Join(dir, simCounterDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	ca, err := simulator.LoadOrCreateCA(dir, rand.Reader, now)
	if err != nil {
		return nil, fmt.Errorf("simulator CA: %w", err)
	}
	tlsCA, err := simulator.LoadOrCreateServiceCA(dir, rand.Reader, now)
	if err != nil {
		return nil, fmt.Errorf("simulator service CA: %w", err)
	}
	cert, err := tlsCA.ServerCertificate(rand.Reader, now, simulator.ServiceHost("kms"), simulator.ServiceHost("dynamodb"))
	if err != nil {
		return nil, err
	}
	k, err := simulator.NewKMS(simulator.KMSOptions{Roots: []*x509.Certificate{ca.Root()}, Clock: time.Now, Rand: rand.Reader, Dir: filepath.Join(dir, simKMSDir), Region: simulator.SimRegion})
	if err != nil {
		return nil, err
	}
	arn, err := simCreateOnce(filepath.Join(dir, simKMSKeyARN), func() ([]byte, error) {
		policy, err := simKeyPolicy(policySpec, now)
		if err != nil {
			return nil, err
		}
		arn, err := k.CreateKey(policy)
		return []byte(arn + "\n"), err
	})
	if err != nil {
		return nil, fmt.Errorf("simulator KMS key: %w", err)
	}
	keyARN := strings.TrimSpace(string(arn))
	if !strings.HasPrefix(keyARN, "arn:") {
		return nil, fmt.Errorf("%s does not hold a key ARN", simKMSKeyARN)
	}
	// The counter's own credentials, sealed under the key the way a key
	// administrator does it with "aws kms encrypt" (docs/state.md).
	var principal []byte
	_, err = simCreateOnce(filepath.Join(dir, simCounterCreds), func() ([]byte, error) {
		plain, err := simCounterCredentials()
		if err != nil {
			return nil, err
		}
		if principal, err = simCreateOnce(filepath.Join(dir, simCounterKey), func() ([]byte, error) { return plain, nil }); err != nil {
			return nil, err
		}
		return k.Encrypt(keyARN, plain, stateboot.CounterCredentialsContext)
	})
	if err == nil && principal == nil {
		principal, err = os.ReadFile(filepath.Join(dir, simCounterKey))
	}
	var creds wire.AWSCredentials
	if err == nil {
		err = json.Unmarshal(principal, &creds)
	}
	if err != nil {
		return nil, fmt.Errorf("simulator counter credentials: %w", err)
	}
	counters, err := simulator.NewCounters(filepath.Join(dir, simCounterDir))
	if err != nil {
		return nil, err
	}
	counters.RequireCredentials(creds.AccessKeyID, creds.SecretAccessKey)

	a := &simAWS{dir: dir}
	var closers []func()
	a.stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	// The "AWS side" on loopback TCP, TLS with the service CA's certificate.
	var upstream []string
	for _, h := range []http.Handler{k, counters} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			a.stop()
			return nil, err
		}
		srv := parent.NewHTTPServer(h, log)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		go srv.ServeTLS(ln, "", "")
		closers = append(closers, func() { srv.Close() })
		upstream = append(upstream, ln.Addr().String())
	}
	a.kmsAddr, a.ddbAddr = upstream[0], upstream[1]
	log.Info("simulated AWS side ready (TLS, simulator service CA)", "kms", a.kmsAddr, "counter", a.ddbAddr)
	return a, nil
}

// startSimStateServices starts one parent's sealed-state services — the
// snapshot and credential routes (snapshots in dir/snapshots, shared by a
// fleet) and the egress relays to the AWS side at kmsAddr and ddbAddr, all
// on sockets in sockDir — the same code "facesign parent" runs, and
// returns the sim-enclave arguments that use them. The enclave reaches KMS
// and DynamoDB only through the relays, with TLS inside it.
func startSimStateServices(ctx context.Context, dir, sockDir, kmsAddr, ddbAddr string, log *slog.Logger, reg prometheus.Registerer, snapshotEvery int) ([]string, func(), error) {
	arn, err := os.ReadFile(filepath.Join(dir, simKMSKeyARN))
	if err != nil {
		return nil, nil, fmt.Errorf("simulator KMS key: %w", err)
	}
	keyARN := strings.TrimSpace(string(arn))
	blob, err := os.ReadFile(filepath.Join(dir, simCounterCreds))
	if err != nil {
		return nil, nil, fmt.Errorf("simulator counter credentials: %w", err)
	}
	snaps, err := parent.OpenDirSnapshots(filepath.Join(dir, simSnapshotDir), parent.SnapshotOptions{})
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	stop := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	ss, err := parent.StartStateServices(ctx, parent.StateServicesConfig{
		Snapshots:   snaps,
		Credentials: parent.CredentialsHostConfig{Provider: simCredentials, CounterCredentials: blob},
		Egress: []parent.EgressSpec{
			{Name: "kms", Listen: parent.Endpoint{Network: "unix", Address: filepath.Join(sockDir, simEgressKMS)}, Upstream: kmsAddr},
			{Name: "dynamodb", Listen: parent.Endpoint{Network: "unix", Address: filepath.Join(sockDir, simEgressDDB)}, Upstream: ddbAddr},
		},
		Logger:   log,
		Registry: reg,
	})
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = ss.Close() })
	ln, err := (parent.Endpoint{Network: "unix", Address: filepath.Join(sockDir, simStateSock)}).Listen()
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("sealed-state host services: %w", err)
	}
	srv := parent.NewHTTPServer(ss.Wrap(http.NotFoundHandler()), log)
	go srv.Serve(ln)
	closers = append(closers, func() { srv.Close() })

	args := []string{
		"--state-region", simulator.SimRegion,
		"--state-kms-key", keyARN,
		"--state-counter-table", simCounterTable,
		"--state-kms-via", "unix:" + filepath.Join(sockDir, simEgressKMS),
		"--state-counter-via", "unix:" + filepath.Join(sockDir, simEgressDDB),
		"--state-host", "unix:" + filepath.Join(sockDir, simStateSock),
		"--state-tls-roots", filepath.Join(dir, simulator.ServiceCARootFile),
	}
	if snapshotEvery > 0 {
		args = append(args, "--state-snapshot-every", strconv.Itoa(snapshotEvery))
	}
	return args, stop, nil
}

// simCounterCredentials makes an access key for the simulated counter
// table, as credentials JSON (wire.AWSCredentials).
func simCounterCredentials() ([]byte, error) {
	var b [35]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := "AKIASIMCTR" + strings.ToUpper(hex.EncodeToString(b[:5]))
	return json.Marshal(wire.AWSCredentials{AccessKeyID: id, SecretAccessKey: base64.RawURLEncoding.EncodeToString(b[5:])})
}

// simCreateOnce reads the file at path, or makes its content with create
// and stores it (fsynced, mode 0600) on first use.
func simCreateOnce(path string, create func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b, err = create()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}

// simStateFlags are sim-enclave's sealed-state settings, passed by
// "facesign sim": the same stateboot.Config the production enclave reads
// from its measured image, and the stateboot.Links the simulator provides
// instead of vsock. With --state-kms-key empty, sim-enclave keeps the
// simple enclave.SealedJournal (facesign sim --state simple).
type simStateFlags struct {
	cfg                    stateboot.Config
	kmsVia, counterVia     string
	host, tlsRoots         string
	counterCredentialsMode string
}

func (s *simStateFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.cfg.Region, "state-region", simulator.SimRegion, "sealed state: the AWS region (FACESIGN_REGION)")
	f.StringVar(&s.cfg.KMSKeyARN, "state-kms-key", "", "sealed state: the KMS key ARN that wraps the data key (FACESIGN_KMS_KEY_ARN); empty keeps the simple journal")
	f.StringVar(&s.cfg.CounterTable, "state-counter-table", "", "sealed state: the rollback counter's DynamoDB table (FACESIGN_COUNTER_TABLE)")
	f.StringVar(&s.cfg.CounterName, "state-counter-name", "", "sealed state: the counter item's id (FACESIGN_COUNTER_NAME; default gallery)")
	f.StringVar(&s.counterCredentialsMode, "state-counter-credentials", string(stateboot.CounterSealed), "sealed state: sealed or instance-role (FACESIGN_COUNTER_CREDENTIALS)")
	f.IntVar(&s.cfg.SnapshotEvery, "state-snapshot-every", 0, "sealed state: records between snapshots (0: the default, 10000; negative: none)")
	f.StringVar(&s.kmsVia, "state-kms-via", "", "sealed state: the parent's KMS egress relay (unix:PATH or tcp:HOST:PORT)")
	f.StringVar(&s.counterVia, "state-counter-via", "", "sealed state: the parent's DynamoDB egress relay")
	f.StringVar(&s.host, "state-host", "", "sealed state: the parent's host services for snapshots and credentials")
	f.StringVar(&s.tlsRoots, "state-tls-roots", "", "sealed state: PEM file of the TLS roots for the AWS endpoints (the simulator's service CA)")
}

func (s *simStateFlags) sealed() bool { return s.cfg.KMSKeyARN != "" }

// newJournal returns the enclave.RunConfig.NewJournal of package stateboot
// over the simulator's links.
func (s *simStateFlags) newJournal(a attest.Attester, log *slog.Logger) (stateboot.NewJournalFunc, error) {
	if s.kmsVia == "" || s.counterVia == "" || s.host == "" || s.tlsRoots == "" {
		return nil, errors.New("sealed state needs --state-kms-via, --state-counter-via, --state-host and --state-tls-roots")
	}
	var links stateboot.Links
	for _, e := range []struct {
		v string
		d *enclave.Dialer
	}{{s.kmsVia, &links.KMS}, {s.counterVia, &links.DynamoDB}, {s.host, &links.Host}} {
		ep, err := enclave.ParseEndpoint(e.v)
		if err != nil {
			return nil, err
		}
		*e.d = ep.Dialer()
	}
	pemBytes, err := os.ReadFile(s.tlsRoots)
	if err != nil {
		return nil, err
	}
	links.Roots = x509.NewCertPool()
	if !links.Roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.tlsRoots)
	}
	links.Logger = log
	cfg := s.cfg
	cfg.CounterCredentials = stateboot.CounterCredentials(s.counterCredentialsMode)
	return stateboot.NewJournal(cfg, links, a)
}
