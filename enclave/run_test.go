package enclave

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

func init() {
	vectors.Register("fake-engine", func() (vectors.Engine, error) { return fakeEngine{dim: 64}, nil })
}

// TestRun boots the enclave the way both binaries do — engine from the
// registry, journal on the parent's host services, API on a unix socket —
// and stops it cleanly when the context ends.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	parentLog := &MemLog{}
	parentDial, _ := fakeParent(t, parentLog)
	// Host services reachable through an Endpoint: proxy a unix socket to the fake parent.
	hostEP := Endpoint{Network: "unix", Address: filepath.Join(dir, "parent.sock")}
	hl, err := hostEP.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer hl.Close()
	go func() {
		for {
			c, err := hl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				p, err := parentDial(context.Background())
				if err != nil {
					return
				}
				defer p.Close()
				go func() { _, _ = copyConn(p, c) }()
				_, _ = copyConn(c, p)
			}()
		}
	}()
	apiEP := Endpoint{Network: "unix", Address: filepath.Join(dir, "enclave.sock")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	clk := &clock{t: testStart}
	go func() {
		done <- Run(ctx, RunConfig{Attester: newSimNSM(t, clk.Now, 7), Listen: apiEP, Parent: hostEP, DataKey: make([]byte, 32), Engine: "fake-engine", Preload: 10, Now: clk.Now})
	}()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return apiEP.Dialer()(ctx) }}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := client.Get("http://enclave" + wire.RouteReadyz)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned before ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := Run(context.Background(), RunConfig{Attester: newSimNSM(t, clk.Now, 8), Listen: apiEP, Parent: hostEP, DataKey: make([]byte, 32), Engine: "no-such-engine", Now: clk.Now}); err == nil {
		t.Fatal("unknown engine accepted")
	}
}

func copyConn(dst, src net.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			if c, ok := dst.(interface{ CloseWrite() error }); ok {
				_ = c.CloseWrite()
			}
			return n, err
		}
	}
}
