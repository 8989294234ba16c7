package eif

import (
	"bytes"
	"errors"
	"testing"

	"github.com/facesign/facesign/eif/internal/cpio"
)

func TestAppRamdiskLayout(t *testing.T) {
	bin := []byte("\x7fELF static binary")
	out, err := (&AppRamdisk{Binary: bin, Args: []string{"serve", "--port=5000"}, Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "GOMAXPROCS=2"}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := cpio.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		name string
		mode uint32
		data string
	}
	want := []ent{
		{"cmd", cpio.TypeReg | 0o644, "/usr/local/bin/facesign-enclave\nserve\n--port=5000\n"},
		{"env", cpio.TypeReg | 0o644, "PATH=/usr/local/bin:/usr/bin:/bin\nGOMAXPROCS=2\n"},
		{"rootfs", cpio.TypeDir | 0o755, ""},
		{"rootfs/dev", cpio.TypeDir | 0o755, ""},
		{"rootfs/proc", cpio.TypeDir | 0o755, ""},
		{"rootfs/run", cpio.TypeDir | 0o755, ""},
		{"rootfs/sys", cpio.TypeDir | 0o755, ""},
		{"rootfs/tmp", cpio.TypeDir | 0o755, ""},
		{"rootfs/usr", cpio.TypeDir | 0o755, ""},
		{"rootfs/usr/local", cpio.TypeDir | 0o755, ""},
		{"rootfs/usr/local/bin", cpio.TypeDir | 0o755, ""},
		{"rootfs/usr/local/bin/facesign-enclave", cpio.TypeReg | 0o755, string(bin)},
		{"rootfs/var", cpio.TypeDir | 0o755, ""},
	}
	if len(ms) != len(want) {
		for _, m := range ms {
			t.Log(m.Name)
		}
		t.Fatalf("%d entries, want %d", len(ms), len(want))
	}
	for i, w := range want {
		m := ms[i]
		if m.Name != w.name || m.Mode != w.mode || string(m.Data) != w.data || m.Header.UID != 0 || m.Header.GID != 0 || m.Header.Mtime != 0 {
			t.Errorf("entry %d: %q %o %q uid %d mtime %d; want %q %o %q", i, m.Name, m.Mode, m.Data, m.Header.UID, m.Header.Mtime, w.name, w.mode, w.data)
		}
	}
}

func TestAppRamdiskRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    AppRamdisk
	}{
		{"no binary", AppRamdisk{}},
		{"relative path", AppRamdisk{Binary: []byte("x"), Path: "bin/x"}},
		{"unclean path", AppRamdisk{Binary: []byte("x"), Path: "/bin/../x"}},
		{"root path", AppRamdisk{Binary: []byte("x"), Path: "/"}},
		{"under /proc", AppRamdisk{Binary: []byte("x"), Path: "/proc/x"}},
		{"under /tmp", AppRamdisk{Binary: []byte("x"), Path: "/tmp/x"}},
		{"is /var", AppRamdisk{Binary: []byte("x"), Path: "/var"}},
		{"newline in arg", AppRamdisk{Binary: []byte("x"), Args: []string{"a\nb"}}},
		{"env without =", AppRamdisk{Binary: []byte("x"), Env: []string{"FOO"}}},
		{"env empty key", AppRamdisk{Binary: []byte("x"), Env: []string{"=1"}}},
		{"NUL in env", AppRamdisk{Binary: []byte("x"), Env: []string{"A=\x00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.a.Build()
			if out != nil || !errors.Is(err, ErrInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := (&AppRamdisk{Binary: []byte("x"), Path: "/var/lib/app"}).Build(); err != nil {
		t.Fatalf("binary under /var: %v", err)
	}
}

func TestBootRamdisk(t *testing.T) {
	out, err := BootRamdisk([]byte("init"), []byte("nsm"), 5)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := cpio.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
		if m.Header.Mtime != 5 || m.Mode&0o777 != 0o755 {
			t.Errorf("%s: mtime %d mode %o", m.Name, m.Header.Mtime, m.Mode)
		}
	}
	if got := bytes.Join(func() [][]byte {
		var b [][]byte
		for _, n := range names {
			b = append(b, []byte(n))
		}
		return b
	}(), []byte(",")); string(got) != "dev,init,nsm.ko" {
		t.Fatalf("entries %s", got)
	}
	if _, err := BootRamdisk(nil, nil, 0); !errors.Is(err, ErrInput) {
		t.Fatalf("no init: %v", err)
	}
	if out, _ := BootRamdisk([]byte("init"), nil, 0); out == nil {
		t.Fatal("nsm.ko is optional")
	}
}
