package parent

import (
	"context"
	"errors"
	"fmt"
	"net"

	addr "github.com/facesign/facesign/internal/endpoint"
)

// A Dialer opens one connection to the enclave's HTTP listener. The parent
// speaks plain HTTP/1.1 over whatever connection it returns; confidentiality
// comes from the sealed envelopes inside, never from the transport.
type Dialer interface {
	DialContext(ctx context.Context) (net.Conn, error)
}

// DialerFunc adapts a function to [Dialer].
type DialerFunc func(ctx context.Context) (net.Conn, error)

// DialContext calls f(ctx).
func (f DialerFunc) DialContext(ctx context.Context) (net.Conn, error) { return f(ctx) }

// UnixDialer dials a unix socket (the simulator's default).
type UnixDialer struct{ Path string }

// TCPDialer dials a TCP address (loopback in the simulator).
type TCPDialer struct{ Addr string }

// VsockDialer dials the enclave over AF_VSOCK: CID is the enclave's context
// ID, Port its listening port (5000 by convention). Only linux has vsock; on
// other systems DialContext returns [ErrVsockUnsupported].
type VsockDialer struct{ CID, Port uint32 }

var (
	_ Dialer = DialerFunc(nil)
	_ Dialer = UnixDialer{}
	_ Dialer = TCPDialer{}
	_ Dialer = VsockDialer{}
)

// DialContext dials d.Path.
func (d UnixDialer) DialContext(ctx context.Context) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, "unix", d.Path)
}

// DialContext dials d.Addr.
func (d TCPDialer) DialContext(ctx context.Context) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", d.Addr)
}

// ErrVsockUnsupported reports a vsock address on a system without AF_VSOCK.
var ErrVsockUnsupported = errors.New("parent: vsock is only available on linux")

// ErrBadAddress reports an endpoint string [ParseEndpoint] cannot read.
var ErrBadAddress = errors.New("parent: bad endpoint address")

// Endpoint names one side of the parent ↔ enclave link in the forms the
// command line accepts: "unix:/path/to.sock", "tcp:127.0.0.1:5000" or
// "vsock:CID:PORT".
type Endpoint struct {
	Network string // "unix", "tcp" or "vsock"
	Address string // path or host:port (unix, tcp)
	CID     uint32 // vsock only
	Port    uint32 // vsock only
}

// ParseEndpoint reads an endpoint string; see [Endpoint].
func ParseEndpoint(s string) (Endpoint, error) {
	e, err := addr.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	return Endpoint(e), nil
}

// String formats e the way [ParseEndpoint] reads it.
func (e Endpoint) String() string { return addr.Endpoint(e).String() }

// Dialer returns a [Dialer] for e.
func (e Endpoint) Dialer() Dialer {
	switch e.Network {
	case "unix":
		return UnixDialer{Path: e.Address}
	case "tcp":
		return TCPDialer{Addr: e.Address}
	case "vsock":
		return VsockDialer{CID: e.CID, Port: e.Port}
	}
	return DialerFunc(func(context.Context) (net.Conn, error) {
		return nil, fmt.Errorf("%w: network %q", ErrBadAddress, e.Network)
	})
}

// Listen opens a listener on e. For vsock, e.CID is ignored (a process can
// only listen on its own context ID). A stale unix socket file left by a
// previous run is removed first.
func (e Endpoint) Listen() (net.Listener, error) {
	switch e.Network {
	case "unix":
		// Reclaims a socket a killed process left, never a live one or
		// anything that is not a socket.
		return addr.ListenUnix(e.Address)
	case "tcp":
		return net.Listen("tcp", e.Address)
	case "vsock":
		return listenVsock(e.Port)
	}
	return nil, fmt.Errorf("%w: network %q", ErrBadAddress, e.Network)
}
