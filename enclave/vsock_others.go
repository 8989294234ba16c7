//go:build !linux

package enclave

import (
	"context"
	"errors"
	"net"
)

// errNoVsock reports vsock on a system without AF_VSOCK.
var errNoVsock = errors.New("enclave: vsock is only available on linux")

func listenVsock(uint32) (net.Listener, error) {
	return nil, &net.OpError{Op: "listen", Net: "vsock", Err: errNoVsock}
}

func dialVsock(context.Context, uint32, uint32) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: "vsock", Err: errNoVsock}
}
