//go:build !linux

package parent

import (
	"context"
	"fmt"
	"net"
)

// DialContext returns [ErrVsockUnsupported]: vsock exists only on linux.
func (d VsockDialer) DialContext(context.Context) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: "vsock", Err: fmt.Errorf("%w (cid %d port %d)", ErrVsockUnsupported, d.CID, d.Port)}
}

func listenVsock(port uint32) (net.Listener, error) {
	return nil, &net.OpError{Op: "listen", Net: "vsock", Err: fmt.Errorf("%w (port %d)", ErrVsockUnsupported, port)}
}
