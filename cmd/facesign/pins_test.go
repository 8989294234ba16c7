package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/simulator"
)

func TestParsePCRPins(t *testing.T) {
	h := func(b byte, n int) string { return hex.EncodeToString(bytes.Repeat([]byte{b}, n)) }
	a0 := h(0xa0, 48)
	tests := []struct {
		name  string
		specs []string
		want  map[int][]byte // nil: an error
		err   string         // what the error says, after the flag
	}{
		{"none", nil, map[int][]byte{}, ""},
		{"one", []string{"0=" + a0}, map[int][]byte{0: bytes.Repeat([]byte{0xa0}, 48)}, ""},
		{"several", []string{"0=" + a0, "31=" + h(0x31, 48), "8=" + strings.ToUpper(h(0xbc, 48))},
			map[int][]byte{0: bytes.Repeat([]byte{0xa0}, 48), 31: bytes.Repeat([]byte{0x31}, 48), 8: bytes.Repeat([]byte{0xbc}, 48)}, ""},
		{"0x prefix", []string{"2=0x" + a0}, map[int][]byte{2: bytes.Repeat([]byte{0xa0}, 48)}, ""},
		{"no =", []string{"0"}, nil, `"0": want N=HEX with N in 0..31 and HEX 48 bytes (SHA-384)`},
		{"no index", []string{"=" + a0}, nil, "want N=HEX"},
		{"word index", []string{"pcr0=" + a0}, nil, "want N=HEX"},
		{"signed index", []string{"+1=" + a0}, nil, "want N=HEX"},
		{"leading zero", []string{"01=" + a0}, nil, "want N=HEX"},
		{"negative", []string{"-1=" + a0}, nil, "PCR index -1 out of range 0..31"},
		{"index 32", []string{"32=" + a0}, nil, "PCR index 32 out of range 0..31"},
		{"huge index", []string{"99999999999999999999=" + a0}, nil, "want N=HEX"},
		{"not hex", []string{"0=zz"}, nil, `"0=zz": PCR0 is not hex`},
		{"odd hex", []string{"1=" + a0[:95]}, nil, "PCR1 is not hex"},
		{"short", []string{"0=a0a0"}, nil, `"0=a0a0": PCR0 is 2 bytes, want 48 (96 hex digits of SHA-384)`},
		{"SHA-256 size", []string{"0=" + h(0xa0, 32)}, nil, "PCR0 is 32 bytes, want 48"},
		{"SHA-512 size", []string{"0=" + h(0xa0, 64)}, nil, "PCR0 is 64 bytes, want 48"},
		{"empty value", []string{"4="}, nil, "PCR4 is 0 bytes, want 48"},
		{"twice", []string{"1=" + a0, "1=" + h(0xa1, 48)}, nil, "PCR1 given twice"},
		{"twice, same value", []string{"1=" + a0, "1=" + a0}, nil, "PCR1 given twice"},
		{"good then bad", []string{"0=" + a0, "1=a1"}, nil, "PCR1 is 1 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePCRPins("--pcr", tc.specs)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %x", got)
				}
				if got != nil {
					t.Fatalf("a result with the error: %x", got)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "--pcr ") || !strings.Contains(msg, tc.err) {
					t.Fatalf("error %q: want it to start with the flag and say %q", msg, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != len(tc.want) {
				t.Fatalf("got %x, want %x", got, tc.want)
			}
			for i, v := range tc.want {
				if !bytes.Equal(got[i], v) {
					t.Fatalf("PCR%d = %x, want %x", i, got[i], v)
				}
			}
		})
	}
}

func TestReadRootPEMs(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	epoch := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var roots [][]byte
	for range 2 {
		ca, err := simulator.NewCA(rand.Reader, epoch)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, ca.RootPEM())
	}
	files := map[string][]byte{
		"one.pem":       roots[0],
		"two.pem":       append(append([]byte("a comment\n"), roots[0]...), roots[1]...),
		"key.pem":       []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		"mixed.pem":     append([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), roots[1]...),
		"badcert.pem":   []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"empty.pem":     nil,
		"notapem.pem":   []byte("hello"),
		"truncated.pem": roots[0][:len(roots[0])/2],
	}
	for n, b := range files {
		if err := os.WriteFile(p(n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		files []string
		n     int    // certificates read
		err   string // what the error says (all of it from the start when it starts with the flag); "" for none
	}{
		{"none", nil, 0, ""},
		{"one", []string{"one.pem"}, 1, ""},
		{"two in a file", []string{"two.pem"}, 2, ""},
		{"two files", []string{"one.pem", "mixed.pem"}, 2, ""},
		{"no certificate", []string{"key.pem"}, 0, "--root " + p("key.pem") + ": no PEM certificate"},
		{"empty", []string{"one.pem", "empty.pem"}, 0, "--root " + p("empty.pem") + ": no PEM certificate"},
		{"not PEM", []string{"notapem.pem"}, 0, "no PEM certificate"},
		{"truncated", []string{"truncated.pem"}, 0, "no PEM certificate"},
		{"bad certificate", []string{"badcert.pem"}, 0, "--root " + p("badcert.pem") + ": x509: "},
		{"missing", []string{"missing.pem"}, 0, "--root: open " + p("missing.pem")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				files = append(files, p(f))
			}
			got, err := readRootPEMs("--root", files)
			if tc.err != "" {
				if err == nil || got != nil || !strings.Contains(err.Error(), tc.err) || strings.HasPrefix(tc.err, "--") && !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("got %d roots, %v; want an error saying %q", len(got), err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.n {
				t.Fatalf("got %d roots, %v; want %d", len(got), err, tc.n)
			}
		})
	}
	if _, err := readRootPEMs("--root", []string{p("missing.pem")}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestHexFlagN(t *testing.T) {
	tests := []struct {
		in   string
		want string // hex of the result, or the error
	}{
		{strings.Repeat("ab", 32), strings.Repeat("ab", 32)},
		{"0x" + strings.Repeat("AB", 32), strings.Repeat("ab", 32)},
		{strings.Repeat("ab", 31), "--policy-hash: 31 bytes, want 32 (64 hex digits)"},
		{strings.Repeat("ab", 33), "--policy-hash: 33 bytes, want 32 (64 hex digits)"},
		{"", "--policy-hash: 0 bytes, want 32"},
		{strings.Repeat("zz", 32), "--policy-hash: not hex"},
		{"0x0x" + strings.Repeat("ab", 32), "--policy-hash: not hex"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			b, err := hexFlagN("--policy-hash", tc.in, 32)
			if err != nil {
				if b != nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("%x, %v; want %s", b, err, tc.want)
				}
				return
			}
			if got := hex.EncodeToString(b); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseTimeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"2026-11-22T03:04:05Z", time.Date(2026, 11, 22, 3, 4, 5, 0, time.UTC)},
		{"2026-11-22T04:04:05+01:00", time.Date(2026, 11, 22, 3, 4, 5, 0, time.UTC)},
		{"2026-11-22T03:04:05.25Z", time.Date(2026, 11, 22, 3, 4, 5, 250e6, time.UTC)},
		{"1668034800", time.Date(2022, 11, 9, 23, 0, 0, 0, time.UTC)},
		{"0", time.Unix(0, 0)},
		{"yesterday", time.Time{}},
		{"2026-11-22", time.Time{}},
		{"2026-11-22 03:04:05", time.Time{}},
		{"", time.Time{}},
		{"1.5", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTimeFlag("--at", tc.in)
			if tc.want.IsZero() {
				want := fmt.Sprintf("--at %q: want an RFC 3339 time", tc.in)
				if err == nil || !got.IsZero() || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("%v, %v; want an error starting %s", got, err, want)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("%v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if now, err := timeFlagOrNow("--at", ""); err != nil || now.IsZero() || now.Location() != time.UTC {
		t.Fatalf("empty --at: %v, %v; want the clock's UTC time", now, err)
	}
	if _, err := timeFlagOrNow("--at", "soon"); err == nil {
		t.Fatal("timeFlagOrNow accepted a bad time")
	}
}

// FuzzParsePCRPins: any accepted pin is an index 0..31 with 48 bytes, and
// writing it back as N=HEX parses to the same pin.
func FuzzParsePCRPins(f *testing.F) {
	a0 := strings.Repeat("a0", 48)
	for _, s := range []string{"0=" + a0, "31=0x" + a0, "32=" + a0, "01=" + a0, "0", "=", "0=zz", "-1=" + a0, "1=" + a0[:94]} {
		f.Add(s, "8="+a0)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		pins, err := parsePCRPins("--pcr", []string{a, b})
		if err != nil {
			if pins != nil || !strings.HasPrefix(err.Error(), "--pcr ") {
				t.Fatalf("%x, %v", pins, err)
			}
			return
		}
		if len(pins) != 2 {
			t.Fatalf("two specs, %d pins", len(pins))
		}
		var again []string
		for i, v := range pins {
			if i < 0 || i > 31 || len(v) != 48 {
				t.Fatalf("accepted PCR%d = %x", i, v)
			}
			again = append(again, fmt.Sprintf("%d=%x", i, v))
		}
		round, err := parsePCRPins("--pcr", again)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range pins {
			if !bytes.Equal(round[i], v) {
				t.Fatalf("PCR%d: %x, then %x", i, v, round[i])
			}
		}
	})
}
