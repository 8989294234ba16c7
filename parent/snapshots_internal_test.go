package parent

import (
	"testing"
)

// FuzzSnapshotName: a name is accepted only in its one canonical form, so
// two files can never stand for one seq.
func FuzzSnapshotName(f *testing.F) {
	for _, s := range []string{"00000000000000000001.snap", "00000000000000000000.snap", "18446744073709551615.snap",
		"18446744073709551616.snap", "1.snap", "0000000000000000001a.snap", "+0000000000000000001.snap", ".tmp-snap-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		seq, ok := parseSnapshotName(name)
		if !ok {
			return
		}
		if seq == 0 || snapshotName(seq) != name {
			t.Fatalf("%q parsed as %d, which is named %q", name, seq, snapshotName(seq))
		}
	})
}

// FuzzS3LogKey: the same for the S3 store's record keys.
func FuzzS3LogKey(f *testing.F) {
	s := &S3Store{prefix: "p/"}
	for _, k := range []string{"p/log/00000000000000000007.rec", "p/log/18446744073709551615.rec", "p/log/18446744073709551616.rec",
		"p/log/99999999999999999999.rec", "p/log/7.rec", "log/00000000000000000007.rec", "p/log/0000000000000000000-.rec"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		seq, ok := s.parseLogKey(key)
		if ok && s.logKey(seq) != key {
			t.Fatalf("%q parsed as %d, whose key is %q", key, seq, s.logKey(seq))
		}
	})
}

// FuzzParseEgress: an accepted spec formats back to itself.
func FuzzParseEgress(f *testing.F) {
	for _, s := range []string{"vsock:3:8000=kms.eu-west-1.amazonaws.com:443", "unix:/run/x.sock=h:1", "tcp:127.0.0.1:1=[::1]:443", "vsock:3:x=h:1", "=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, up, err := ParseEgress(s)
		if err != nil {
			return
		}
		ep2, up2, err := ParseEgress(ep.String() + "=" + up)
		if err != nil || ep2 != ep || up2 != up {
			t.Fatalf("%q → %v=%s does not parse back: %v=%s, %v", s, ep, up, ep2, up2, err)
		}
	})
}
