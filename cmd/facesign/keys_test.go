package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/facesign/facesign/client/wallet"
)

// runCLIIn runs the command line in-process with stdin.
func runCLIIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := root()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), err
}

const seqEntropy = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestKeysCommand(t *testing.T) {
	out := mustCLI(t, "keys", "--entropy-hex", seqEntropy)
	var got struct {
		Mnemonic        string `json:"mnemonic"`
		FaceSignAddress string `json:"facesign_address"`
		EVMAddress      string `json:"evm_address"`
		X25519PublicKey string `json:"x25519_public_key"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	e, _ := hex.DecodeString(seqEntropy)
	w, err := wallet.FromEntropy(e)
	if err != nil {
		t.Fatal(err)
	}
	pub := w.Public()
	if got.Mnemonic != w.Mnemonic() || got.FaceSignAddress != pub.FaceSignAddress || got.EVMAddress != pub.EVMAddress || got.X25519PublicKey != pub.X25519PublicKey {
		t.Fatalf("keys printed %+v, wallet has %+v", got, pub)
	}
	if strings.Contains(out, "secret") {
		t.Fatalf("keys prints a secret key:\n%s", out)
	}
	// From stdin, the same.
	if in, err := runCLIIn(t, seqEntropy+"\n", "keys", "--entropy-hex", "-"); err != nil || in != out {
		t.Fatalf("stdin: %v\n%s", err, in)
	}
}

func TestSignCommand(t *testing.T) {
	e, _ := hex.DecodeString(seqEntropy)
	w, _ := wallet.FromEntropy(e)
	for _, scheme := range wallet.Schemes() {
		out := strings.TrimSpace(mustCLI(t, "sign", "--entropy-hex", seqEntropy, "--scheme", scheme, "hello FaceSign"))
		sig, err := hex.DecodeString(strings.TrimPrefix(out, "0x"))
		if err != nil {
			t.Fatalf("%s: %q is not hex", scheme, out)
		}
		s, _ := w.Signer(scheme)
		v, _ := wallet.VerifierFor(scheme)
		if err := v.Verify(s.PublicIdentity(), []byte("hello FaceSign"), sig); err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		hexOut := strings.TrimSpace(mustCLI(t, "sign", "--entropy-hex", seqEntropy, "--scheme", scheme, "--hex", hex.EncodeToString([]byte("hello FaceSign"))))
		if hexOut != out {
			t.Fatalf("%s: --hex gives %s, want %s", scheme, hexOut, out)
		}
	}
}

func TestKeysCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no entropy", []string{"keys"}, "--entropy-hex is required"},
		{"not hex", []string{"keys", "--entropy-hex", "zz"}, "not hex"},
		{"short", []string{"keys", "--entropy-hex", "0001"}, "2 bytes, want 32"},
		{"long", []string{"keys", "--entropy-hex", seqEntropy + "00"}, "33 bytes, want 32"},
		{"unknown scheme", []string{"sign", "--entropy-hex", seqEntropy, "--scheme", "rsa", "m"}, "unknown signature scheme"},
		{"no scheme", []string{"sign", "--entropy-hex", seqEntropy, "m"}, "scheme"},
		{"bad hex message", []string{"sign", "--entropy-hex", seqEntropy, "--scheme", "ed25519", "--hex", "xyz"}, "not hex"},
		{"no message", []string{"sign", "--entropy-hex", seqEntropy, "--scheme", "ed25519"}, "arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLIIn(t, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if out != "" {
				t.Fatalf("printed %q on error", out)
			}
		})
	}
}
