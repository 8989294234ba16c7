package simulator

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
)

func TestLoadOrCreateCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := LoadOrCreateCA(dir, rand.Reader, epoch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateCA(dir, rand.Reader, epoch.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Root().Equal(b.Root()) {
		t.Fatal("a restart made a new root")
	}
	st, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	// A module booted on the reloaded CA signs documents the old root verifies.
	c := &clock{t: epoch}
	n, err := NewNSM(NSMOptions{CA: b, PCRs: bootPCRs, Clock: c.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := n.Attest(attest.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{a.Root()}, CurrentTime: c.Now()}); err != nil {
		t.Fatal(err)
	}
	if r := a.Root(); r.NotAfter.Sub(r.NotBefore) != RootLifetime || !r.IsCA {
		t.Fatalf("root lifetime %v", r.NotAfter.Sub(r.NotBefore))
	}
}

func TestLoadCARejects(t *testing.T) {
	good := t.TempDir()
	if _, err := LoadOrCreateCA(good, rand.Reader, epoch); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := LoadOrCreateCA(other, rand.Reader, epoch); err != nil {
		t.Fatal(err)
	}
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name      string
		cert, key []byte // nil: file absent
		want      error
	}{
		{"key missing", read(good, CARootFile), nil, fs.ErrNotExist},
		// A key without its root is an interrupted creation, made afresh:
		// TestInterruptedCACreation.
		{"mismatched key", read(good, CARootFile), read(other, CAKeyFile), ErrCA},
		{"garbage cert", []byte("not pem"), read(good, CAKeyFile), ErrCA},
		{"key in cert file", read(good, CAKeyFile), read(good, CAKeyFile), ErrCA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.cert != nil {
				os.WriteFile(filepath.Join(dir, CARootFile), tc.cert, 0o644)
			}
			if tc.key != nil {
				os.WriteFile(filepath.Join(dir, CAKeyFile), tc.key, 0o600)
			}
			ca, err := LoadOrCreateCA(dir, rand.Reader, epoch)
			if ca != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", ca != nil, err, tc.want)
			}
			// Nothing was replaced or created.
			if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); tc.key == nil && err == nil {
				t.Fatal("a half-present CA was completed")
			}
		})
	}
	if _, err := NewCA(rand.Reader, time.Time{}); !errors.Is(err, ErrCA) {
		t.Fatalf("zero time: %v", err)
	}
	if _, err := NewCA(nil, epoch); !errors.Is(err, ErrCA) {
		t.Fatalf("nil rand: %v", err)
	}
}

// TestInterruptedCACreation: a process killed after writing a CA's key and
// before its root (the root is written last, and only the root is handed
// out) leaves a key alone; the next start makes the CA afresh instead of
// failing. A root without its key stays an error: the root may be in use.
func TestInterruptedCACreation(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		root, key string
		load      func(dir string) error
	}{
		{"attestation CA", CARootFile, CAKeyFile, func(dir string) error { _, err := LoadOrCreateCA(dir, rand.Reader, now); return err }},
		{"service CA", ServiceCARootFile, ServiceCAKeyFile, func(dir string) error { _, err := LoadOrCreateServiceCA(dir, rand.Reader, now); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := c.load(dir); err != nil {
				t.Fatal(err)
			}
			// The crash: the root never reached the disk.
			if err := os.Remove(filepath.Join(dir, c.root)); err != nil {
				t.Fatal(err)
			}
			if err := c.load(dir); err != nil {
				t.Fatalf("after an interrupted creation: %v", err)
			}
			for _, f := range []string{c.root, c.key} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
			if err := c.load(dir); err != nil { // and it loads as it is from now on
				t.Fatal(err)
			}
			// A root whose key is gone is not recreated.
			if err := os.Remove(filepath.Join(dir, c.key)); err != nil {
				t.Fatal(err)
			}
			if err := c.load(dir); err == nil {
				t.Fatal("a root without its key was accepted")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Fatalf("temporary file left: %s", e.Name())
				}
			}
		})
	}
}
