//go:build js && wasm

package js

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/wallet"
	"github.com/facesign/facesign/wire"
)

// Codes of failures that are not the service's.
const (
	codeBadArgument = "bad_argument"
	codeClient      = "client_error"
)

// argError is a bad argument from JavaScript.
type argError struct{ msg string }

func (e *argError) Error() string { return "facesign: " + e.msg }

func badArg(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

// Register defines globalThis.facesign. It is called once by the WebAssembly
// main, which then blocks forever so the callbacks stay alive.
func Register() {
	js.Global().Set("facesign", js.ValueOf(map[string]any{
		"newClient": promiseFunc(func(args []js.Value) (func(context.Context) (any, error), error) {
			c, err := newClient(args)
			return func(context.Context) (any, error) { return c, nil }, err
		}),
		"wallet": promiseFunc(func(args []js.Value) (func(context.Context) (any, error), error) {
			w, err := walletOf(args)
			return func(context.Context) (any, error) { return w, nil }, err
		}),
		"loadTracker": promiseFunc(loadTracker),
		"version":     "facesign-wasm/2",
	}))
}

// jsError converts err to a FaceSignError.
func jsError(err error) js.Value {
	e := js.Global().Get("Error").New(err.Error())
	e.Set("name", "FaceSignError")
	var rej *client.RejectedError
	var arg *argError
	switch {
	case errors.As(err, &rej):
		e.Set("code", string(rej.Code))
		e.Set("sealed", rej.Sealed)
		if rej.HTTPStatus != 0 {
			e.Set("httpStatus", rej.HTTPStatus)
		}
	case errors.As(err, &arg):
		e.Set("code", codeBadArgument)
		e.Set("sealed", false)
	default:
		e.Set("code", codeClient)
		e.Set("sealed", false)
	}
	return e
}

// jsClient holds a client and the challenges it issued and has not used.
type jsClient struct {
	c *client.Client

	mu         sync.Mutex
	challenges map[string]*client.Challenge
}

func newClient(args []js.Value) (js.Value, error) {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return js.Null(), badArg("newClient takes one options object")
	}
	o := args[0]
	url, err := str(o, "url", true)
	if err != nil {
		return js.Null(), err
	}
	opts := client.Options{Now: time.Now, Rand: rand.Reader}
	if opts.PCRs, err = pcrs(o.Get("pcrs")); err != nil {
		return js.Null(), err
	}
	if v := o.Get("anyMeasurement"); !v.IsUndefined() {
		if v.Type() != js.TypeBoolean {
			return js.Null(), badArg("anyMeasurement must be a boolean")
		}
		opts.AnyMeasurement = v.Bool()
	}
	if opts.Roots, err = roots(o.Get("rootsPEM")); err != nil {
		return js.Null(), err
	}
	if opts.PolicyHash, err = hexField(o, "policyHash", 32); err != nil {
		return js.Null(), err
	}
	if opts.ModelSHA256, err = hexField(o, "modelSHA256", 32); err != nil {
		return js.Null(), err
	}
	if opts.Engine, err = str(o, "engine", false); err != nil {
		return js.Null(), err
	}
	c, err := client.New(url, opts)
	if err != nil {
		return js.Null(), badArg("%v", err)
	}
	jc := &jsClient{c: c, challenges: map[string]*client.Challenge{}}
	return js.ValueOf(map[string]any{
		"attest":    promiseFunc(jc.attest),
		"challenge": promiseFunc(jc.challenge),
		"enroll":    promiseFunc(jc.face(c.Enroll)),
		"login":     promiseFunc(jc.face(c.Login)),
		"remove":    promiseFunc(jc.face(c.Delete)),
		"capture":   promiseFunc(jc.capture),
	}), nil
}

// promiseFunc wraps fn as a JavaScript function returning a Promise. The
// arguments are checked at once (a bad one rejects the Promise before
// anything is sent: a Go callback cannot throw into JavaScript), the work
// runs on its own goroutine (a blocking call on the JS event loop would
// deadlock the fetch it waits for).
func promiseFunc(fn func(args []js.Value) (func(context.Context) (any, error), error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		work, err := fn(args)
		if err != nil {
			return js.Global().Get("Promise").Call("reject", jsError(err))
		}
		var handler js.Func
		handler = js.FuncOf(func(_ js.Value, pargs []js.Value) any {
			resolve, reject := pargs[0], pargs[1]
			go func() {
				defer handler.Release()
				v, err := work(context.Background())
				if err != nil {
					reject.Invoke(jsError(err))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		})
		return js.Global().Get("Promise").New(handler)
	})
}

func (jc *jsClient) attest(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 0 {
		return nil, badArg("attest takes no arguments")
	}
	return func(ctx context.Context) (any, error) {
		a, err := jc.c.Attest(ctx)
		if err != nil {
			return nil, err
		}
		p := map[string]any{}
		for i, v := range a.Document.PCRs {
			p[strconv.Itoa(i)] = hex.EncodeToString(v)
		}
		return js.ValueOf(map[string]any{
			"moduleId":   a.Document.ModuleID,
			"timestamp":  a.Document.Timestamp.UnixMilli(),
			"pcrs":       p,
			"policyHash": hex.EncodeToString(a.PolicyHash[:]),
			"engine":     a.Binding.Policy.Engine,
			"raw":        bytesJS(a.Raw),
		}), nil
	}, nil
}

func (jc *jsClient) challenge(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 0 {
		return nil, badArg("challenge takes no arguments")
	}
	return func(ctx context.Context) (any, error) {
		ch, err := jc.c.Challenge(ctx)
		if err != nil {
			return nil, err
		}
		id := hex.EncodeToString(ch.ID)
		jc.mu.Lock()
		jc.challenges[id] = ch
		jc.mu.Unlock()
		acts := make([]any, len(ch.Actions))
		for i, a := range ch.Actions {
			acts[i] = a
		}
		return js.ValueOf(map[string]any{
			"id":        id,
			"actions":   acts,
			"expiresAt": ch.ExpiresAt.UnixMilli(),
			"minFrames": ch.Policy().MinFrames,
			"maxFrames": ch.Policy().MaxFrames,
		}), nil
	}, nil
}

type faceOp func(context.Context, *client.Challenge, [][]byte, ...wire.Segment) (*client.Result, error)

func (jc *jsClient) face(op faceOp) func(args []js.Value) (func(context.Context) (any, error), error) {
	return func(args []js.Value) (func(context.Context) (any, error), error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, badArg("takes (challenge, frames[, segments])")
		}
		if args[0].Type() != js.TypeObject {
			return nil, badArg("challenge must be the object challenge() returned")
		}
		id, err := str(args[0], "id", true)
		if err != nil {
			return nil, err
		}
		frames, err := byteArrays(args[1], "frames")
		if err != nil {
			return nil, err
		}
		var segs []wire.Segment
		if len(args) == 3 && !args[2].IsUndefined() {
			if segs, err = segments(args[2]); err != nil {
				return nil, err
			}
		}
		jc.mu.Lock()
		ch, ok := jc.challenges[id]
		delete(jc.challenges, id)
		jc.mu.Unlock()
		if !ok {
			return nil, badArg("challenge %s was not issued by this client or was already used", id)
		}
		return func(ctx context.Context) (any, error) {
			res, err := op(ctx, ch, frames, segs...)
			if err != nil {
				return nil, err
			}
			return resultJS(res)
		}, nil
	}
}

func resultJS(r *client.Result) (any, error) {
	sr, err := wire.Marshal(r.SignedReceipt)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"status":        string(r.Status),
		"uniqueId":      r.UniqueID,
		"entropy":       js.Null(),
		"signedReceipt": bytesJS(sr),
		"issuedAt":      r.Receipt.IssuedAtMS,
		"attestation":   bytesJS(r.Attestation.Raw),
	}
	if r.Entropy != nil {
		out["entropy"] = bytesJS(r.Entropy)
	}
	return js.ValueOf(out), nil
}

func walletOf(args []js.Value) (js.Value, error) {
	if len(args) != 1 {
		return js.Null(), badArg("wallet takes the 32-byte entropy (Uint8Array) or a mnemonic (string)")
	}
	var (
		w   *wallet.Wallet
		err error
	)
	if args[0].Type() == js.TypeString {
		w, err = wallet.FromMnemonic(args[0].String())
	} else {
		var e []byte
		if e, err = byteArray(args[0], "entropy"); err == nil {
			w, err = wallet.FromEntropy(e)
		}
	}
	if err != nil {
		return js.Null(), badArg("%v", err)
	}
	p := w.Public()
	return js.ValueOf(map[string]any{
		"mnemonic":         w.Mnemonic(),
		"facesignAddress":  p.FaceSignAddress,
		"ed25519PublicKey": p.Ed25519PublicKey,
		"evmAddress":       p.EVMAddress,
		"evmPublicKey":     p.EVMPublicKey,
		"evmPath":          p.EVMPath,
		"x25519PublicKey":  p.X25519PublicKey,
		"signPersonal": promiseFunc(func(a []js.Value) (func(context.Context) (any, error), error) {
			msg, err := messageBytes(a)
			return func(context.Context) (any, error) {
				return "0x" + hex.EncodeToString(w.EVM().SignPersonal(msg)), nil
			}, err
		}),
	}), nil
}

func messageBytes(a []js.Value) ([]byte, error) {
	if len(a) != 1 {
		return nil, badArg("signPersonal takes one message (string or Uint8Array)")
	}
	if a[0].Type() == js.TypeString {
		return []byte(a[0].String()), nil
	}
	return byteArray(a[0], "message")
}

// Conversions from JavaScript values, each refusing the wrong type.

func str(o js.Value, name string, required bool) (string, error) {
	v := o.Get(name)
	if v.IsUndefined() || v.IsNull() {
		if required {
			return "", badArg("%s is required", name)
		}
		return "", nil
	}
	if v.Type() != js.TypeString {
		return "", badArg("%s must be a string", name)
	}
	return v.String(), nil
}

func hexField(o js.Value, name string, n int) ([]byte, error) {
	s, err := str(o, name, false)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, badArg("%s must be %d bytes of hex", name, n)
	}
	return b, nil
}

func pcrs(v js.Value) (map[int][]byte, error) {
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	if v.Type() != js.TypeObject {
		return nil, badArg("pcrs must be an object {index: hex}")
	}
	keys := js.Global().Get("Object").Call("keys", v)
	out := make(map[int][]byte, keys.Length())
	for i := range keys.Length() {
		k := keys.Index(i).String()
		idx, err := strconv.Atoi(k)
		if err != nil || idx < 0 || idx > 31 || strconv.Itoa(idx) != k {
			return nil, badArg("pcrs: index %q is not 0..31", k)
		}
		b, err := hexField(v, k, 48)
		if err != nil || b == nil { // nil: an empty string
			return nil, badArg("pcrs[%d] must be 48 bytes of hex", idx)
		}
		out[idx] = b
	}
	return out, nil
}

func roots(v js.Value) ([]*x509.Certificate, error) {
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	if !isArray(v) {
		return nil, badArg("rootsPEM must be an array of PEM strings")
	}
	var out []*x509.Certificate
	for i := range v.Length() {
		e := v.Index(i)
		if e.Type() != js.TypeString {
			return nil, badArg("rootsPEM[%d] must be a PEM string", i)
		}
		c, err := client.ParseRootPEM([]byte(e.String()))
		if err != nil {
			return nil, badArg("rootsPEM[%d]: %v", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func isArray(v js.Value) bool { return js.Global().Get("Array").Call("isArray", v).Bool() }

func byteArray(v js.Value, name string) ([]byte, error) {
	if v.Type() != js.TypeObject || !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, badArg("%s must be a Uint8Array", name)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

func byteArrays(v js.Value, name string) ([][]byte, error) {
	if !isArray(v) || v.Length() == 0 {
		return nil, badArg("%s must be a non-empty array of Uint8Array", name)
	}
	out := make([][]byte, v.Length())
	for i := range out {
		b, err := byteArray(v.Index(i), fmt.Sprintf("%s[%d]", name, i))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func segments(v js.Value) ([]wire.Segment, error) {
	if !isArray(v) {
		return nil, badArg("segments must be an array of {action, from, to}")
	}
	out := make([]wire.Segment, v.Length())
	for i := range out {
		e := v.Index(i)
		if e.Type() != js.TypeObject {
			return nil, badArg("segments[%d] must be {action, from, to}", i)
		}
		a, err := str(e, "action", true)
		if err != nil {
			return nil, err
		}
		from, to := e.Get("from"), e.Get("to")
		if from.Type() != js.TypeNumber || to.Type() != js.TypeNumber || from.Int() < 0 || to.Int() < from.Int() {
			return nil, badArg("segments[%d]: from and to must be frame indexes, from ≤ to", i)
		}
		out[i] = wire.Segment{Action: a, From: from.Int(), To: to.Int()}
	}
	return out, nil
}

func bytesJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}
