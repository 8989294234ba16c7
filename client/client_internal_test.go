package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

// gatewayServer is an in-process stand-in for parent+enclave that opens
// requests with a real RFC 9458 gateway and answers with whatever the test
// wants. The client's attestation step is exercised end to end against the
// real simulator (e2e_test.go); here the client is given a binding directly
// so each answer-checking rule can be tested in isolation.
type gatewayServer struct {
	gw      *wire.Gateway
	binding wire.Binding
	rkey    ed25519.PrivateKey
	answer  atomic.Pointer[func(route string, pt []byte) (int, string, []byte)]
}

func newGatewayServer(t *testing.T) (*gatewayServer, *httptest.Server) {
	t.Helper()
	ikm := make([]byte, 64)
	rand.Read(ikm)
	priv, err := wire.NewKeyPair(ikm)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := wire.NewGateway(7, priv, wire.FaceSignSuite)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := gw.KeyConfig().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	pub, rkey, _ := ed25519.GenerateKey(rand.Reader)
	g := &gatewayServer{gw: gw, rkey: rkey, binding: wire.Binding{
		KeyConfig: kc,
		Policy: wire.Policy{Engine: "test-engine", ModelSHA256: make([]byte, 32), MatchThreshold: 0.6, NewThreshold: 0.4,
			Margin: 0.05, Actions: []string{wire.ActionTurnLeft, wire.ActionOpenMouth}, ChallengeTTLMS: 60000,
			MinFrames: 3, MaxFrames: 10, MaxFrameBytes: 1 << 20, MaxPixels: 1 << 22},
		ReceiptKey: pub,
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		body.ReadFrom(r.Body)
		pt, sealer, err := gw.OpenRequest(r.URL.Path, body.Bytes())
		if err != nil {
			code := wire.CodeOf(err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code.HTTPStatus())
			json.NewEncoder(w).Encode(wire.ErrorResponse{Error: wire.ErrorDetail{Code: code, Message: err.Error()}})
			return
		}
		f := *g.answer.Load()
		status, ctype, out := f(r.URL.Path, pt)
		if ctype == wire.MediaTypeResponse {
			if out, err = sealer.Seal(rand.Reader, out); err != nil {
				t.Error(err)
			}
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *gatewayServer) set(f func(route string, pt []byte) (int, string, []byte)) {
	g.answer.Store(&f)
}

// sealedAnswer makes the server answer face routes with resp (padded) and
// challenges with a valid challenge.
func (g *gatewayServer) sealedAnswer(t *testing.T, resp func() wire.Response) {
	g.set(func(route string, pt []byte) (int, string, []byte) {
		if route == wire.RouteChallenge {
			b, _ := wire.ChallengeResponse{ID: make([]byte, 16), Nonce: make([]byte, 32), Actions: []string{wire.ActionTurnLeft},
				ExpiresAtMS: time.Now().Add(time.Minute).UnixMilli()}.MarshalPadded()
			return 200, wire.MediaTypeResponse, b
		}
		var req wire.FaceRequest
		if err := wire.UnmarshalPadded(pt, &req); err != nil {
			t.Errorf("face request does not decode: %v", err)
		}
		b, err := resp().MarshalPadded()
		if err != nil {
			t.Fatal(err)
		}
		return 200, wire.MediaTypeResponse, b
	})
}

func (g *gatewayServer) receipt(t *testing.T, key ed25519.PrivateKey, p wire.Policy, st wire.Status, uid string) *wire.SignedReceipt {
	ph, _ := p.Hash()
	sr, err := wire.SignReceipt(key, wire.Receipt{UniqueID: uid, Status: st, IssuedAtMS: time.Now().UnixMilli(), PolicyHash: ph[:]})
	if err != nil {
		t.Fatal(err)
	}
	return &sr
}

func testClient(t *testing.T, g *gatewayServer, url string) *Client {
	t.Helper()
	c, err := New(url, Options{Now: time.Now, Rand: rand.Reader, AnyMeasurement: true})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := wire.ParseKeyConfig(g.binding.KeyConfig)
	if err != nil {
		t.Fatal(err)
	}
	ph, _ := g.binding.Policy.Hash()
	c.att = &Attestation{Binding: g.binding, KeyConfig: kc, PolicyHash: ph}
	return c
}

const uid = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e"

func TestAnswerChecks(t *testing.T) {
	g, srv := newGatewayServer(t)
	ctx := context.Background()
	entropy := bytes.Repeat([]byte{0xab}, 32)
	otherKey := func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k }()
	otherPolicy := g.binding.Policy
	otherPolicy.MatchThreshold = 0.1
	ok := func(st wire.Status, id string, e []byte) func() wire.Response {
		return func() wire.Response {
			return wire.Response{Status: st, UniqueID: id, Entropy: e, Receipt: g.receipt(t, g.rkey, g.binding.Policy, st, id)}
		}
	}
	cases := []struct {
		name  string
		op    string
		resp  func() wire.Response
		want  wire.Status
		isErr error
	}{
		{"new", wire.RouteEnroll, ok(wire.StatusNew, uid, entropy), wire.StatusNew, nil},
		{"existing", wire.RouteEnroll, ok(wire.StatusExisting, uid, entropy), wire.StatusExisting, nil},
		{"login existing", wire.RouteLogin, ok(wire.StatusExisting, uid, entropy), wire.StatusExisting, nil},
		{"login not found", wire.RouteLogin, ok(wire.StatusNotFound, "", nil), wire.StatusNotFound, nil},
		{"deleted", wire.RouteDelete, ok(wire.StatusDeleted, uid, nil), wire.StatusDeleted, nil},
		{"rejected", wire.RouteEnroll, func() wire.Response {
			return wire.Response{Status: wire.StatusRejected, Reason: wire.CodeLivenessFailed, Message: "flat", Receipt: g.receipt(t, g.rkey, g.binding.Policy, wire.StatusRejected, "")}
		}, "", ErrLivenessFailed},
		{"no receipt", wire.RouteEnroll, func() wire.Response { return wire.Response{Status: wire.StatusNew, UniqueID: uid, Entropy: entropy} }, "", ErrReceipt},
		{"forged receipt", wire.RouteEnroll, func() wire.Response {
			return wire.Response{Status: wire.StatusNew, UniqueID: uid, Entropy: entropy, Receipt: g.receipt(t, otherKey, g.binding.Policy, wire.StatusNew, uid)}
		}, "", ErrReceipt},
		{"receipt for another policy", wire.RouteEnroll, func() wire.Response {
			return wire.Response{Status: wire.StatusNew, UniqueID: uid, Entropy: entropy, Receipt: g.receipt(t, g.rkey, otherPolicy, wire.StatusNew, uid)}
		}, "", ErrReceipt},
		{"receipt for another id", wire.RouteEnroll, func() wire.Response {
			return wire.Response{Status: wire.StatusExisting, UniqueID: uid, Entropy: entropy, Receipt: g.receipt(t, g.rkey, g.binding.Policy, wire.StatusExisting, "9f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e")}
		}, "", ErrReceipt},
		{"receipt for another status", wire.RouteEnroll, func() wire.Response {
			return wire.Response{Status: wire.StatusNew, UniqueID: uid, Entropy: entropy, Receipt: g.receipt(t, g.rkey, g.binding.Policy, wire.StatusExisting, uid)}
		}, "", ErrReceipt},
		{"login that enrols", wire.RouteLogin, ok(wire.StatusNew, uid, entropy), "", ErrBadResponse},
		{"enrol answering not_found", wire.RouteEnroll, ok(wire.StatusNotFound, "", nil), "", ErrBadResponse},
		{"short entropy", wire.RouteEnroll, ok(wire.StatusNew, uid, entropy[:31]), "", ErrBadResponse},
		{"id not a uuid", wire.RouteEnroll, ok(wire.StatusNew, "alice", entropy), "", ErrBadResponse},
		{"not_found with an id", wire.RouteLogin, ok(wire.StatusNotFound, uid, nil), "", ErrBadResponse},
		{"deleted with entropy", wire.RouteDelete, ok(wire.StatusDeleted, uid, entropy), "", ErrBadResponse},
		{"rejected without reason", wire.RouteEnroll, ok(wire.StatusRejected, "", nil), "", ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(t, g, srv.URL)
			g.sealedAnswer(t, tc.resp)
			ch, err := c.Challenge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			op := map[string]func(context.Context, *Challenge, [][]byte, ...wire.Segment) (*Result, error){
				wire.RouteEnroll: c.Enroll, wire.RouteLogin: c.Login, wire.RouteDelete: c.Delete}[tc.op]
			res, err := op(ctx, ch, [][]byte{[]byte("frame")})
			if tc.isErr != nil {
				if res != nil || !errors.Is(err, tc.isErr) {
					t.Fatalf("got %v, %v; want %v", res, err, tc.isErr)
				}
				return
			}
			if err != nil || res.Status != tc.want {
				t.Fatalf("got %v, %v", res, err)
			}
		})
	}
}

func TestRefusalsAreTyped(t *testing.T) {
	g, srv := newGatewayServer(t)
	ctx := context.Background()
	t.Run("sealed rejection matches its code only", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.sealedAnswer(t, func() wire.Response {
			return wire.Response{Status: wire.StatusRejected, Reason: wire.CodeNoFace, Receipt: g.receipt(t, g.rkey, g.binding.Policy, wire.StatusRejected, "")}
		})
		ch, _ := c.Challenge(ctx)
		_, err := c.Enroll(ctx, ch, [][]byte{{1}})
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Code != wire.CodeNoFace || !rej.Sealed {
			t.Fatalf("got %v", err)
		}
		for _, code := range wire.Codes() {
			if errors.Is(err, CodeSentinel(code)) != (code == wire.CodeNoFace) {
				t.Errorf("errors.Is(err, %s) = %v", code, !(code == wire.CodeNoFace))
			}
		}
	})
	t.Run("challenge refusal", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.set(func(string, []byte) (int, string, []byte) {
			b, _ := wire.ChallengeResponse{Reason: wire.CodeUnavailable, Message: "busy"}.MarshalPadded()
			return 200, wire.MediaTypeResponse, b
		})
		if _, err := c.Challenge(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("challenge for an action the policy does not enable", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.set(func(string, []byte) (int, string, []byte) {
			b, _ := wire.ChallengeResponse{ID: make([]byte, 16), Nonce: make([]byte, 32), Actions: []string{"blink"}, ExpiresAtMS: 1}.MarshalPadded()
			return 200, wire.MediaTypeResponse, b
		})
		if _, err := c.Challenge(ctx); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("plain errors before the envelope opens", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.set(func(string, []byte) (int, string, []byte) {
			return 429, "application/json", []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`)
		})
		_, err := c.Challenge(ctx)
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Sealed || rej.HTTPStatus != 429 || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown key id drops the attestation", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		c.att.KeyConfig.KeyID ^= 0xff // sealed to a key the gateway does not have
		a := c.att
		ch := &Challenge{ID: make([]byte, 16), Nonce: make([]byte, 32), att: a}
		_, err := c.Enroll(ctx, ch, [][]byte{{1}})
		if !errors.Is(err, ErrUnknownKeyID) {
			t.Fatalf("got %v", err)
		}
		if c.att != nil {
			t.Fatal("the stale attestation was kept")
		}
	})
	t.Run("not the API", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.set(func(string, []byte) (int, string, []byte) { return 502, "text/html", []byte("<h1>bad gateway</h1>") })
		if _, err := c.Challenge(ctx); !errors.Is(err, ErrServer) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("answer that does not open", func(t *testing.T) {
		c := testClient(t, g, srv.URL)
		g.set(func(string, []byte) (int, string, []byte) { return 200, wire.MediaTypeResponse, make([]byte, 200) })
		srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", wire.MediaTypeResponse)
			w.Write(make([]byte, 300)) // not sealed under the request's context
		}))
		defer srv2.Close()
		c2 := testClient(t, g, srv2.URL)
		if _, err := c2.Challenge(ctx); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("got %v", err)
		}
		_ = c
	})
}

func TestRequestsArePaddedToCoarseSizes(t *testing.T) {
	g, srv := newGatewayServer(t)
	var sizes []int
	g.set(func(route string, pt []byte) (int, string, []byte) {
		if route == wire.RouteChallenge {
			b, _ := wire.ChallengeResponse{ID: make([]byte, 16), Nonce: make([]byte, 32), Actions: []string{wire.ActionTurnLeft}, ExpiresAtMS: 1}.MarshalPadded()
			return 200, wire.MediaTypeResponse, b
		}
		sizes = append(sizes, len(pt))
		b, _ := wire.Response{Status: wire.StatusNotFound, Receipt: g.receipt(t, g.rkey, g.binding.Policy, wire.StatusNotFound, "")}.MarshalPadded()
		return 200, wire.MediaTypeResponse, b
	})
	c := testClient(t, g, srv.URL)
	for _, n := range []int{1, 1000, 30000} {
		ch, err := c.Challenge(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Login(context.Background(), ch, [][]byte{bytes.Repeat([]byte{1}, n)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sizes {
		if s != 64<<10 {
			t.Fatalf("sealed plaintext sizes %v, want all 64 KiB", sizes)
		}
	}
}

func TestNewRefusesUnsafeOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		url  string
		opts Options
	}{
		"no pins":        {"http://x", Options{Now: time.Now, Rand: rand.Reader}},
		"no clock":       {"http://x", Options{Rand: rand.Reader, AnyMeasurement: true}},
		"no rand":        {"http://x", Options{Now: time.Now, AnyMeasurement: true}},
		"bad url":        {"ftp://x", Options{Now: time.Now, Rand: rand.Reader, AnyMeasurement: true}},
		"bad policy pin": {"http://x", Options{Now: time.Now, Rand: rand.Reader, AnyMeasurement: true, PolicyHash: []byte{1}}},
	} {
		if _, err := New(tc.url, tc.opts); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseRootPEM([]byte("-----BEGIN NOTHING-----\n")); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("ParseRootPEM: %v", err)
	}
}

// FuzzCheckResponse feeds arbitrary decrypted plaintexts through the
// client's decoding and checks: never a panic, never a result together with
// an error, and a result only with a receipt that verifies.
func FuzzCheckResponse(f *testing.F) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	b := wire.Binding{Policy: wire.Policy{Engine: "e", ModelSHA256: make([]byte, 32)}, ReceiptKey: pub}
	ph, _ := b.Policy.Hash()
	a := &Attestation{Binding: b, PolicyHash: ph}
	sr, _ := wire.SignReceipt(key, wire.Receipt{UniqueID: uid, Status: wire.StatusNew, IssuedAtMS: 1, PolicyHash: ph[:]})
	good, _ := wire.Response{Status: wire.StatusNew, UniqueID: uid, Entropy: make([]byte, 32), Receipt: &sr}.MarshalPadded()
	f.Add(good, uint8(0))
	f.Add(good[:40], uint8(1))
	f.Add([]byte{0xa0}, uint8(2))
	routes := []string{wire.RouteEnroll, wire.RouteLogin, wire.RouteDelete}
	f.Fuzz(func(t *testing.T, pt []byte, r uint8) {
		var resp wire.Response
		if err := wire.UnmarshalPadded(pt, &resp); err != nil {
			return
		}
		res, err := checkResponse(routes[int(r)%3], a, resp)
		if (res == nil) == (err == nil) {
			t.Fatalf("result %v with error %v", res, err)
		}
		if res != nil {
			if _, err := res.SignedReceipt.Open(b); err != nil {
				t.Fatalf("accepted an answer whose receipt does not verify: %v", err)
			}
		}
	})
}
