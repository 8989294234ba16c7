package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestLogStreamRoundTrip(t *testing.T) {
	var b []byte
	want := [][]byte{{1, 2, 3}, {}, bytes.Repeat([]byte{9}, 300)}
	for i, r := range want {
		b = AppendLogFrame(b, uint64(10+i), r)
	}
	var got [][]byte
	err := ReadLogStream(bytes.NewReader(b), func(seq uint64, rec []byte) error {
		if seq != uint64(10+len(got)) {
			t.Fatalf("seq %d", seq)
		}
		got = append(got, rec)
		return nil
	})
	if err != nil || len(got) != 3 || !bytes.Equal(got[2], want[2]) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range [][]byte{b[:5], b[:14], AppendLogFrame(nil, 0, nil)[:11], {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}} {
		if err := ReadLogStream(bytes.NewReader(bad), func(uint64, []byte) error { return nil }); !errors.Is(err, ErrBadLogStream) {
			t.Fatalf("%x: %v", bad, err)
		}
	}
	stop := errors.New("stop")
	if err := ReadLogStream(bytes.NewReader(b), func(uint64, []byte) error { return stop }); err != stop {
		t.Fatal(err)
	}
}

func FuzzReadLogStream(f *testing.F) {
	f.Add(AppendLogFrame(AppendLogFrame(nil, 0, []byte("a")), 1, []byte("bc")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var again []byte
		err := ReadLogStream(bytes.NewReader(b), func(seq uint64, rec []byte) error {
			again = AppendLogFrame(again, seq, rec)
			return nil
		})
		if err == nil && !bytes.Equal(again, b) {
			t.Fatal("parse → append changed bytes")
		}
	})
}
