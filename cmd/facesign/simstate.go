package main

// The simulator's sealed state: "facesign sim" runs the stand-ins for what
// AWS provides on Nitro (the simulator's KMS with a key whose policy names
// the enclave's PCRs, and the DynamoDB-protocol rollback counter) on
// loopback, reached by the enclave only through the parent's egress relays,
// plus the snapshot host service; "facesign sim-enclave" then keeps its
// gallery in state.Journal. See docs/operations-state.md.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/pflag"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/enclave/state"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/simulator"
)

// Files of the simulator's sealed state inside the data directory.
const (
	simKMSDir       = "kms"            // the simulated KMS's keys (keys.json)
	simKMSKeyARN    = "kms/key-arn"    // the ARN of the gallery key
	simCounterDir   = "counters"       // the simulated DynamoDB counter table
	simSnapshotDir  = "snapshots"      // sealed snapshots (parent.DirSnapshots)
	simSnapshotSock = "snapshots.sock" // snapshot host service
	simEgressKMS    = "egress-kms.sock"
	simEgressDDB    = "egress-dynamodb.sock"
	simRegion       = "sim-local-1"
	simCounterTable = "facesign-sim"
	simCounterName  = "gallery"
)

// simCredentials sign the simulator's AWS calls. On Nitro the enclave's
// credentials reach it sealed (docs/state.md); the simulator checks none.
var simCredentials = credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")

// startSimState brings up the sim's "AWS side" and snapshot service for the
// data directory and returns the sim-enclave arguments that use them, and a
// function that stops them. The KMS key is made on first use with a policy
// naming the PCRs sim-enclave will report for this executable: a data
// directory is bound to the binary that created it, as a Nitro deployment's
// state is bound to its image.
func startSimState(ctx context.Context, data string, log *slog.Logger, snapshotEvery int) ([]string, func(), error) {
	dir, err := filepath.Abs(data)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range []string{dir, filepath.Join(dir, simKMSDir), filepath.Join(dir, simCounterDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, nil, err
		}
	}
	now := time.Now()
	ca, err := simulator.LoadOrCreateCA(dir, rand.Reader, now)
	if err != nil {
		return nil, nil, fmt.Errorf("simulator CA: %w", err)
	}
	pcrs, err := simPCRs("", now)
	if err != nil {
		return nil, nil, err
	}
	k, err := simulator.NewKMS(simulator.KMSOptions{Roots: []*x509.Certificate{ca.Root()}, Clock: time.Now, Rand: rand.Reader, Dir: filepath.Join(dir, simKMSDir), Region: simRegion})
	if err != nil {
		return nil, nil, err
	}
	arn, err := simKeyARN(filepath.Join(dir, simKMSKeyARN), func() (string, error) { return k.CreateKey(simulator.KMSPolicy{PCRs: pcrs}) })
	if err != nil {
		return nil, nil, fmt.Errorf("simulator KMS key: %w", err)
	}
	counters, err := simulator.NewCounters(filepath.Join(dir, simCounterDir))
	if err != nil {
		return nil, nil, err
	}
	snaps, err := parent.OpenDirSnapshots(filepath.Join(dir, simSnapshotDir), parent.SnapshotOptions{})
	if err != nil {
		return nil, nil, err
	}
	snapHost, err := parent.NewSnapshotHost(parent.SnapshotHostConfig{Store: snaps, Logger: log})
	if err != nil {
		return nil, nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	var closers []func()
	stop := func() {
		cancel()
		for _, c := range closers {
			c()
		}
	}
	serve := func(ln net.Listener, h http.Handler) {
		srv := parent.NewHTTPServer(h, log)
		go srv.Serve(ln)
		closers = append(closers, func() { srv.Close() })
	}
	// The "AWS side" on loopback TCP.
	var upstream []string
	for _, h := range []http.Handler{k, counters} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		serve(ln, h)
		upstream = append(upstream, ln.Addr().String())
	}
	// The parent's egress relays: the enclave reaches KMS and DynamoDB only
	// through them, as on Nitro (where TLS would run end to end inside).
	for i, r := range []struct{ name, sock string }{{"kms", simEgressKMS}, {"dynamodb", simEgressDDB}} {
		e, err := parent.NewEgress(parent.EgressConfig{Name: r.name, Upstream: upstream[i], Logger: log})
		if err == nil {
			var ln net.Listener
			if ln, err = (parent.Endpoint{Network: "unix", Address: filepath.Join(dir, r.sock)}).Listen(); err == nil {
				go e.Serve(ctx, ln)
			}
		}
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("egress %s: %w", r.name, err)
		}
	}
	ln, err := (parent.Endpoint{Network: "unix", Address: filepath.Join(dir, simSnapshotSock)}).Listen()
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("snapshot service: %w", err)
	}
	serve(ln, snapHost.Handler())

	args := []string{
		"--state-kms-url", "http://" + upstream[0],
		"--state-kms-key", arn,
		"--state-kms-via", "unix:" + filepath.Join(dir, simEgressKMS),
		"--state-counter-url", "http://" + upstream[1],
		"--state-counter-via", "unix:" + filepath.Join(dir, simEgressDDB),
		"--state-snapshots", "unix:" + filepath.Join(dir, simSnapshotSock),
	}
	if snapshotEvery > 0 {
		args = append(args, "--state-snapshot-every", strconv.Itoa(snapshotEvery))
	}
	log.Info("simulated AWS side ready", "kms", upstream[0], "counter", upstream[1])
	return args, stop, nil
}

// simKeyARN reads the ARN stored at path, or makes a key with create and
// stores its ARN (fsynced) on first use.
func simKeyARN(path string, create func() (string, error)) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if arn := strings.TrimSpace(string(b)); strings.HasPrefix(arn, "arn:") {
			return arn, nil
		}
		return "", fmt.Errorf("%s does not hold a key ARN", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	arn, err := create()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(f, arn+"\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return arn, f.Close()
}

// simStateFlags are sim-enclave's sealed-state settings, passed by "facesign
// sim". With --state-kms-url empty, sim-enclave keeps the issue-5 journal.
type simStateFlags struct {
	kmsURL, kmsKey, kmsVia string
	counterURL, counterVia string
	snapshots              string
	snapshotEvery          int
}

func (s *simStateFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.kmsURL, "state-kms-url", "", "sealed state: the KMS endpoint URL (the simulator's KMS); empty keeps the simple journal")
	f.StringVar(&s.kmsKey, "state-kms-key", "", "sealed state: the KMS key ARN that wraps the data key")
	f.StringVar(&s.kmsVia, "state-kms-via", "", "sealed state: reach KMS through this parent egress relay (unix:PATH or tcp:HOST:PORT)")
	f.StringVar(&s.counterURL, "state-counter-url", "", "sealed state: the DynamoDB endpoint URL of the rollback counter")
	f.StringVar(&s.counterVia, "state-counter-via", "", "sealed state: reach DynamoDB through this parent egress relay")
	f.StringVar(&s.snapshots, "state-snapshots", "", "sealed state: the parent's snapshot service (unix:PATH or tcp:HOST:PORT); empty disables snapshots")
	f.IntVar(&s.snapshotEvery, "state-snapshot-every", 0, "sealed state: records between snapshots (0: the journal's default, 10000)")
}

func (s *simStateFlags) sealed() bool { return s.kmsURL != "" }

// viaClient is an HTTP client whose connections all go to the egress relay
// at via, whatever the URL's host (which still names the service for
// request signing).
func viaClient(via string) (*http.Client, error) {
	if via == "" {
		return &http.Client{Timeout: 30 * time.Second}, nil
	}
	ep, err := enclave.ParseEndpoint(via)
	if err != nil {
		return nil, err
	}
	dial := ep.Dialer()
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:     func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}}, nil
}

// newJournal returns the enclave.RunConfig.NewJournal that keeps the
// gallery in a state.Journal: data key from KMS through recipient
// attestation by a, rollback counter in DynamoDB, snapshots at the parent.
func (s *simStateFlags) newJournal(a attest.Attester, log *slog.Logger) (func(context.Context, enclave.Log, io.Reader, int) (enclave.Journal, error), error) {
	if s.kmsKey == "" || s.counterURL == "" {
		return nil, errors.New("sealed state needs --state-kms-key and --state-counter-url")
	}
	kmsHTTP, err := viaClient(s.kmsVia)
	if err != nil {
		return nil, err
	}
	ddbHTTP, err := viaClient(s.counterVia)
	if err != nil {
		return nil, err
	}
	var snaps state.SnapshotStore
	if s.snapshots != "" {
		ep, err := enclave.ParseEndpoint(s.snapshots)
		if err != nil {
			return nil, err
		}
		snaps = state.NewHostSnapshots(ep.Dialer(), 0)
	}
	return func(ctx context.Context, l enclave.Log, rnd io.Reader, dim int) (enclave.Journal, error) {
		rcpt, err := kms.NewRecipient(a)
		if err != nil {
			return nil, err
		}
		keys := kms.NewAWS(kms.NewClient(kms.ClientOptions{Region: simRegion, Endpoint: s.kmsURL, HTTPClient: kmsHTTP, Credentials: simCredentials}),
			s.kmsKey, rcpt, map[string]string{"facesign:purpose": "gallery-state"})
		ddb := dynamodb.New(dynamodb.Options{Region: simRegion, BaseEndpoint: aws.String(s.counterURL), Credentials: simCredentials, HTTPClient: ddbHTTP})
		return state.New(state.Options{
			Log: l, Snapshots: snaps, Keys: keys,
			Counter: state.NewDynamoCounter(ddb, simCounterTable, simCounterName),
			Rand:    rnd, Dim: dim, SnapshotEvery: s.snapshotEvery, Logger: log,
		})
	}, nil
}

// removeStaleSocket removes a unix socket file a killed process left at the
// endpoint, so a restarted enclave can listen there again.
func removeStaleSocket(ep enclave.Endpoint) {
	if ep.Network != "unix" {
		return
	}
	if fi, err := os.Lstat(ep.Address); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(ep.Address)
	}
}
