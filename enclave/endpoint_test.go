package enclave

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/internal/endpoint"
)

func TestParseEndpoint(t *testing.T) {
	good := map[string]Endpoint{
		"unix:/tmp/e.sock":   {Network: "unix", Address: "/tmp/e.sock"},
		"tcp:127.0.0.1:5000": {Network: "tcp", Address: "127.0.0.1:5000"},
		"vsock:3:5001":       {Network: "vsock", CID: 3, Port: 5001},
	}
	for s, want := range good {
		got, err := ParseEndpoint(s)
		if err != nil || got != want || got.String() != s {
			t.Fatalf("%q: %+v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "unix:", "tcp:nohost", "vsock:3", "vsock:x:1", "vsock:3:99999999999", "udp:1.2.3.4:5"} {
		if _, err := ParseEndpoint(s); !errors.Is(err, ErrBadEndpoint) {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func TestEndpointUnixRoundTrip(t *testing.T) {
	e := Endpoint{Network: "unix", Address: filepath.Join(t.TempDir(), "s.sock")}
	l, err := e.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := e.Dialer()(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, 2)
	if _, err := c.Read(b); err != nil || string(b) != "hi" {
		t.Fatalf("%q %v", b, err)
	}
}

// TestEndpointListenReclaimsStaleSocket: a socket file whose listener is
// gone (what SIGKILL leaves) is reclaimed; a live one and a regular file
// are refused and kept.
func TestEndpointListenReclaimsStaleSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "ep") // short: sun_path is ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	e := Endpoint{Network: "unix", Address: filepath.Join(dir, "e.sock")}
	old, err := e.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Listen(); !errors.Is(err, endpoint.ErrInUse) {
		t.Fatalf("second listen while the first is open: %v, want ErrInUse", err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close()
	l, err := e.Listen()
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	l.Close()

	file := Endpoint{Network: "unix", Address: filepath.Join(dir, "data")}
	if err := os.WriteFile(file.Address, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Listen(); !errors.Is(err, endpoint.ErrNotSocket) {
		t.Fatalf("listen on a regular file: %v, want ErrNotSocket", err)
	}
	if b, err := os.ReadFile(file.Address); err != nil || string(b) != "keep" {
		t.Fatal("the regular file was touched")
	}
}
