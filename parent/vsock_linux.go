//go:build linux

package parent

import (
	"context"
	"net"

	"github.com/mdlayher/vsock"
)

// DialContext dials the enclave's vsock port.
func (d VsockDialer) DialContext(ctx context.Context) (net.Conn, error) {
	return vsock.DialContext(ctx, d.CID, d.Port, nil)
}

func listenVsock(port uint32) (net.Listener, error) {
	return vsock.Listen(port, nil)
}
