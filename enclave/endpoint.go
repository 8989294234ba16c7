package enclave

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/facesign/facesign/internal/endpoint"
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
	e, err := endpoint.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrBadEndpoint, err)
	}
	return Endpoint(e), nil
}

func (e Endpoint) String() string { return endpoint.Endpoint(e).String() }

// Listen opens a listener on e (for vsock, on port e.Port of this VM). A
// unix socket file left by a killed predecessor is reclaimed; a path
// another process listens on, or one that is not a socket, is refused and
// left as it is (see [endpoint.ListenUnix]).
func (e Endpoint) Listen() (net.Listener, error) {
	switch e.Network {
	case "unix":
		return endpoint.ListenUnix(e.Address)
	case "tcp":
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
