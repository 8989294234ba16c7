package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSimDataKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), simDataKeyFile)
	k1, err := simDataKey(path, bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	if err != nil || len(k1) != 32 {
		t.Fatalf("%x %v", k1, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	// A restart reads the same key, whatever the randomness says.
	k2, err := simDataKey(path, bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("key changed across restarts: %v", err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := simDataKey(path, bytes.NewReader(make([]byte, 32))); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
}

func TestSimPCRs(t *testing.T) {
	a, err := simPCRs("", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := simPCRs("", time.Now())
	for _, i := range []int{0, 1, 2} {
		if len(a[i]) != 48 || !bytes.Equal(a[i], b[i]) || bytes.Equal(a[i], make([]byte, 48)) {
			t.Fatalf("PCR%d %x not a deterministic non-zero measurement", i, a[i])
		}
	}
	if _, err := simPCRs(filepath.Join(t.TempDir(), "missing.eif"), time.Now()); err == nil {
		t.Fatal("a missing EIF was accepted")
	}
}
