package endpoint

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Endpoint
	}{
		{"unix:/tmp/a.sock", Endpoint{Network: "unix", Address: "/tmp/a.sock"}},
		{"tcp:127.0.0.1:5000", Endpoint{Network: "tcp", Address: "127.0.0.1:5000"}},
		{"tcp:[::1]:80", Endpoint{Network: "tcp", Address: "[::1]:80"}},
		{"vsock:3:5001", Endpoint{Network: "vsock", CID: 3, Port: 5001}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v", c.in, got, err)
		}
		if got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
	for _, bad := range []string{"", "unix", "unix:", "tcp:localhost", "vsock:3", "vsock:x:1", "vsock:3:99999999999", "udp:1.2.3.4:5"} {
		if e, err := Parse(bad); !errors.Is(err, ErrBad) || e != (Endpoint{}) {
			t.Errorf("Parse(%q) = %+v, %v", bad, e, err)
		}
	}
}
