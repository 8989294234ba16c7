package simstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/facesign/facesign/internal/endpoint"
)

// The test binary doubles as a stand-in enclave child: with
// FACESIGN_SIMSTACK_CHILD set it parses the sim-enclave command line, writes
// a root, serves /readyz on the enclave socket, and checks it can reach the
// parent's host services. The real enclave is driven by the end-to-end tests
// in package client; this tests the orchestration (readiness, signals, exit).
func TestMain(m *testing.M) {
	if mode := os.Getenv("FACESIGN_SIMSTACK_CHILD"); mode != "" {
		os.Exit(fakeEnclave(mode, os.Args[1:]))
	}
	if dir := os.Getenv("FACESIGN_SIMSTACK_PARENT"); dir != "" {
		os.Exit(parentRole(dir))
	}
	os.Exit(m.Run())
}

func fakeEnclave(mode string, args []string) int {
	if len(args) == 0 || args[0] != "sim-enclave" {
		fmt.Fprintln(os.Stderr, "fake enclave: want sim-enclave, got", args)
		return 3
	}
	fs := flag.NewFlagSet("sim-enclave", flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	parentEP := fs.String("parent", "", "")
	data := fs.String("data", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 3
	}
	if mode == "die" {
		fmt.Fprintln(os.Stderr, "fake enclave: dying on purpose")
		return 7
	}
	if err := os.WriteFile(filepath.Join(*data, RootPEM), []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		return 4
	}
	// The host services must be up before the enclave replays its log.
	hc := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", strings.TrimPrefix(*parentEP, "unix:"))
	}}}
	resp, err := hc.Get("http://parent/internal/v1/log?from=0")
	if err != nil || resp.StatusCode != 200 {
		fmt.Fprintln(os.Stderr, "fake enclave: host services unreachable", err)
		return 5
	}
	resp.Body.Close()
	ln, err := net.Listen("unix", strings.TrimPrefix(*listen, "unix:"))
	if err != nil {
		return 6
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"code":"bad_envelope","message":"fake"}}`)
	}))
	<-sigs
	fmt.Fprintln(os.Stderr, "fake enclave: stopping on SIGTERM")
	return 0
}

// parentRole runs Start with the fake enclave, prints the child's PID and
// waits to be killed: the parent side of TestEnclaveDiesWithParent.
func parentRole(dir string) int {
	exe, err := os.Executable()
	if err != nil {
		return 3
	}
	os.Setenv("FACESIGN_SIMSTACK_CHILD", "ok")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{Addr: "127.0.0.1:0", DataDir: dir, Executable: exe, EnclaveOutput: os.Stderr, ReadyTimeout: time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, "parent role:", err)
		return 4
	}
	fmt.Printf("enclave %d\n", st.EnclavePID())
	time.Sleep(time.Minute) // until SIGKILL
	return 5
}

func start(t *testing.T, mode string) (*Stack, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FACESIGN_SIMSTACK_CHILD", mode)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return Start(ctx, Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "d"), Executable: exe, EnclaveOutput: os.Stderr, ReadyTimeout: time.Minute})
}

func TestStartServeStop(t *testing.T) {
	st, err := start(t, "ok")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st.DataDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir %v %v", fi.Mode(), err)
	}
	resp, err := http.Get(st.URL + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp, err = http.Get(st.URL + "/v1/simulator/root.pem")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("simulator root: %v %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "fake") {
		t.Fatalf("root %q", b)
	}
	// The enclave's stage histograms reach the parent's /metrics.
	resp, err = http.Get(st.URL + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v %v", resp, err)
	}
	b, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "facesign_enclave_stages_up 1") {
		t.Fatalf("the parent could not fetch the enclave's stages:\n%s", b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.Stop(ctx); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	select {
	case <-st.Exited():
	default:
		t.Fatal("the enclave still runs after Stop")
	}
	if _, err := http.Get(st.URL + "/healthz"); err == nil {
		t.Fatal("the public listener still answers after Stop")
	}
}

func TestEnclaveDyingBeforeReadyIsAnError(t *testing.T) {
	_, err := start(t, "die")
	if !errors.Is(err, ErrEnclaveExited) || !strings.Contains(err.Error(), "7") {
		t.Fatalf("got %v", err)
	}
}

func TestEnclaveExitIsReportedNotRestarted(t *testing.T) {
	st, err := start(t, "ok")
	if err != nil {
		t.Fatal(err)
	}
	st.Signal(syscall.SIGKILL)
	select {
	case <-st.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("exit not noticed")
	}
	if err := st.Wait(); !errors.Is(err, ErrEnclaveExited) {
		t.Fatalf("Wait: %v", err)
	}
	resp, err := http.Get(st.URL + "/readyz")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz after the enclave died: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st.Stop(ctx)
}

// TestSecondStackOnOneDataDirIsRefused: a stack whose host-services socket
// is live keeps it; a second Start on the same data directory fails
// instead of taking it over.
func TestSecondStackOnOneDataDirIsRefused(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FACESIGN_SIMSTACK_CHILD", "ok")
	dir, err := os.MkdirTemp("", "ss") // short: sun_path is ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := Options{Addr: "127.0.0.1:0", DataDir: dir, Executable: exe, EnclaveOutput: os.Stderr, ReadyTimeout: time.Minute}
	first, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop(ctx)
	if _, err := Start(ctx, o); !errors.Is(err, endpoint.ErrInUse) {
		t.Fatalf("second Start: %v, want endpoint.ErrInUse", err)
	}
	if resp, err := http.Get(first.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the first stack after the refused second: %v %v", resp, err)
	}
}
