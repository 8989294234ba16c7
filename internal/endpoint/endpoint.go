// Package endpoint reads the one address syntax the enclave and the parent
// share for their link: "unix:PATH", "tcp:HOST:PORT" or "vsock:CID:PORT".
// Each side wraps [Parse] in its own Endpoint type, which adds how it
// listens or dials.
//
// # Unix sockets
//
// [ListenUnix] is how both sides listen on a unix socket: it reclaims a
// socket file a killed process left behind, and only that. A path another
// process still listens on gives [ErrInUse]; a path that is not a socket
// gives [ErrNotSocket]; neither is touched.
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Endpoint is a parsed address.
type Endpoint struct {
	Network string // "unix", "tcp" or "vsock"
	Address string // path (unix) or host:port (tcp)
	CID     uint32 // vsock only
	Port    uint32 // vsock only
}

// ErrBad reports a string [Parse] cannot read.
var ErrBad = errors.New("endpoint: bad address")

// Parse reads "unix:PATH", "tcp:HOST:PORT" or "vsock:CID:PORT".
func Parse(s string) (Endpoint, error) {
	network, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Endpoint{}, fmt.Errorf("%w %q: want unix:PATH, tcp:HOST:PORT or vsock:CID:PORT", ErrBad, s)
	}
	switch network {
	case "unix":
		return Endpoint{Network: network, Address: rest}, nil
	case "tcp":
		if _, _, err := net.SplitHostPort(rest); err != nil {
			return Endpoint{}, fmt.Errorf("%w %q: %v", ErrBad, s, err)
		}
		return Endpoint{Network: network, Address: rest}, nil
	case "vsock":
		c, p, ok := strings.Cut(rest, ":")
		cid, err1 := strconv.ParseUint(c, 10, 32)
		port, err2 := strconv.ParseUint(p, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return Endpoint{}, fmt.Errorf("%w %q: want vsock:CID:PORT", ErrBad, s)
		}
		return Endpoint{Network: network, CID: uint32(cid), Port: uint32(port)}, nil
	}
	return Endpoint{}, fmt.Errorf("%w %q: unknown network %q", ErrBad, s, network)
}

// String formats e the way [Parse] reads it.
func (e Endpoint) String() string {
	if e.Network == "vsock" {
		return fmt.Sprintf("vsock:%d:%d", e.CID, e.Port)
	}
	return e.Network + ":" + e.Address
}
