package parent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/facesign/facesign/wire"
)

// frontMemberStub is one member of a fleet as the front sees it: a parent
// in front of an enclave that holds a real HPKE gateway (wire.Gateway), so
// a request sealed to another enclave's key is refused exactly as an
// enclave refuses it (unknown_key_id, or decrypt_failed when only the
// one-byte key id matches). Opened requests are answered with the
// member's index.
type frontMemberStub struct {
	index int
	gw    *wire.Gateway
	mu    sync.Mutex
	ready bool
	calls int
	srv   *httptest.Server
}

func newFrontMemberStub(t *testing.T, index int, keyID uint8, seed byte) *frontMemberStub {
	t.Helper()
	priv, err := wire.NewKeyPair(bytes.Repeat([]byte{seed}, 64))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := wire.NewGateway(keyID, priv, wire.FaceSignSuite)
	if err != nil {
		t.Fatal(err)
	}
	m := &frontMemberStub{index: index, gw: gw, ready: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.ready {
			w.WriteHeader(503)
		}
	})
	mux.HandleFunc("GET "+wire.RouteAttestation, func(w http.ResponseWriter, _ *http.Request) {
		kc, _ := gw.KeyConfig().MarshalBinary()
		b, _ := wire.Marshal(wire.AttestationResponse{Document: []byte{byte(index)}, Binding: wire.Binding{KeyConfig: kc}})
		m.mu.Lock()
		m.calls++
		m.mu.Unlock()
		w.Header().Set("Content-Type", wire.MediaTypeCBOR)
		w.Write(b)
	})
	mux.HandleFunc("POST /v1/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.calls++
		m.mu.Unlock()
		if _, _, err := gw.OpenRequest(r.URL.Path, body); err != nil {
			code := wire.CodeOf(err)
			writeError(w, code.HTTPStatus(), string(code), "refused")
			return
		}
		fmt.Fprintf(w, "member %d", index)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# HELP facesign_enclave_log_position p\n# TYPE facesign_enclave_log_position gauge\nfacesign_enclave_log_position %d\n", 100+index)
	})
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *frontMemberStub) setReady(r bool) { m.mu.Lock(); m.ready = r; m.mu.Unlock() }

func (m *frontMemberStub) callCount() int { m.mu.Lock(); defer m.mu.Unlock(); return m.calls }

func newTestFront(t *testing.T, members ...*frontMemberStub) (*Front, string) {
	t.Helper()
	f, err := NewFront(FrontConfig{Members: len(members), Now: time.Now, HealthInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range members {
		f.SetMember(i, m.srv.URL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.checkAll(ctx)
	go f.Run(ctx)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func sealTo(t *testing.T, m *frontMemberStub, route string) []byte {
	t.Helper()
	req, _, err := wire.SealRequest(m.gw.KeyConfig(), route, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func postSealed(t *testing.T, url, route string, body []byte) (int, string) {
	t.Helper()
	res, err := http.Post(url+route, wire.MediaTypeRequest, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestFrontRoutesByKey: sealed requests reach the member holding their
// key, whatever the round-robin position; attestations spread over the
// members; key ids that repeat across members cost one refused try.
func TestFrontRoutesByKey(t *testing.T) {
	a := newFrontMemberStub(t, 0, 7, 1)
	b := newFrontMemberStub(t, 1, 7, 2) // same key id as a, another key
	c := newFrontMemberStub(t, 2, 9, 3)
	f, url := newTestFront(t, a, b, c)
	for _, m := range []*frontMemberStub{a, b, c} {
		for range 4 {
			st, body := postSealed(t, url, wire.RouteEnroll, sealTo(t, m, wire.RouteEnroll))
			if st != 200 || body != fmt.Sprintf("member %d", m.index) {
				t.Fatalf("sealed to member %d: %d %s", m.index, st, body)
			}
		}
	}
	if c.callCount() != 4+1 { // its requests and the key probe
		t.Fatalf("member 2 (a unique key id) served %d calls", c.callCount())
	}
	var misses dto.Metric
	if err := f.m.misses.Write(&misses); err != nil {
		t.Fatal(err)
	}
	if n := misses.GetCounter().GetValue(); n == 0 || n > 8 {
		t.Fatalf("%v key misses for 8 requests to two members sharing a key id", n)
	}
	before := []int{a.callCount(), b.callCount(), c.callCount()}
	for range 6 {
		res, err := http.Get(url + wire.RouteAttestation + "?nonce=01")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	for i, m := range []*frontMemberStub{a, b, c} {
		if m.callCount()-before[i] != 2 {
			t.Fatalf("member %d got %d of 6 attestations", i, m.callCount()-before[i])
		}
	}
}

// TestFrontReadiness: a member that is not ready gets nothing; a request
// sealed to a member that went away gets unknown_key_id (the client
// attests again); with no member ready the front is not ready and answers
// unavailable.
func TestFrontReadiness(t *testing.T) {
	a := newFrontMemberStub(t, 0, 1, 1)
	b := newFrontMemberStub(t, 1, 2, 2)
	f, url := newTestFront(t, a, b)
	b.setReady(false)
	waitFor(t, func() bool { return !f.Members()[1].Ready })
	before := b.callCount()
	for range 4 {
		res, err := http.Get(url + wire.RouteAttestation + "?nonce=01")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if b.callCount() != before {
		t.Fatal("a member that is not ready was sent requests")
	}
	st, body := postSealed(t, url, wire.RouteLogin, sealTo(t, b, wire.RouteLogin))
	if !strings.Contains(body, string(wire.CodeUnknownKeyID)) || st != wire.CodeUnknownKeyID.HTTPStatus() {
		t.Fatalf("sealed to a member that is down: %d %s", st, body)
	}
	// A member with the same one-byte key id but another key refuses with
	// decrypt_failed; the client must still hear unknown_key_id, or it
	// would not attest again (seen in a rolling upgrade: 170 failed logins).
	c := newFrontMemberStub(t, 2, 2, 3) // key id 2, as b's
	fc, urlc := newTestFront(t, a, c)
	waitFor(t, func() bool { return fc.Members()[1].Ready })
	st, body = postSealed(t, urlc, wire.RouteLogin, sealTo(t, b, wire.RouteLogin))
	if !strings.Contains(body, string(wire.CodeUnknownKeyID)) || st != wire.CodeUnknownKeyID.HTTPStatus() {
		t.Fatalf("sealed to a lost member whose key id another member shares: %d %s", st, body)
	}
	a.setReady(false)
	waitFor(t, func() bool { return !f.Members()[0].Ready })
	res, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("front with no ready member: /readyz %d", res.StatusCode)
	}
	if st, body := postSealed(t, url, wire.RouteLogin, sealTo(t, a, wire.RouteLogin)); st != 503 || !strings.Contains(body, CodeUnavailable) {
		t.Fatalf("no member ready: %d %s", st, body)
	}
	a.setReady(true)
	f.SetMember(1, "")
	waitFor(t, func() bool { return f.Members()[0].Ready })
	if st, body := postSealed(t, url, wire.RouteLogin, sealTo(t, a, wire.RouteLogin)); st != 200 || body != "member 0" {
		t.Fatalf("after recovery: %d %s", st, body)
	}
}

// TestFrontMetrics: the front's /metrics carries each member's
// facesign_enclave_* figures labelled by member.
func TestFrontMetrics(t *testing.T) {
	_, url := newTestFront(t, newFrontMemberStub(t, 0, 1, 1), newFrontMemberStub(t, 1, 2, 2))
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{`facesign_enclave_log_position{enclave="0"} 100`, `facesign_enclave_log_position{enclave="1"} 101`, `facesign_front_member_ready{enclave="1"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %q:\n%s", want, b)
		}
	}
}

func TestFrontBadConfig(t *testing.T) {
	for _, c := range []FrontConfig{{Now: time.Now}, {Members: 2}, {Members: 1, Now: time.Now, RatePerSecond: 1}} {
		if _, err := NewFront(c); err == nil {
			t.Errorf("NewFront(%+v) accepted", c)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEnclaveStatusMetrics: a parent's /metrics carries its enclave's view
// of the shared log, asked at scrape time; an enclave that does not answer
// shows as not ready.
func TestEnclaveStatusMetrics(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	fe.set(200, "application/json", []byte(`{"ready":true,"log_next":41,"log_acked":44,"lag":3,"caught_up":17}`))
	out := do(t, s.Handler(), "GET", "/metrics", nil, nil).Body.String()
	for _, want := range []string{"facesign_enclave_ready 1", "facesign_enclave_log_position 41", "facesign_enclave_log_acknowledged 44", "facesign_enclave_log_lag 3", "facesign_enclave_log_caught_up_records_total 17"} {
		if !strings.Contains(out, want) {
			t.Fatalf("metrics lack %q:\n%s", want, out)
		}
	}
	// The scrape also asks for the stage histograms (stages.go): the
	// status call is one of the calls, not necessarily the last.
	asked := false
	for _, c := range fe.calls() {
		asked = asked || c.Path == wire.RouteStatus
	}
	if !asked {
		t.Fatalf("the parent did not ask %s", wire.RouteStatus)
	}
	fe.set(503, "application/json", []byte(`{}`))
	out = do(t, s.Handler(), "GET", "/metrics", nil, nil).Body.String()
	if !strings.Contains(out, "facesign_enclave_ready 0") || strings.Contains(out, "facesign_enclave_log_position") {
		t.Fatalf("an unanswering enclave:\n%s", out)
	}
}
