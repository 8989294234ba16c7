package cpio

import (
	"bytes"
	"errors"
	"testing"
)

func TestWriteRead(t *testing.T) {
	entries := []Entry{
		{Name: "b/file", Mode: TypeReg | 0o644, Data: []byte("hello")},
		{Name: "a", Mode: TypeReg | 0o755, Data: []byte("12345678")},
		{Name: "c/d/e", Mode: TypeReg | 0o600, Data: nil},
		{Name: "b", Mode: TypeDir | 0o700},
	}
	out, err := Write(entries, 1234)
	if err != nil {
		t.Fatal(err)
	}
	if len(out)%4 != 0 {
		t.Errorf("archive length %d not 4-aligned", len(out))
	}
	ms, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"a", TypeReg | 0o755, "12345678"},
		{"b", TypeDir | 0o700, ""},
		{"b/file", TypeReg | 0o644, "hello"},
		{"c", TypeDir | 0o755, ""}, // added parent
		{"c/d", TypeDir | 0o755, ""},
		{"c/d/e", TypeReg | 0o600, ""},
	}
	if len(ms) != len(want) {
		t.Fatalf("%d members", len(ms))
	}
	for i, w := range want {
		m := ms[i]
		if m.Name != w.name || m.Mode != w.mode || string(m.Data) != w.data {
			t.Errorf("member %d: %q %o %q, want %q %o %q", i, m.Name, m.Mode, m.Data, w.name, w.mode, w.data)
		}
		nlink := uint32(1)
		if m.IsDir() {
			nlink = 2
		}
		h := m.Header
		if h.Ino != uint32(i+1) || h.UID != 0 || h.GID != 0 || h.Mtime != 1234 || h.Nlink != nlink ||
			h.DevMajor|h.DevMinor|h.RdevMajor|h.RdevMinor|h.Check != 0 {
			t.Errorf("member %d header %+v", i, h)
		}
	}
	// The input order does not matter.
	rev := make([]Entry, len(entries))
	for i, e := range entries {
		rev[len(entries)-1-i] = e
	}
	out2, _ := Write(rev, 1234)
	if !bytes.Equal(out, out2) {
		t.Error("output depends on input order")
	}
	if !bytes.HasSuffix(bytes.TrimRight(out, "\x00"), []byte("TRAILER!!!")) {
		t.Error("no trailer")
	}
}

// A hand-checked encoding of a one-file archive.
func TestExactBytes(t *testing.T) {
	out, err := Write([]Entry{{Name: "x", Mode: TypeReg | 0o644, Data: []byte("hi")}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "070701" + "00000001" + "000081a4" + "00000000" + "00000000" + "00000001" + "00000000" + "00000002" +
		"00000000" + "00000000" + "00000000" + "00000000" + "00000002" + "00000000" + "x\x00" + // 112 bytes: aligned
		"hi\x00\x00" +
		"070701" + "00000000" + "00000000" + "00000000" + "00000000" + "00000001" + "00000000" + "00000000" +
		"00000000" + "00000000" + "00000000" + "00000000" + "0000000b" + "00000000" + "TRAILER!!!\x00" + "\x00\x00\x00" // 116+110+11 = 237, padded to 240
	if string(out) != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
	}{
		{"empty name", []Entry{{Name: "", Mode: TypeReg}}},
		{"absolute", []Entry{{Name: "/a", Mode: TypeReg}}},
		{"dotdot", []Entry{{Name: "../a", Mode: TypeReg}}},
		{"unclean", []Entry{{Name: "a//b", Mode: TypeReg}}},
		{"trailing slash", []Entry{{Name: "a/", Mode: TypeDir}}},
		{"dot", []Entry{{Name: ".", Mode: TypeDir}}},
		{"trailer name", []Entry{{Name: "TRAILER!!!", Mode: TypeReg}}},
		{"NUL", []Entry{{Name: "a\x00b", Mode: TypeReg}}},
		{"duplicate", []Entry{{Name: "a", Mode: TypeReg}, {Name: "a", Mode: TypeReg}}},
		{"symlink", []Entry{{Name: "a", Mode: 0o120777}}},
		{"dir with data", []Entry{{Name: "a", Mode: TypeDir | 0o755, Data: []byte("x")}}},
		{"file as parent", []Entry{{Name: "a", Mode: TypeReg}, {Name: "a/b", Mode: TypeReg}}},
		{"mode bits", []Entry{{Name: "a", Mode: TypeReg | 0o1000000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Write(tc.entries, 0)
			if out != nil || !errors.Is(err, ErrEntry) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	good, _ := Write([]Entry{{Name: "x", Mode: TypeReg | 0o644, Data: []byte("hello")}}, 0)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", good[:100]},
		{"bad magic", append([]byte("070707"), good[6:]...)},
		{"bad hex", append(append(bytes.Clone(good[:6]), 'g'), good[7:]...)},
		{"no trailer", good[:120]},
		{"truncated data", good[:114]},
		{"garbage after trailer", append(bytes.Clone(good), 'x')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ms, err := Read(tc.b); ms != nil || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v %v", ms, err)
			}
		})
	}
	if _, err := Read(append(bytes.Clone(good), 0, 0, 0, 0)); err != nil {
		t.Fatalf("zero padding after trailer: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	good, _ := Write([]Entry{{Name: "d/x", Mode: TypeReg | 0o644, Data: []byte("hello")}}, 7)
	f.Add(good)
	f.Add(good[:50])
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := Read(b)
		if err != nil {
			return
		}
		total := 0
		for _, m := range ms {
			total += len(m.Data) + len(m.Name)
		}
		if total > len(b) {
			t.Fatalf("members hold %d bytes of a %d-byte input", total, len(b))
		}
	})
}
