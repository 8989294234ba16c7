//go:build js && wasm

package js

// These tests run the JavaScript API inside a JavaScript engine (node, via
// Go's go_js_wasm_exec; "make test" runs them): bad arguments reject with a
// FaceSignError with code "bad_argument", and the wallet a page derives is
// the one Go derives.

import (
	"encoding/hex"
	"strings"
	"syscall/js"
	"testing"

	"github.com/facesign/facesign/client/wallet"
)

func init() { Register() }

// await waits for the Promise p and returns its value or its rejection.
func await(p js.Value) (v js.Value, rejected js.Value) {
	type outcome struct{ v, err js.Value }
	done := make(chan outcome, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { done <- outcome{a[0], js.Undefined()}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any { done <- outcome{js.Undefined(), a[0]}; return nil })
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	o := <-done
	return o.v, o.err
}

// call invokes facesign[fn](args...) and awaits it.
func call(fn string, args ...any) (v js.Value, rejected js.Value) {
	return await(js.Global().Get("facesign").Call(fn, args...))
}

func obj(m map[string]any) js.Value { return js.ValueOf(m) }

func TestNewClientBadArguments(t *testing.T) {
	pcr := strings.Repeat("ab", 48)
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"no options", nil, "one options object"},
		{"options not an object", []any{"https://x"}, "one options object"},
		{"no url", []any{obj(map[string]any{"anyMeasurement": true})}, "url is required"},
		{"url not a string", []any{obj(map[string]any{"url": 5, "anyMeasurement": true})}, "url must be a string"},
		{"bad scheme", []any{obj(map[string]any{"url": "ftp://x", "anyMeasurement": true})}, "server URL"},
		{"no pins", []any{obj(map[string]any{"url": "https://x"})}, "no PCR pins"},
		{"pcr index", []any{obj(map[string]any{"url": "https://x", "pcrs": map[string]any{"32": pcr}})}, "not 0..31"},
		{"pcr index form", []any{obj(map[string]any{"url": "https://x", "pcrs": map[string]any{"01": pcr}})}, "not 0..31"},
		{"pcr short", []any{obj(map[string]any{"url": "https://x", "pcrs": map[string]any{"0": "abcd"}})}, "48 bytes"},
		{"pcr not hex", []any{obj(map[string]any{"url": "https://x", "pcrs": map[string]any{"0": strings.Repeat("zz", 48)}})}, "48 bytes"},
		{"pcr not string", []any{obj(map[string]any{"url": "https://x", "pcrs": map[string]any{"0": 1}})}, "48 bytes"},
		{"anyMeasurement type", []any{obj(map[string]any{"url": "https://x", "anyMeasurement": "yes"})}, "boolean"},
		{"roots not array", []any{obj(map[string]any{"url": "https://x", "anyMeasurement": true, "rootsPEM": "pem"})}, "array of PEM"},
		{"root not PEM", []any{obj(map[string]any{"url": "https://x", "anyMeasurement": true, "rootsPEM": []any{"nope"}})}, "rootsPEM[0]"},
		{"policy hash", []any{obj(map[string]any{"url": "https://x", "anyMeasurement": true, "policyHash": "00"})}, "policyHash must be 32 bytes"},
		{"model hash", []any{obj(map[string]any{"url": "https://x", "anyMeasurement": true, "modelSHA256": 7})}, "modelSHA256 must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, thrown := call("newClient", tc.args...)
			if thrown.IsUndefined() {
				t.Fatal("not rejected")
			}
			if n := thrown.Get("name").String(); n != "FaceSignError" {
				t.Errorf("name %q", n)
			}
			if c := thrown.Get("code").String(); c != codeBadArgument {
				t.Errorf("code %q, want %q", c, codeBadArgument)
			}
			if m := thrown.Get("message").String(); !strings.Contains(m, tc.want) {
				t.Errorf("message %q does not say %q", m, tc.want)
			}
		})
	}
}

func TestFaceCallsCheckArgumentsBeforeAnyRequest(t *testing.T) {
	// The URL points nowhere: every case must be refused for its arguments
	// (code bad_argument), before the network is tried (client_error).
	c, thrown := call("newClient", obj(map[string]any{"url": "http://127.0.0.1:9", "anyMeasurement": true}))
	if !thrown.IsUndefined() {
		t.Fatal(thrown.Get("message").String())
	}
	frame := js.Global().Get("Uint8Array").New(3)
	ch := obj(map[string]any{"id": "00112233445566778899aabbccddeeff"})
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"no arguments", nil, "takes (challenge, frames"},
		{"challenge not object", []any{"id", []any{frame}}, "challenge must be"},
		{"challenge without id", []any{obj(map[string]any{}), []any{frame}}, "id is required"},
		{"frames not array", []any{ch, frame}, "non-empty array"},
		{"frames empty", []any{ch, []any{}}, "non-empty array"},
		{"frame not bytes", []any{ch, []any{"jpeg"}}, "frames[0] must be a Uint8Array"},
		{"segments bad", []any{ch, []any{frame}, []any{map[string]any{"action": "turn_left", "from": 2, "to": 1}}}, "from ≤ to"},
		{"unknown challenge", []any{ch, []any{frame}}, "not issued by this client"},
	} {
		for _, m := range []string{"enroll", "login", "remove"} {
			t.Run(tc.name+"/"+m, func(t *testing.T) {
				_, th := await(c.Call(m, tc.args...))
				if th.IsUndefined() {
					t.Fatal("not rejected")
				}
				if got := th.Get("code").String(); got != codeBadArgument {
					t.Errorf("code %q", got)
				}
				if msg := th.Get("message").String(); !strings.Contains(msg, tc.want) {
					t.Errorf("message %q does not say %q", msg, tc.want)
				}
			})
		}
	}
}

func TestWalletMatchesGo(t *testing.T) {
	entropy, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	want, err := wallet.FromEntropy(entropy)
	if err != nil {
		t.Fatal(err)
	}
	p := want.Public()
	u := js.Global().Get("Uint8Array").New(len(entropy))
	js.CopyBytesToJS(u, entropy)
	for _, arg := range []any{u, want.Mnemonic()} {
		w, thrown := call("wallet", arg)
		if !thrown.IsUndefined() {
			t.Fatal(thrown.Get("message").String())
		}
		for k, v := range map[string]string{
			"mnemonic": want.Mnemonic(), "facesignAddress": p.FaceSignAddress, "evmAddress": p.EVMAddress,
			"evmPublicKey": p.EVMPublicKey, "x25519PublicKey": p.X25519PublicKey, "evmPath": p.EVMPath,
		} {
			if got := w.Get(k).String(); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		sv, thrown := await(w.Call("signPersonal", "hello facesign"))
		if !thrown.IsUndefined() {
			t.Fatal(thrown.Get("message").String())
		}
		sig := sv.String()
		raw, err := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
		if err != nil {
			t.Fatal(err)
		}
		addr, err := wallet.RecoverPersonal([]byte("hello facesign"), raw)
		if err != nil || wallet.ChecksumAddress(addr) != p.EVMAddress {
			t.Errorf("signature recovers to %x (%v), want %s", addr, err, p.EVMAddress)
		}
	}
	for _, bad := range []any{"not a mnemonic", js.Global().Get("Uint8Array").New(5), 42} {
		if _, thrown := call("wallet", bad); thrown.IsUndefined() || thrown.Get("code").String() != codeBadArgument {
			t.Errorf("wallet(%v) did not throw bad_argument", bad)
		}
	}
}

func TestCaptureArguments(t *testing.T) {
	c, thrown := call("newClient", obj(map[string]any{"url": "http://127.0.0.1:9", "anyMeasurement": true}))
	if !thrown.IsUndefined() {
		t.Fatal(thrown.Get("message").String())
	}
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"no challenge", nil, "capture takes the object"},
		{"challenge not object", []any{"x"}, "capture takes the object"},
		{"unknown challenge", []any{obj(map[string]any{"id": "00"})}, "not issued by this client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, th := await(c.Call("capture", tc.args...))
			if th.IsUndefined() || th.Get("code").String() != codeBadArgument || !strings.Contains(th.Get("message").String(), tc.want) {
				t.Fatalf("rejection %v, want bad_argument saying %q", th, tc.want)
			}
		})
	}
	if _, th := call("loadTracker"); !th.IsUndefined() {
		t.Fatalf("loadTracker: %s", th.Get("message").String())
	}
	if _, th := call("loadTracker", 1); th.IsUndefined() || th.Get("code").String() != codeBadArgument {
		t.Fatal("loadTracker(1) not refused")
	}
}
