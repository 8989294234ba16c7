package simtest

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/client"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestStartStop runs the real simulator, once in a data directory Launch
// makes and once in the caller's, and checks what each Stop leaves behind.
func TestStartStop(t *testing.T) {
	tests := []struct {
		name    string
		dataDir string // "" lets Launch make one
	}{
		{"own data dir", ""},
		{"caller's data dir", filepath.Join(t.TempDir(), "data")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Options{DataDir: tc.dataDir})
			if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
				t.Fatalf("URL %q", s.URL)
			}
			if s.Root == nil || !s.Root.IsCA {
				t.Fatalf("root %v, want the simulator's CA certificate", s.Root)
			}
			if tc.dataDir != "" && s.DataDir != tc.dataDir {
				t.Fatalf("data dir %s, want %s", s.DataDir, tc.dataDir)
			}
			// The enclave behind the parent attests under the root Launch
			// fetched.
			c, err := client.New(s.URL, client.Options{Roots: []*x509.Certificate{s.Root}, AnyMeasurement: true, Now: time.Now, Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Attest(t.Context()); err != nil {
				t.Fatalf("attest: %v\n%s", err, s.Log.Tail(4000))
			}
			if s.Exited() {
				t.Fatalf("exited while serving:\n%s", s.Log.Tail(4000))
			}
			s.Stop()
			s.Stop() // a second Stop (and the test's cleanup) does nothing
			if !s.Exited() {
				t.Fatal("still running after Stop")
			}
			_, err = os.Stat(s.DataDir)
			if kept := err == nil; kept != (tc.dataDir != "") {
				t.Fatalf("after Stop, data dir %s: %v", s.DataDir, err)
			}
			if s.Log.Len() == 0 {
				t.Fatal("no log kept")
			}
		})
	}
}

func TestLaunchFails(t *testing.T) {
	bin := Build(t)
	tests := []struct {
		name string
		o    Options
		want []string // what the error says
	}{
		{"unknown flag", Options{Binary: bin, Args: []string{"--no-such-flag"}}, []string{"exited before it was ready", "no-such-flag"}},
		{"not ready in time", Options{Binary: bin, ReadyTimeout: time.Nanosecond}, []string{"facesign sim was not ready in 1ns"}},
		{"no such binary", Options{Binary: filepath.Join(t.TempDir(), "facesign")}, []string{"no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Launch(tc.o)
			if err == nil || s != nil {
				s.Stop()
				t.Fatalf("Launch = %v, %v; want an error", s, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
