package stateboot_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/fxamacker/cbor/v2"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/enclave/state"
	"github.com/facesign/facesign/enclave/stateboot"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/wire"
)

const dim = 8

// recorder keeps every byte an egress relay carries, as a curious parent
// would.
type recorder struct {
	mu    sync.Mutex
	bytes map[string]*bytes.Buffer // by relay
}

func (r *recorder) dial(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.bytes[name] == nil {
			r.bytes[name] = &bytes.Buffer{}
		}
		return &recConn{Conn: c, r: r, buf: r.bytes[name]}, nil
	}
}

type recConn struct {
	net.Conn
	r   *recorder
	buf *bytes.Buffer
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.mu.Lock()
	c.buf.Write(p[:n])
	c.r.mu.Unlock()
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.buf.Write(p)
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// plaintexts keeps what the simulated AWS side saw and said in the clear.
type plaintexts struct {
	mu   sync.Mutex
	seen [][]byte
}

func (p *plaintexts) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &respRec{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		p.mu.Lock()
		p.seen = append(p.seen, body, rw.buf.Bytes(), []byte(r.Header.Get("Authorization")))
		p.mu.Unlock()
	})
}

type respRec struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *respRec) Write(b []byte) (int, error) { r.buf.Write(b); return r.ResponseWriter.Write(b) }

// world is a production-shaped deployment on one machine: the simulated AWS
// side over HTTPS (simulator service CA), and a parent with a directory
// store serving the log, snapshot and credential routes on ONE host-services
// socket plus the two egress relays — the layout of vsock ports 5001, 8000
// and 8001.
type world struct {
	t         testing.TB
	dir       string
	ca        *simulator.CA
	tlsCA     *simulator.ServiceCA
	pcrs      map[int][]byte
	kms       *simulator.KMS
	arn       string
	counterID string
	counterSK string
	env       []string
	store     *parent.DirStore
	snaps     *parent.DirSnapshots
	rec       *recorder
	plain     *plaintexts
	kmsAddr   string
	hostSock  string
	kmsSock   string
	ddbSock   string
}

var now = time.Now()

func pcrs(tag string) map[int][]byte {
	out := map[int][]byte{}
	for i := range 3 {
		v := sha512.Sum384([]byte(fmt.Sprint(tag, i)))
		out[i] = v[:]
	}
	return out
}

func shortDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "sb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

type worldOptions struct {
	snapshotEvery string
	mode          stateboot.CounterCredentials
	counterBlob   []byte // overrides the sealed blob the parent serves
	kmsUpstream   string // overrides the KMS relay's upstream (a MITM)
	table         string // FACESIGN_COUNTER_TABLE; "" means facesign-counter
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, dir: shortDir(t), pcrs: pcrs("image"), rec: &recorder{bytes: map[string]*bytes.Buffer{}}, plain: &plaintexts{}}
	var err error
	if w.ca, err = simulator.NewCA(rand.Reader, now); err != nil {
		t.Fatal(err)
	}
	if w.tlsCA, err = simulator.NewServiceCA(rand.Reader, now); err != nil {
		t.Fatal(err)
	}
	if w.kms, err = simulator.NewKMS(simulator.KMSOptions{Roots: []*x509.Certificate{w.ca.Root()}, Clock: time.Now, Rand: rand.Reader, Region: simulator.SimRegion}); err != nil {
		t.Fatal(err)
	}
	if w.arn, err = w.kms.CreateKey(simulator.KMSPolicy{PCRs: w.pcrs}); err != nil {
		t.Fatal(err)
	}
	w.counterID, w.counterSK = "AKIACOUNTERSEALED01", "counter-secret-"+rand.Text()
	plain, _ := json.Marshal(wire.AWSCredentials{AccessKeyID: w.counterID, SecretAccessKey: w.counterSK})
	blob, err := w.kms.Encrypt(w.arn, plain, stateboot.CounterCredentialsContext)
	if err != nil {
		t.Fatal(err)
	}
	if o.counterBlob != nil {
		blob = o.counterBlob
	}
	if err := os.Mkdir(filepath.Join(w.dir, "counters"), 0o700); err != nil {
		t.Fatal(err)
	}
	counters, err := simulator.NewCounters(filepath.Join(w.dir, "counters"))
	if err != nil {
		t.Fatal(err)
	}
	counters.RequireCredentials(w.counterID, w.counterSK)
	cert, err := w.tlsCA.ServerCertificate(rand.Reader, now, simulator.ServiceHost("kms"), simulator.ServiceHost("dynamodb"))
	if err != nil {
		t.Fatal(err)
	}
	var up []string
	for _, h := range []http.Handler{w.kms, counters} {
		up = append(up, serveTLS(t, w.plain.wrap(h), cert))
	}
	w.kmsAddr = up[0]
	if o.kmsUpstream != "" {
		up[0] = o.kmsUpstream
	}
	if w.store, err = parent.OpenDirStore(filepath.Join(w.dir, "log")); err != nil {
		t.Fatal(err)
	}
	if w.snaps, err = parent.OpenDirSnapshots(filepath.Join(w.dir, "snapshots"), parent.SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	host, err := parent.NewHost(parent.HostConfig{Store: w.store})
	if err != nil {
		t.Fatal(err)
	}
	w.hostSock, w.kmsSock, w.ddbSock = filepath.Join(w.dir, "host.sock"), filepath.Join(w.dir, "kms.sock"), filepath.Join(w.dir, "ddb.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ss, err := parent.StartStateServices(ctx, parent.StateServicesConfig{
		Snapshots: w.snaps,
		Credentials: parent.CredentialsHostConfig{
			Provider:           credentials.NewStaticCredentialsProvider("AKIAPARENTINSTANCE01", "parent-instance-secret", "parent-session-token"),
			CounterCredentials: blob,
		},
		Egress: []parent.EgressSpec{
			{Name: "kms", Listen: parent.Endpoint{Network: "unix", Address: w.kmsSock}, Upstream: up[0], Dial: w.rec.dial("kms")},
			{Name: "dynamodb", Listen: parent.Endpoint{Network: "unix", Address: w.ddbSock}, Upstream: up[1], Dial: w.rec.dial("dynamodb")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", w.hostSock)
	if err != nil {
		t.Fatal(err)
	}
	srv := parent.NewHTTPServer(ss.Wrap(host.Handler()), nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); cancel(); ss.Close() })

	mode := o.mode
	if mode == "" {
		mode = stateboot.CounterSealed
	}
	w.env = []string{
		"PATH=/usr/bin",
		stateboot.EnvRegion + "=" + simulator.SimRegion,
		stateboot.EnvKMSKeyARN + "=" + w.arn,
		stateboot.EnvCounterTable + "=" + cmp.Or(o.table, "facesign-counter"),
		stateboot.EnvCounterCredentials + "=" + string(mode),
	}
	if o.snapshotEvery != "" {
		w.env = append(w.env, stateboot.EnvSnapshotEvery+"="+o.snapshotEvery)
	}
	return w
}

func serveTLS(t testing.TB, h http.Handler, cert tls.Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func unixDialer(path string) enclave.Dialer {
	return enclave.Endpoint{Network: "unix", Address: path}.Dialer()
}

// boot runs one enclave boot the production way — FromEnv on the image's
// environment, stateboot.NewJournal over the parent's relays and host
// services — with a fresh simulated NSM measuring m, and replays the log.
func (w *world) boot(m map[int][]byte) (*state.Journal, []enclave.Entry, error) {
	cfg, err := stateboot.FromEnv(w.env)
	if err != nil {
		return nil, nil, err
	}
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: w.ca, PCRs: m, Clock: time.Now, Rand: rand.Reader})
	if err != nil {
		w.t.Fatal(err)
	}
	links := stateboot.Links{KMS: unixDialer(w.kmsSock), DynamoDB: unixDialer(w.ddbSock), Host: unixDialer(w.hostSock), Roots: w.tlsCA.Pool()}
	newJournal, err := stateboot.NewJournal(cfg, links, nsm)
	if err != nil {
		return nil, nil, err
	}
	j, err := newJournal(context.Background(), enclave.NewHostLog(links.Host), nsm.Random(), dim)
	if err != nil {
		return nil, nil, err
	}
	var got []enclave.Entry
	if err := j.Replay(context.Background(), func(e enclave.Entry) error { got = append(got, e); return nil }); err != nil {
		return nil, nil, err
	}
	return j.(*state.Journal), got, nil
}

func entry(i int) enclave.Entry {
	e := enclave.Entry{Op: enclave.OpAdd, UniqueID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Entropy: make([]byte, 32), Vector: make([]byte, 4*dim)}
	_, _ = rand.Read(e.Entropy)
	_, _ = rand.Read(e.Vector)
	return e
}

// TestRestartOnOwnLog: the production wiring restarts on the log its
// predecessor wrote (same data key through KMS, counter in step), with
// snapshots; the issue-5 path (a fresh data key per boot) could not.
func TestRestartOnOwnLog(t *testing.T) {
	// The table by ARN, as docs/operations.md recommends (pins the account).
	w := newWorld(t, worldOptions{snapshotEvery: "3", table: "arn:aws:dynamodb:" + simulator.SimRegion + ":000000000000:table/facesign-counter"})
	j, got, err := w.boot(w.pcrs)
	if err != nil || len(got) != 0 {
		t.Fatalf("first boot: %d entries, %v", len(got), err)
	}
	var want []enclave.Entry
	for i := range 5 {
		e := entry(i)
		if err := j.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	j.Close() // waits for the background snapshot
	if seq, rc, err := w.snaps.LatestSnapshot(context.Background()); err != nil {
		t.Fatalf("no snapshot stored: %v", err)
	} else {
		rc.Close()
		t.Logf("snapshot at %d", seq)
	}
	for boot := 2; boot <= 3; boot++ {
		j, got, err = w.boot(w.pcrs)
		if err != nil {
			t.Fatalf("boot %d: %v", boot, err)
		}
		if len(got) != len(want) {
			t.Fatalf("boot %d: %d identities, want %d", boot, len(got), len(want))
		}
		have := map[string]enclave.Entry{}
		for _, e := range got {
			have[e.UniqueID] = e
		}
		for _, e := range want {
			if g, ok := have[e.UniqueID]; !ok || !bytes.Equal(g.Entropy, e.Entropy) || !bytes.Equal(g.Vector, e.Vector) {
				t.Fatalf("boot %d: identity %s lost or changed", boot, e.UniqueID)
			}
		}
		e := entry(10 + boot)
		if err := j.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
		j.Close()
	}
	// Another image (PCR0 differs) gets nothing.
	other := pcrs("image")
	other[0] = pcrs("modified")[0]
	if _, _, err := w.boot(other); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("modified image: %v, want kms.ErrDenied", err)
	}

	// The issue-5 production path: a fresh NSM data key at every boot.
	memLog := &enclave.MemLog{}
	k1, _ := enclave.NewDataKey(rand.Reader)
	sj, err := enclave.NewSealedJournal(memLog, k1, rand.Reader, dim)
	if err != nil {
		t.Fatal(err)
	}
	if err := sj.Replay(context.Background(), func(enclave.Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := sj.Append(context.Background(), entry(0)); err != nil {
		t.Fatal(err)
	}
	k2, _ := enclave.NewDataKey(rand.Reader)
	sj2, err := enclave.NewSealedJournal(memLog, k2, rand.Reader, dim)
	if err == nil {
		err = sj2.Replay(context.Background(), func(enclave.Entry) error { return nil })
	}
	if err == nil {
		t.Fatal("the old path restarted on its own log: the comparison is void")
	}
}

// TestCuriousParent records every byte through the egress relays and checks
// that nothing the KMS or DynamoDB exchange carried in the clear — request
// and response bodies, signatures, the instance and counter credentials,
// the data key — is visible to the parent: it is all TLS.
func TestCuriousParent(t *testing.T) {
	w := newWorld(t, worldOptions{snapshotEvery: "2"})
	j, _, err := w.boot(w.pcrs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := j.Append(context.Background(), entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	if _, _, err := w.boot(w.pcrs); err != nil {
		t.Fatal(err)
	}

	// The data key: unwrap the header's wrapped key as the enclave does.
	var hdr struct {
		WrappedKey []byte `cbor:"wrapped_key"`
	}
	var rec0 []byte
	if err := w.store.Scan(context.Background(), 0, func(seq uint64, rec []byte) error {
		if seq == 0 {
			rec0 = rec
		}
		return nil
	}); err != nil || rec0 == nil {
		t.Fatalf("no header record: %v", err)
	}
	if err := cbor.Unmarshal(rec0, &hdr); err != nil {
		t.Fatal(err)
	}
	dataKey := w.unwrap(hdr.WrappedKey)

	secrets := map[string][]byte{
		"data key":                dataKey,
		"counter access key":      []byte(w.counterID),
		"counter secret":          []byte(w.counterSK),
		"instance access key":     []byte("AKIAPARENTINSTANCE01"),
		"instance session token":  []byte("parent-session-token"),
		"KMS protocol":            []byte("TrentService"),
		"DynamoDB protocol":       []byte("DynamoDB_20120810"),
		"SigV4":                   []byte("AWS4-HMAC-SHA256"),
		"the counter's table":     []byte("facesign-counter"),
		"KMS operation":           []byte("GenerateDataKey"),
		"recipient key algorithm": []byte("RSAES_OAEP_SHA_256"),
	}
	w.plain.mu.Lock()
	for i, p := range w.plain.seen {
		if len(p) >= 48 { // a window from every plaintext body and signature
			secrets[fmt.Sprintf("plaintext %d", i)] = p[len(p)/2-16 : len(p)/2+16]
		}
	}
	nPlain := len(w.plain.seen)
	w.plain.mu.Unlock()
	if nPlain < 6 {
		t.Fatalf("the AWS side saw %d exchanges; the test checks nothing", nPlain)
	}
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	for _, relay := range []string{"kms", "dynamodb"} {
		b := w.rec.bytes[relay]
		if b == nil || b.Len() < 1000 {
			t.Fatalf("relay %s carried %d bytes; the test checks nothing", relay, b.Len())
		}
		// Every connection starts with a TLS handshake record.
		if b.Bytes()[0] != 0x16 || b.Bytes()[1] != 0x03 {
			t.Fatalf("relay %s: stream starts %x, not a TLS record", relay, b.Bytes()[:2])
		}
		for name, s := range secrets {
			if bytes.Contains(b.Bytes(), s) {
				t.Errorf("relay %s carried %s in the clear", relay, name)
			}
		}
	}
	// The parent's store holds no data key either.
	_ = w.store.Scan(context.Background(), 0, func(seq uint64, rec []byte) error {
		if bytes.Contains(rec, dataKey) {
			t.Errorf("record %d holds the data key", seq)
		}
		return nil
	})
}

// unwrap opens a wrapped data key as the measured enclave, talking to the
// simulated KMS directly (test only).
func (w *world) unwrap(wrapped []byte) []byte {
	w.t.Helper()
	nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: w.ca, PCRs: w.pcrs, Clock: time.Now, Rand: rand.Reader})
	if err != nil {
		w.t.Fatal(err)
	}
	rcpt, err := kms.NewRecipient(nsm)
	if err != nil {
		w.t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.tlsCA.Pool(), ServerName: simulator.ServiceHost("kms")}}}
	api := kms.NewClient(kms.ClientOptions{Region: simulator.SimRegion, Endpoint: "https://" + w.kmsAddr, HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "test", "")})
	key, err := kms.NewAWS(api, w.arn, rcpt, stateboot.DataKeyContext).Decrypt(context.Background(), wrapped)
	if err != nil {
		w.t.Fatal(err)
	}
	return key
}

// TestParentCannotSubstitute: a parent that answers TLS itself, serves
// counter credentials of its own, or withholds them, stops the boot; with
// the parent's instance role the counter (which only the sealed principal
// may write) refuses.
func TestParentCannotSubstitute(t *testing.T) {
	// A MITM: the KMS relay goes to a server with a certificate from
	// another CA for the right name.
	rogueCA, err := simulator.NewServiceCA(rand.Reader, now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := rogueCA.ServerCertificate(rand.Reader, now, simulator.ServiceHost("kms"))
	if err != nil {
		t.Fatal(err)
	}
	rogue := serveTLS(t, http.NotFoundHandler(), cert)

	// Counter credentials the parent made up and "sealed" under a key it
	// controls (another simulated KMS key without the enclave's policy
	// would still not be this key).
	fake, _ := json.Marshal(wire.AWSCredentials{AccessKeyID: "AKIAPARENTCHOSEN", SecretAccessKey: "x"})

	for _, tc := range []struct {
		name string
		o    worldOptions
		want error
	}{
		{"TLS answered by the parent", worldOptions{kmsUpstream: rogue}, stateboot.ErrTLS},
		{"plaintext counter credentials", worldOptions{counterBlob: fake}, stateboot.ErrCredentials},
		{"garbage counter credentials", worldOptions{counterBlob: []byte("not a kms ciphertext")}, stateboot.ErrCredentials},
		{"counter with the parent's role", worldOptions{mode: stateboot.CounterInstanceRole}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.o)
			_, _, err := w.boot(w.pcrs)
			if err == nil {
				t.Fatal("booted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("boot: %v, want %v", err, tc.want)
			}
			if tc.want == nil && !strings.Contains(err.Error(), "AccessDenied") {
				t.Fatalf("boot: %v, want the counter's AccessDenied", err)
			}
		})
	}
}

// BenchmarkRestart measures one production-shaped boot on an existing log
// of 100 identities: recipient key, credentials from the parent, sealed
// counter credentials and the data key through KMS (TLS through the relay
// each), counter read, log replay.
func BenchmarkRestart(b *testing.B) {
	w := newWorld(b, worldOptions{snapshotEvery: "0"})
	j, _, err := w.boot(w.pcrs)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if err := j.Append(context.Background(), entry(i)); err != nil {
			b.Fatal(err)
		}
	}
	j.Close()
	b.ResetTimer()
	for b.Loop() {
		j, got, err := w.boot(w.pcrs)
		if err != nil || len(got) != 100 {
			b.Fatalf("%d, %v", len(got), err)
		}
		j.Close()
	}
}
