package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the facesign command line in-process.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := root()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("facesign %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// buildEIF runs the make-eif pipeline through the CLI in dir and returns the
// image's SHA-256.
func buildEIF(t *testing.T, dir string, extra ...string) (string, string) {
	t.Helper()
	files := map[string]string{"enclave": "\x7fELF enclave", "init": "init", "nsm.ko": "nsm", "bzImage": "kernel",
		"config": "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.170 Kernel Configuration\n"}
	for n, d := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	mustCLI(t, "eif", "bootramdisk", "--init", p("init"), "--nsm", p("nsm.ko"), "-o", p("boot.cpio"))
	mustCLI(t, "eif", "ramdisk", "--binary", p("enclave"), "--env", "PATH=/usr/local/bin", "-o", p("app.cpio"))
	args := append([]string{"eif", "build", "--kernel", p("bzImage"), "--kernel-config", p("config"),
		"--cmdline", "console=ttyS0", "--ramdisk", p("boot.cpio"), "--ramdisk", p("app.cpio"),
		"--name", "facesign-enclave", "--version", "1", "--build-time", "1700000000", "-o", p("out.eif")}, extra...)
	pcrs := mustCLI(t, args...)
	b, err := os.ReadFile(p("out.eif"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), pcrs
}

func TestEIFCommands(t *testing.T) {
	sumA, pcrsA := buildEIF(t, t.TempDir())
	dirB := t.TempDir()
	sumB, pcrsB := buildEIF(t, dirB)
	if sumA != sumB || pcrsA != pcrsB {
		t.Fatalf("builds in two directories differ: %s %s", sumA, sumB)
	}
	img := filepath.Join(dirB, "out.eif")

	if got := mustCLI(t, "eif", "pcrs", img); got != pcrsA || !strings.HasPrefix(got, "PCR0 ") || strings.Count(got, "\n") != 3 {
		t.Fatalf("pcrs:\n%s\nbuild printed:\n%s", got, pcrsA)
	}
	var desc struct {
		EifVersion   int
		Measurements map[string]string
		IsSigned     bool
		CheckCRC     bool
		ImageName    string
		Metadata     map[string]any
	}
	out := mustCLI(t, "eif", "describe", img)
	if err := json.Unmarshal([]byte(out), &desc); err != nil {
		t.Fatal(err)
	}
	if desc.EifVersion != 4 || desc.IsSigned || !desc.CheckCRC || desc.ImageName != "facesign-enclave" ||
		desc.Measurements["HashAlgorithm"] != "Sha384 { ... }" || desc.Metadata["KernelVersion"] != "6.1.170" ||
		desc.Metadata["BuildTime"] != "2023-11-14T22:13:20+00:00" {
		t.Fatalf("describe:\n%s", out)
	}
	pcr := func(i string) string { return desc.Measurements["PCR"+i] }
	if got := mustCLI(t, "eif", "verify", img, "--pcr0", pcr("0"), "--pcr1", pcr("1"), "--pcr2", pcr("2")); got != "OK\n" {
		t.Fatalf("verify: %q", got)
	}
	var ee *exitError
	if _, err := runCLI(t, "eif", "verify", img, "--pcr2", pcr("0")); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("verify with a wrong pin: %v", err)
	}
	if _, err := runCLI(t, "eif", "verify", img, "--pcr8", pcr("0")); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("verify PCR8 of an unsigned image: %v", err)
	}

	// Signing adds PCR8 and keeps PCR0..2.
	_, signed := buildEIF(t, t.TempDir(), "--sign-cert", "../../eif/testdata/sign-cert.pem", "--sign-key", "../../eif/testdata/sign-key.pem")
	if !strings.HasPrefix(signed, pcrsA) || !strings.Contains(signed, "PCR8 ") {
		t.Fatalf("signed build printed:\n%s", signed)
	}
}

func TestEIFCommandErrors(t *testing.T) {
	dir := t.TempDir()
	nul := filepath.Join(dir, "cmdline")
	os.WriteFile(nul, []byte("a\x00b"), 0o644)
	os.WriteFile(filepath.Join(dir, "k"), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(dir, "junk.eif"), []byte(".eif but not really"), 0o644)
	out := filepath.Join(dir, "out.eif")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"build without kernel", []string{"eif", "build", "--cmdline", "x", "--ramdisk", "k", "-o", out}},
		{"build with NUL cmdline", []string{"eif", "build", "--kernel", filepath.Join(dir, "k"), "--cmdline-file", nul, "--ramdisk", filepath.Join(dir, "k"), "--build-time", "1", "-o", out}},
		{"build with half a signer", []string{"eif", "build", "--kernel", "k", "--cmdline", "x", "--ramdisk", "k", "--sign-cert", "c", "-o", out}},
		{"build with bad time", []string{"eif", "build", "--kernel", filepath.Join(dir, "k"), "--cmdline", "x", "--ramdisk", filepath.Join(dir, "k"), "--build-time", "yesterday", "-o", out}},
		{"describe junk", []string{"eif", "describe", filepath.Join(dir, "junk.eif")}},
		{"describe missing", []string{"eif", "describe", filepath.Join(dir, "nope.eif")}},
		{"ramdisk without binary", []string{"eif", "ramdisk", "-o", out}},
		{"ramdisk with bad env", []string{"eif", "ramdisk", "--binary", filepath.Join(dir, "k"), "--env", "NOEQUALS", "-o", out}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := runCLI(t, tc.args...); err == nil {
				t.Fatal("no error")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("output written on error")
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".out.eif.tmp*"))
			if len(leftovers) != 0 {
				t.Fatalf("temporary files left: %v", leftovers)
			}
		})
	}
}
