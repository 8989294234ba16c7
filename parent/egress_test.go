package parent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/parent"
	"github.com/prometheus/client_golang/prometheus"
)

// startEgress runs a relay to upstream on a unix socket and returns its
// path and the registry holding its metrics.
func startEgress(t *testing.T, cfg parent.EgressConfig) (string, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	e, err := parent.NewEgress(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "fs-egress-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "egress.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		os.RemoveAll(dir)
	})
	return sock, reg
}

// echoUpstream answers every connection by echoing it, upper-cased, and
// closing its side when the client half-closes.
func echoUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				c.Write(bytes.ToUpper(b))
			}()
		}
	}()
	return ln.Addr().String()
}

func dialUnix(t *testing.T, sock string) *net.UnixConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}

func TestEgressRelaysAndHalfCloses(t *testing.T) {
	sock, reg := startEgress(t, parent.EgressConfig{Upstream: echoUpstream(t)})
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	for i := range payload { // keep it lower-case ASCII so upper-casing changes it
		payload[i] = 'a' + payload[i]%26
	}
	c := dialUnix(t, sock)
	go func() {
		c.Write(payload)
		c.CloseWrite() // the upstream answers only after it sees EOF
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.ToUpper(payload)) {
		t.Fatalf("relayed %d bytes back, want the %d upper-cased", len(got), len(payload))
	}
	c.Close()
	waitFor(t, func() bool {
		return gaugeValue(t, reg, "facesign_parent_egress_connections_active") == 0
	})
	if n := counterValue(t, reg, "facesign_parent_egress_bytes_total", "direction", "out"); n != float64(len(payload)) {
		t.Fatalf("bytes out = %v, want %d", n, len(payload))
	}
}

// TestEgressTLSEndToEnd: an HTTPS request through the relay works with TLS
// ending at the upstream, and the parent's side of the relay carries no
// plaintext of the request or the response.
func TestEgressTLSEndToEnd(t *testing.T) {
	const secretReq, secretRes = "sealed-credential-request-xyzzy", "wrapped-key-material-plugh"
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != secretReq {
			http.Error(w, "wrong body", 400)
			return
		}
		io.WriteString(w, secretRes)
	}))
	defer up.Close()
	var tap bytes.Buffer
	var mu sync.Mutex
	sock, _ := startEgress(t, parent.EgressConfig{
		Upstream: up.Listener.Addr().String(),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &tapConn{Conn: c, mu: &mu, w: &tap}, nil
		},
	})
	pool := x509.NewCertPool()
	pool.AddCert(up.Certificate())
	client := &http.Client{Transport: &http.Transport{
		DialContext:     func(ctx context.Context, _, _ string) (net.Conn, error) { return net.Dial("unix", sock) },
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"},
	}}
	res, err := client.Post("https://example.com/", "text/plain", strings.NewReader(secretReq))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != secretRes {
		t.Fatalf("through the relay: %s %q", res.Status, b)
	}
	mu.Lock()
	seen := tap.String()
	mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("the tap saw nothing: the test is not looking at the relay")
	}
	for _, s := range []string{secretReq, secretRes, "POST", "HTTP/1.1"} {
		if strings.Contains(seen, s) {
			t.Fatalf("the relay carried %q in the clear", s)
		}
	}
}

// tapConn records every byte read from and written to the upstream.
type tapConn struct {
	net.Conn
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.w.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.w.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *tapConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

func TestEgressConnectionBound(t *testing.T) {
	// An upstream that holds connections open until the test ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	sock, reg := startEgress(t, parent.EgressConfig{Upstream: ln.Addr().String(), MaxConns: 2})
	a, b := dialUnix(t, sock), dialUnix(t, sock)
	for _, c := range []net.Conn{a, b} { // both relayed: an echo comes back
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo through the relay: %q, %v", buf, err)
		}
	}
	third := dialUnix(t, sock)
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a connection over the bound: %v, want it closed", err)
	}
	if n := counterValue(t, reg, "facesign_parent_egress_connections_total", "result", "rejected"); n != 1 {
		t.Fatalf("rejected = %v", n)
	}
	a.Close()
	waitFor(t, func() bool {
		return gaugeValue(t, reg, "facesign_parent_egress_connections_active") == 1
	})
	d := dialUnix(t, sock)
	d.Write([]byte("pong"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(d, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("after a slot freed: %q, %v", buf, err)
	}
}

func TestEgressIdleTimeout(t *testing.T) {
	// The upstream streams a byte every 100 ms for a while and then goes
	// quiet; the client never sends anything. The connection must live as
	// long as bytes flow one way, and close once both ways are idle.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for range 25 {
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Minute)
	}()
	sock, _ := startEgress(t, parent.EgressConfig{Upstream: ln.Addr().String(), IdleTimeout: time.Second})
	c := dialUnix(t, sock)
	got, err := io.ReadAll(c) // ends when the relay closes the idle connection
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat("x", 25) {
		t.Fatalf("got %q before the idle close, want all 25 bytes", got)
	}
}

func TestEgressDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	sock, reg := startEgress(t, parent.EgressConfig{Upstream: addr})
	c := dialUnix(t, sock)
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read through a relay with no upstream succeeded")
	}
	waitFor(t, func() bool {
		return counterValue(t, reg, "facesign_parent_egress_connections_total", "result", "dial_error") == 1
	})
}

func TestEgressConfig(t *testing.T) {
	for _, cfg := range []parent.EgressConfig{
		{Upstream: "kms.example:443"},
		{Name: "kms"},
		{Name: "kms", Upstream: "kms.example"},
		{Name: "kms", Upstream: ":443"},
	} {
		if _, err := parent.NewEgress(cfg); !errors.Is(err, parent.ErrConfig) {
			t.Errorf("NewEgress(%+v): %v, want ErrConfig", cfg, err)
		}
	}
	reg := prometheus.NewRegistry()
	for _, name := range []string{"kms", "dynamodb"} { // two relays, one registry
		if _, err := parent.NewEgress(parent.EgressConfig{Name: name, Upstream: name + ".example:443", Registry: reg}); err != nil {
			t.Fatalf("relay %s: %v", name, err)
		}
	}
	for _, tc := range []struct {
		in, listen, up string
		ok             bool
	}{
		{"vsock:3:8000=kms.eu-west-1.amazonaws.com:443", "vsock:3:8000", "kms.eu-west-1.amazonaws.com:443", true},
		{"unix:/run/ddb.sock=dynamodb.eu-west-1.amazonaws.com:443", "unix:/run/ddb.sock", "dynamodb.eu-west-1.amazonaws.com:443", true},
		{"vsock:3:8000", "", "", false},
		{"vsock:3:8000=kms", "", "", false},
		{"vsock:3:8000=:443", "", "", false},
		{"ftp:x=kms:443", "", "", false},
	} {
		ep, up, err := parent.ParseEgress(tc.in)
		if tc.ok != (err == nil) || (tc.ok && (ep.String() != tc.listen || up != tc.up)) {
			t.Errorf("ParseEgress(%q) = %v, %q, %v", tc.in, ep, up, err)
		}
		if !tc.ok && !errors.Is(err, parent.ErrBadAddress) {
			t.Errorf("ParseEgress(%q): %v, want ErrBadAddress", tc.in, err)
		}
	}
}

// waitFor polls cond until it holds (a relay finishes its bookkeeping just
// after the client sees the connection end).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition never held")
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
