package endpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

var (
	// ErrInUse reports a unix socket path another process is listening on
	// (or one whose state [ListenUnix] cannot tell): it is left alone.
	ErrInUse = errors.New("endpoint: socket in use")
	// ErrNotSocket reports a unix socket path taken by something that is
	// not a socket (a regular file, a directory): it is never removed.
	ErrNotSocket = errors.New("endpoint: path exists and is not a socket")
)

// probeTimeout bounds the dial that asks whether a socket file is alive.
const probeTimeout = time.Second

// ListenUnix listens on the unix socket at path. A socket file left there
// by a process that died without closing its listener (SIGKILL, a crash)
// is removed first, but only when all of these hold:
//
//   - binding fails because the path exists;
//   - the path is a socket (never a regular file, a directory or a
//     symbolic link: those give [ErrNotSocket] and stay);
//   - a connection to it is refused (ECONNREFUSED: nobody listens); any
//     other answer, an accepted connection included, gives [ErrInUse];
//   - it is still the same file just before removal.
//
// Two processes racing to reclaim the same stale path can still both pass
// the checks; paths are per process in this project, so that is a
// deployment error, not something to arbitrate here.
func ListenUnix(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, err
	}
	fi, lerr := os.Lstat(path)
	switch {
	case lerr != nil:
		return nil, err // gone or unreadable: report the bind error
	case fi.Mode().Type() != fs.ModeSocket:
		return nil, fmt.Errorf("%w: %s is a %v: %w", ErrNotSocket, path, fi.Mode().Type(), err)
	}
	c, derr := net.DialTimeout("unix", path, probeTimeout)
	if derr == nil {
		c.Close()
		return nil, fmt.Errorf("%w: a process is listening on %s", ErrInUse, path)
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("%w: %s: cannot tell whether it is stale: %w", ErrInUse, path, derr)
	}
	if again, err := os.Lstat(path); err == nil && !os.SameFile(fi, again) {
		return nil, fmt.Errorf("%w: %s changed while it was checked", ErrInUse, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("endpoint: removing the stale socket %s: %w", path, err)
	}
	return net.Listen("unix", path)
}
