package eif_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/facesign/facesign/eif"
)

// buildFromDir runs the whole pipeline on input files placed in dir with
// mtime mtime: ramdisks from the files, then the image, written to dir.
func buildFromDir(t *testing.T, dir string, mtime time.Time) (sum string, m eif.Measurements) {
	t.Helper()
	files := map[string][]byte{
		"facesign-enclave": bytes.Repeat([]byte("\x7fELF static enclave binary "), 4096),
		"init":             []byte("init stand-in"),
		"nsm.ko":           []byte("nsm stand-in"),
		"bzImage":          bytes.Repeat([]byte("kernel "), 8192),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	readFile := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	boot, err := eif.BootRamdisk(readFile("init"), readFile("nsm.ko"), 0)
	if err != nil {
		t.Fatal(err)
	}
	app, err := (&eif.AppRamdisk{Binary: readFile("facesign-enclave"), Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "facesign-enclave.eif"))
	if err != nil {
		t.Fatal(err)
	}
	m, err = eif.Build(out, &eif.Input{
		Kernel: readFile("bzImage"), Cmdline: "console=ttyS0", Ramdisks: [][]byte{boot, app},
		Name: "facesign-enclave", Version: "1", BuildTime: time.Unix(1700000000, 0),
		Signer: loadSigner(t, "sign"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(readFile("facesign-enclave.eif"))
	return hex.EncodeToString(d[:]), m
}

// Two builds in different directories, from files with different mtimes and
// at different times, give the same bytes and the same PCRs.
func TestReproducibleBuild(t *testing.T) {
	sumA, mA := buildFromDir(t, t.TempDir(), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	time.Sleep(1100 * time.Millisecond) // a different wall-clock second for the second build
	sumB, mB := buildFromDir(t, t.TempDir(), time.Date(2031, 7, 7, 7, 7, 7, 0, time.UTC))
	if sumA != sumB || mA != mB {
		t.Fatalf("builds differ: %s %s", sumA, sumB)
	}
	t.Logf("SHA-256 %s PCR0 %s", sumA, mA.PCR0)
}
