package enclave

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/internal/syncbuf"
	"github.com/facesign/facesign/wire"
)

func TestEnrolLoginDelete(t *testing.T) {
	h := newHarness(t)
	a := h.face(wire.RouteEnroll, 1)
	h.mustStatus(a, wire.StatusNew)
	if len(a.Entropy) != 32 || len(a.UniqueID) != 36 {
		t.Fatalf("new: %q %x", a.UniqueID, a.Entropy)
	}
	again := h.face(wire.RouteEnroll, 1)
	h.mustStatus(again, wire.StatusExisting)
	if fmtID(again) != fmtID(a) {
		t.Fatalf("existing returned another identity")
	}
	b := h.face(wire.RouteEnroll, 2)
	h.mustStatus(b, wire.StatusNew)
	if b.UniqueID == a.UniqueID || bytes.Equal(b.Entropy, a.Entropy) {
		t.Fatal("second person got the first one's identity")
	}
	l := h.face(wire.RouteLogin, 2)
	h.mustStatus(l, wire.StatusExisting)
	if fmtID(l) != fmtID(b) {
		t.Fatal("login returned another identity")
	}
	nf := h.face(wire.RouteLogin, 3)
	h.mustStatus(nf, wire.StatusNotFound)
	if nf.UniqueID != "" || nf.Entropy != nil {
		t.Fatal("not_found carries an identity")
	}
	if h.svc.Identities() != 2 {
		t.Fatalf("login enrolled: %d identities", h.svc.Identities())
	}
	d := h.face(wire.RouteDelete, 2)
	h.mustStatus(d, wire.StatusDeleted)
	if d.UniqueID != b.UniqueID || d.Entropy != nil {
		t.Fatalf("deleted %q entropy %x", d.UniqueID, d.Entropy)
	}
	h.mustStatus(h.face(wire.RouteLogin, 2), wire.StatusNotFound)
	h.mustStatus(h.face(wire.RouteDelete, 2), wire.StatusNotFound)
	// B enrols again: a new identity, never the deleted one.
	b2 := h.face(wire.RouteEnroll, 2)
	h.mustStatus(b2, wire.StatusNew)
	if b2.UniqueID == b.UniqueID || bytes.Equal(b2.Entropy, b.Entropy) {
		t.Fatal("deleted identity came back")
	}
	// One write per face request: 9 face requests above.
	if got := h.log.Puts(); got != 9 {
		t.Fatalf("%d journal writes for 9 requests", got)
	}

	// Restart: a new enclave instance replays the journal.
	h2 := &harness{t: t, log: h.log, clock: h.clock, dataKey: h.dataKey, tap: &tap{}}
	h2.start()
	if h2.svc.Identities() != 2 {
		t.Fatalf("replayed %d identities, want 2", h2.svc.Identities())
	}
	r := h2.face(wire.RouteLogin, 1)
	h2.mustStatus(r, wire.StatusExisting)
	if fmtID(r) != fmtID(a) {
		t.Fatal("identity changed across restart")
	}
	h2.mustStatus(h2.face(wire.RouteLogin, 2), wire.StatusExisting)
}

func TestAttestationEndpoint(t *testing.T) {
	h := newHarness(t)
	res, err := h.http.Get(h.base + wire.RouteAttestation + "?nonce=" + hex.EncodeToString([]byte("client nonce")))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ar wire.AttestationResponse
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != wire.MediaTypeCBOR {
		t.Fatalf("HTTP %d %s", res.StatusCode, buf.Bytes())
	}
	if err := wire.Unmarshal(buf.Bytes(), &ar); err != nil {
		t.Fatal(err)
	}
	doc, err := attest.Verify(ar.Document, attest.VerifyOptions{
		Roots: []*x509.Certificate{h.nsm.Root()}, CurrentTime: h.clock.Now(), Nonce: []byte("client nonce"),
		PCRs: map[int][]byte{0: bytes.Repeat([]byte{0xa0}, 48)},
	})
	if err != nil {
		t.Fatal(err)
	}
	bh, _ := ar.Binding.Hash()
	if !bytes.Equal(doc.UserData, bh[:]) || doc.PublicKey != nil {
		t.Fatalf("document binds %x, binding hashes to %x", doc.UserData, bh)
	}
	if _, err := attest.Verify(ar.Document, attest.VerifyOptions{CurrentTime: h.clock.Now()}); !errors.Is(err, attest.ErrUntrustedRoot) {
		t.Fatalf("simulator document accepted without its root: %v", err)
	}
	kc, err := wire.ParseKeyConfig(ar.Binding.KeyConfig)
	if err != nil || kc.KEM != wire.KEMMLKEM768X25519 || len(ar.Binding.ReceiptKey) != 32 {
		t.Fatalf("binding: %+v %v", kc, err)
	}
	for _, q := range []string{"", "?nonce=", "?nonce=zz", "?nonce=" + strings.Repeat("00", 65), "?nonce=00&nonce=01"} {
		res, err := h.http.Get(h.base + wire.RouteAttestation + q)
		if err != nil {
			t.Fatal(err)
		}
		var e wire.ErrorResponse
		_ = json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if res.StatusCode != 400 || e.Error.Code != wire.CodeBadRequest {
			t.Fatalf("%q: HTTP %d %+v", q, res.StatusCode, e)
		}
	}
	for _, p := range []string{wire.RouteHealthz, wire.RouteReadyz} {
		res, err := h.http.Get(h.base + p)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, res, err)
		}
		res.Body.Close()
	}
}

func TestEnvelopeRefusals(t *testing.T) {
	h := newHarness(t)
	kc, _ := wire.ParseKeyConfig(h.binding.KeyConfig)
	good, _, err := wire.SealRequest(kc, wire.RouteChallenge, []byte{0xa0})
	if err != nil {
		t.Fatal(err)
	}
	other := kc
	other.KeyID++
	unknown, _, _ := wire.SealRequest(other, wire.RouteChallenge, []byte{0xa0})
	forLogin, _, _ := wire.SealRequest(kc, wire.RouteLogin, []byte{0xa0})
	tampered := bytes.Clone(good)
	tampered[len(tampered)-3] ^= 1
	suite := bytes.Clone(good)
	suite[6] = 1
	tests := []struct {
		name   string
		route  string
		ctype  string
		body   []byte
		status int
		code   wire.Code
	}{
		{"wrong media type", wire.RouteChallenge, "application/json", good, 400, wire.CodeBadEnvelope},
		{"garbage", wire.RouteChallenge, wire.MediaTypeRequest, []byte("hello"), 400, wire.CodeBadEnvelope},
		{"unknown key id", wire.RouteChallenge, wire.MediaTypeRequest, unknown, 422, wire.CodeUnknownKeyID},
		{"unsupported suite", wire.RouteChallenge, wire.MediaTypeRequest, suite, 422, wire.CodeUnsupportedSuite},
		{"tampered", wire.RouteChallenge, wire.MediaTypeRequest, tampered, 422, wire.CodeDecryptFailed},
		{"replayed to another route", wire.RouteEnroll, wire.MediaTypeRequest, forLogin, 422, wire.CodeDecryptFailed},
		{"too large", wire.RouteEnroll, wire.MediaTypeRequest, make([]byte, h.svc.maxBody+1), 413, wire.CodeBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := h.post(tt.route, tt.ctype, tt.body)
			var e wire.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("HTTP %d, body %q: %v", st, body, err)
			}
			if st != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("HTTP %d %+v, want %d %s", st, e, tt.status, tt.code)
			}
		})
	}
	if h.log.Puts() != 0 || h.svc.challenges.Outstanding() != 0 {
		t.Fatalf("refused envelopes changed state: %d writes, %d challenges", h.log.Puts(), h.svc.challenges.Outstanding())
	}
}

// TestBadFaceRequests: every client-caused failure after the envelope opens
// has its code, writes one indistinguishable record, and enrols nobody.
func TestBadFaceRequests(t *testing.T) {
	h := newHarness(t)
	h.mustStatus(h.face(wire.RouteEnroll, 1), wire.StatusNew)
	p := testPolicy(fakeEngine{})
	frames := func(c wire.ChallengeResponse, person int) [][]byte { return performance(t, person, c.Actions, false) }
	bigPNG := func() []byte {
		// A valid PNG header claiming more pixels than allowed.
		b := bytes.Clone(drawFrame(t, scene{person: 5, faces: 1}))
		copy(b[16:24], []byte{0, 0, 0x10, 0, 0, 0, 0x10, 0})
		binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
		return b
	}
	tests := []struct {
		name  string
		build func(c wire.ChallengeResponse) wire.FaceRequest
		code  wire.Code
	}{
		{"unknown challenge", func(c wire.ChallengeResponse) wire.FaceRequest {
			id := bytes.Clone(c.ID)
			id[0] ^= 1
			return wire.FaceRequest{ChallengeID: id, ChallengeNonce: c.Nonce, Frames: frames(c, 5)}
		}, wire.CodeChallengeUnknown},
		{"wrong nonce", func(c wire.ChallengeResponse) wire.FaceRequest {
			n := bytes.Clone(c.Nonce)
			n[31] ^= 1
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: n, Frames: frames(c, 5)}
		}, wire.CodeChallengeUnknown},
		{"too many frames", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			for len(f) <= p.MaxFrames {
				f = append(f, f[0])
			}
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeTooManyFrames},
		{"too few frames", func(c wire.ChallengeResponse) wire.FaceRequest {
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: frames(c, 5)[:2]}
		}, wire.CodeTooFewFrames},
		{"frame too large", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[1] = append(bytes.Clone(f[1]), make([]byte, p.MaxFrameBytes)...)
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeFrameTooLarge},
		{"undecodable frame", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[2] = []byte("GIF89a not a frame")
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeFrameUndecodable},
		{"too many pixels", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[0] = bigPNG()
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeTooManyPixels},
		{"no face", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[1] = drawFrame(t, scene{noise: 200})
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeNoFace},
		{"several faces", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[1] = drawFrame(t, scene{person: 5, faces: 2, noise: 201})
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeSeveralFaces},
		{"wrong actions", func(c wire.ChallengeResponse) wire.FaceRequest {
			rev := []string{c.Actions[1], c.Actions[0]}
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: performance(t, 5, rev, false)[:4]}
		}, wire.CodeWrongActions},
		{"repeated frame", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f = append(f, f[2])
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeLivenessFailed},
		{"another person mid-way", func(c wire.ChallengeResponse) wire.FaceRequest {
			f := frames(c, 5)
			f[len(f)-1] = drawFrame(t, scene{person: 6, faces: 1, noise: 77})
			return wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: f}
		}, wire.CodeLivenessFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.log.Puts()
			var r wire.Response
			h.sealedCall(wire.RouteEnroll, tt.build(h.challenge()), &r)
			if r.Status != wire.StatusRejected || r.Reason != tt.code {
				t.Fatalf("got %s %s (%s), want rejected %s", r.Status, r.Reason, r.Message, tt.code)
			}
			if r.UniqueID != "" || r.Entropy != nil {
				t.Fatal("refusal carries an identity")
			}
			if h.svc.Identities() != 1 {
				t.Fatalf("%d identities", h.svc.Identities())
			}
			if w := h.log.Puts() - before; w < 1 || w > 2 {
				t.Fatalf("%d writes", w)
			}
		})
	}
	// bad_request: a plaintext that is not a FaceRequest.
	var r wire.Response
	h.sealedCall(wire.RouteLogin, map[string]int{"what": 1}, &r)
	if r.Reason != wire.CodeBadRequest {
		t.Fatalf("got %s", r.Reason)
	}
}

func TestChallengeReuseAndExpiry(t *testing.T) {
	h := newHarness(t)
	c := h.challenge()
	if len(c.ID) != 16 || len(c.Nonce) != 32 || len(c.Actions) != 2 || c.Actions[0] == c.Actions[1] {
		t.Fatalf("challenge %+v", c)
	}
	f := performance(t, 1, c.Actions, false)
	h.mustStatus(h.faceWith(wire.RouteEnroll, c, f), wire.StatusNew)
	r := h.faceWith(wire.RouteLogin, c, f)
	if r.Reason != wire.CodeChallengeReused {
		t.Fatalf("reuse: %s %s", r.Reason, r.Message)
	}
	c2 := h.challenge()
	h.clock.Advance(61 * time.Second)
	r = h.faceWith(wire.RouteLogin, c2, performance(t, 1, c2.Actions, false))
	if r.Reason != wire.CodeChallengeExpired {
		t.Fatalf("expired: %s %s", r.Reason, r.Message)
	}
}

func TestAmbiguousNeverHandsOutEntropy(t *testing.T) {
	h := newHarness(t)
	a := h.face(wire.RouteEnroll, 1)
	h.mustStatus(a, wire.StatusNew)
	// Person 1 blended with person 2: close to 1 but not a clear match.
	c := h.challenge()
	var frames [][]byte
	// Same geometry as a performance, blended identity.
	perf := performance(t, 1, c.Actions, false)
	for i := range perf {
		img, err := decodePNG(perf[i])
		if err != nil {
			t.Fatal(err)
		}
		s := readScene(img)
		s.blend = 1
		frames = append(frames, drawFrame(t, s))
	}
	r := h.faceWith(wire.RouteEnroll, c, frames)
	if r.Status != wire.StatusRejected || r.Reason != wire.CodeAmbiguousMatch || r.Entropy != nil || r.UniqueID != "" {
		t.Fatalf("got %s %s %q", r.Status, r.Reason, r.UniqueID)
	}
	if h.svc.Identities() != 1 {
		t.Fatal("ambiguous enrolled")
	}
}

func TestConcurrentEnrolmentsOneIdentity(t *testing.T) {
	h := newHarness(t)
	const n = 16
	chs := make([]wire.ChallengeResponse, n)
	frames := make([][][]byte, n)
	for i := range chs {
		chs[i] = h.challenge()
		frames[i] = performance(t, 7, chs[i].Actions, false)
	}
	var wg sync.WaitGroup
	out := make([]wire.Response, n)
	for i := range n {
		wg.Go(func() { out[i] = h.faceWith(wire.RouteEnroll, chs[i], frames[i]) })
	}
	wg.Wait()
	news, ids := 0, map[string]bool{}
	for _, r := range out {
		if r.Status == wire.StatusNew {
			news++
		}
		if r.Status != wire.StatusNew && r.Status != wire.StatusExisting {
			t.Fatalf("status %s %s", r.Status, r.Reason)
		}
		ids[fmtID(r)] = true
	}
	if news != 1 || len(ids) != 1 || h.svc.Identities() != 1 {
		t.Fatalf("%d new, %d distinct identities, %d enrolled", news, len(ids), h.svc.Identities())
	}
	if h.log.Puts() != n {
		t.Fatalf("%d writes for %d requests", h.log.Puts(), n)
	}
}

// TestCuriousParent looks at everything the parent handles — every request
// and response body at the enclave's HTTP boundary and every journal record
// — and finds no unique ID, entropy or vector bytes; new, existing,
// not_found, deleted and rejected answers are one size, with one write each.
func TestCuriousParent(t *testing.T) {
	var logs syncbuf.Buffer
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	type step struct {
		route  string
		person int
		want   wire.Status
	}
	steps := []step{
		{wire.RouteEnroll, 1, wire.StatusNew},
		{wire.RouteEnroll, 1, wire.StatusExisting},
		{wire.RouteLogin, 1, wire.StatusExisting},
		{wire.RouteLogin, 2, wire.StatusNotFound},
		{wire.RouteEnroll, 2, wire.StatusNew},
		{wire.RouteDelete, 2, wire.StatusDeleted},
	}
	var secrets [][]byte
	faceResponses := map[int]bool{}
	writes := []int{}
	for _, s := range steps {
		before := h.log.Puts()
		r := h.face(s.route, s.person)
		h.mustStatus(r, s.want)
		writes = append(writes, h.log.Puts()-before)
		if r.UniqueID != "" {
			secrets = append(secrets, []byte(r.UniqueID), []byte(strings.ReplaceAll(r.UniqueID, "-", "")))
			raw, _ := hex.DecodeString(strings.ReplaceAll(r.UniqueID, "-", ""))
			secrets = append(secrets, raw)
		}
		if r.Entropy != nil {
			secrets = append(secrets, r.Entropy)
		}
		h.tap.mu.Lock()
		faceResponses[len(h.tap.responses[len(h.tap.responses)-1])] = true
		h.tap.mu.Unlock()
	}
	// A refused request too.
	c := h.challenge()
	r := h.faceWith(wire.RouteEnroll, c, performance(t, 3, c.Actions, false)[:2])
	if r.Status != wire.StatusRejected {
		t.Fatal(r.Status)
	}
	h.tap.mu.Lock()
	faceResponses[len(h.tap.responses[len(h.tap.responses)-1])] = true
	h.tap.mu.Unlock()
	if len(faceResponses) != 1 {
		t.Fatalf("face responses differ in size: %v", faceResponses)
	}
	for i, w := range writes {
		if w != 1 {
			t.Fatalf("step %d made %d writes", i, w)
		}
	}
	// Vector bytes: any 8-byte window of the persons' vectors.
	for _, p := range []int{1, 2} {
		v := vectorBytes(personVector(p, 64))
		for i := 0; i+8 <= len(v); i += 8 {
			secrets = append(secrets, v[i:i+8])
		}
	}
	var seen [][]byte
	h.tap.mu.Lock()
	seen = append(seen, h.tap.requests...)
	seen = append(seen, h.tap.responses...)
	h.tap.mu.Unlock()
	recs := h.log.Records()
	seen = append(seen, recs...)
	// The enclave's own log lines are readable by whoever runs the host.
	if logs.Len() == 0 {
		t.Fatal("the enclave logged nothing; the log check checks nothing")
	}
	seen = append(seen, logs.Bytes())
	for _, word := range []string{`"new"`, `"existing"`, "not_found", "deleted", "too_few_frames"} {
		if bytes.Contains(logs.Bytes(), []byte(word)) {
			t.Fatalf("the enclave's log tells outcomes apart: %s", word)
		}
	}
	for _, blob := range seen {
		for _, s := range secrets {
			if len(s) >= 8 && bytes.Contains(blob, s) {
				t.Fatalf("the parent saw secret bytes %x", s)
			}
		}
	}
	sizes := map[int]bool{}
	for _, r := range recs {
		sizes[len(r)] = true
	}
	if len(sizes) != 1 {
		t.Fatalf("journal records differ in size: %v", sizes)
	}
}

func TestJournalWriteFailure(t *testing.T) {
	h := newHarness(t)
	h.log.Fail = errors.New("disk full")
	r := h.face(wire.RouteEnroll, 1)
	if r.Status != wire.StatusRejected || r.Reason != wire.CodeUnavailable || r.UniqueID != "" {
		t.Fatalf("got %s %s %q", r.Status, r.Reason, r.UniqueID)
	}
	if h.svc.Identities() != 0 {
		t.Fatal("enrolled without a durable write")
	}
	h.log.Fail = nil
	h.mustStatus(h.face(wire.RouteEnroll, 1), wire.StatusNew)
}

func TestNewRejectsBadConfig(t *testing.T) {
	eng := fakeEngine{dim: 8}
	j, _ := NewSealedJournal(&MemLog{}, make([]byte, 32), seededRand(1), 8)
	good := Config{Attester: &recordingAttester{rand: seededRand(1)}, Engine: eng, Policy: testPolicy(eng), Journal: j, Now: time.Now}
	tests := []struct {
		name string
		mut  func(*Config)
	}{
		{"no attester", func(c *Config) { c.Attester = nil }},
		{"no clock", func(c *Config) { c.Now = nil }},
		{"no journal", func(c *Config) { c.Journal = nil }},
		{"other engine", func(c *Config) { c.Policy.Engine = "other" }},
		{"other weights", func(c *Config) { c.Policy.ModelSHA256 = make([]byte, 32) }},
		{"thresholds", func(c *Config) { c.Policy.NewThreshold = 0.9 }},
		{"frames", func(c *Config) { c.Policy.MaxFrames = 1 }},
		{"ttl", func(c *Config) { c.Policy.ChallengeTTLMS = 0 }},
		{"unknown action", func(c *Config) { c.Policy.Actions = []string{"dance"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.Policy.Actions = append([]string(nil), good.Policy.Actions...)
			tt.mut(&c)
			if s, err := New(context.Background(), c); err == nil || s != nil {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}

func TestServeOnListener(t *testing.T) {
	h := newHarness(t)
	l, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.svc.Serve(ctx, l) }()
	res, err := http.Get(fmt.Sprintf("http://%s%s", l.Addr(), wire.RouteReadyz))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
