package enclave

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Endpoint is one side of the enclave ↔ parent link: "unix:/path.sock",
// "tcp:127.0.0.1:5000" or "vsock:CID:PORT". On Nitro the enclave listens on
// vsock port [EnclavePort] and dials the parent at CID [ParentCID] port
// [HostServicesPort]; the simulator uses unix sockets or loopback TCP. The
// transport carries only sealed envelopes and sealed records: it needs no
// confidentiality of its own.
type Endpoint struct {
	Network string // "unix", "tcp" or "vsock"
	Address string // unix and tcp
	CID     uint32 // vsock
	Port    uint32 // vsock
}

// Nitro's conventional vsock addresses.
const (
	ParentCID        = 3    // the parent instance, seen from the enclave
	EnclavePort      = 5000 // the enclave API
	HostServicesPort = 5001 // the parent's host services
)

// ErrBadEndpoint reports an endpoint string [ParseEndpoint] cannot read.
var ErrBadEndpoint = errors.New("enclave: bad endpoint")

// ParseEndpoint reads "unix:PATH", "tcp:HOST:PORT" or "vsock:CID:PORT".
func ParseEndpoint(s string) (Endpoint, error) {
	network, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Endpoint{}, fmt.Errorf("%w %q: want unix:PATH, tcp:HOST:PORT or vsock:CID:PORT", ErrBadEndpoint, s)
	}
	switch network {
	case "unix":
		return Endpoint{Network: network, Address: rest}, nil
	case "tcp":
		if _, _, err := net.SplitHostPort(rest); err != nil {
			return Endpoint{}, fmt.Errorf("%w %q: %v", ErrBadEndpoint, s, err)
		}
		return Endpoint{Network: network, Address: rest}, nil
	case "vsock":
		c, p, ok := strings.Cut(rest, ":")
		cid, err1 := strconv.ParseUint(c, 10, 32)
		port, err2 := strconv.ParseUint(p, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return Endpoint{}, fmt.Errorf("%w %q: want vsock:CID:PORT", ErrBadEndpoint, s)
		}
		return Endpoint{Network: network, CID: uint32(cid), Port: uint32(port)}, nil
	}
	return Endpoint{}, fmt.Errorf("%w %q: unknown network %q", ErrBadEndpoint, s, network)
}

func (e Endpoint) String() string {
	if e.Network == "vsock" {
		return fmt.Sprintf("vsock:%d:%d", e.CID, e.Port)
	}
	return e.Network + ":" + e.Address
}

// Listen opens a listener on e (for vsock, on port e.Port of this VM).
func (e Endpoint) Listen() (net.Listener, error) {
	switch e.Network {
	case "unix", "tcp":
		return net.Listen(e.Network, e.Address)
	case "vsock":
		return listenVsock(e.Port)
	}
	return nil, fmt.Errorf("%w: network %q", ErrBadEndpoint, e.Network)
}

// Dialer returns a [Dialer] for e.
func (e Endpoint) Dialer() Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		switch e.Network {
		case "unix", "tcp":
			var d net.Dialer
			return d.DialContext(ctx, e.Network, e.Address)
		case "vsock":
			return dialVsock(ctx, e.CID, e.Port)
		}
		return nil, fmt.Errorf("%w: network %q", ErrBadEndpoint, e.Network)
	}
}
