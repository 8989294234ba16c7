package enclave

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/simulator"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
)

// seededRand is a deterministic randomness source for tests (ChaCha8).
func seededRand(seed uint64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// newSimNSM is the simulated Nitro Security Module the harness boots the
// enclave with (real NSM document encoding, its own CA, non-zero PCRs).
func newSimNSM(t testing.TB, now func() time.Time, seed uint64) *simulator.NSM {
	t.Helper()
	ca, err := simulator.NewCA(seededRand(seed+100), now())
	if err != nil {
		t.Fatal(err)
	}
	pcrs := map[int][]byte{0: bytes.Repeat([]byte{0xa0}, 48), 1: bytes.Repeat([]byte{0xa1}, 48), 2: bytes.Repeat([]byte{0xa2}, 48)}
	n, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: pcrs, Clock: now, Rand: seededRand(seed)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// recordingAttester records the requests it was asked to attest and returns
// them encoded: for configuration tests that need no documents.
type recordingAttester struct {
	rand io.Reader
	mu   sync.Mutex
	reqs []attest.Request
}

func (a *recordingAttester) Attest(r attest.Request) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs = append(a.reqs, r)
	return wire.Marshal(map[string][]byte{"nonce": r.Nonce, "user_data": r.UserData})
}

func (a *recordingAttester) Random() io.Reader { return a.rand }

var _ attest.Attester = (*recordingAttester)(nil)

// fakeEngine reads the scene a test drew into a synthetic frame (see
// drawFrame) instead of running a CNN: it exercises the pipeline's logic,
// not face recognition. Liveness on real frames uses the real engine.
type fakeEngine struct{ dim int }

var _ vectors.Engine = fakeEngine{}

func (fakeEngine) ID() string            { return "fake-engine" }
func (fakeEngine) ModelSHA256() [32]byte { return sha256.Sum256([]byte("fake-engine")) }
func (e fakeEngine) Dim() int            { return e.dim }

// scene is what a synthetic frame shows.
type scene struct {
	person int     // identity; 0 = no face
	faces  int     // faces in the frame
	yaw    float32 // degrees, positive = the user's left
	mouth  float32 // MouthOpen ratio
	flat   bool    // a photo: landmarks move as a plane
	noise  uint8   // frame-to-frame texture
	blend  int     // mix the person's vector with person+blend (ambiguity tests)
	view   int     // another view of the person (templates tests): a direction added to the vector…
	drift  int     // …with weight drift/10 (cosine to the plain person 1/√(1+(drift/10)²))
}

const frameSide = 64

// drawFrame encodes s into a PNG: row 0 holds the parameters, the rest a
// texture that differs per noise value.
func drawFrame(t testing.TB, s scene) []byte {
	t.Helper()
	if b, ok := frameCache.Load(s); ok {
		return bytes.Clone(b.([]byte))
	}
	img := image.NewNRGBA(image.Rect(0, 0, frameSide, frameSide))
	for y := 1; y < frameSide; y++ {
		for x := 0; x < frameSide; x++ {
			v := uint8((x*7 + y*13 + int(s.noise)*37) % 251)
			img.SetNRGBA(x, y, color.NRGBA{v, v ^ s.noise, v, 255})
		}
	}
	flat := uint8(0)
	if s.flat {
		flat = 1
	}
	params := []uint8{uint8(s.person), uint8(s.faces), uint8(int(s.yaw) + 128), uint8(s.mouth * 100), flat, s.noise, uint8(s.blend), uint8(s.view), uint8(s.drift)}
	for i, p := range params {
		img.SetNRGBA(i, 0, color.NRGBA{p, 0, 0, 255})
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	frameCache.Store(s, bytes.Clone(b.Bytes()))
	return b.Bytes()
}

// frameCache memoises drawFrame: PNG encoding dominates test time under -race.
var frameCache sync.Map

func readScene(img image.Image) scene {
	p := func(i int) uint8 { r, _, _, _ := img.At(i, 0).RGBA(); return uint8(r >> 8) }
	return scene{person: int(p(0)), faces: int(p(1)), yaw: float32(int(p(2)) - 128), mouth: float32(p(3)) / 100, flat: p(4) == 1, noise: p(5), blend: int(p(6)), view: int(p(7)), drift: int(p(8))}
}

func (fakeEngine) Detect(img image.Image) ([]vectors.Face, error) {
	s := readScene(img)
	if s.faces == 0 {
		return nil, fmt.Errorf("fake engine: %w", vectors.ErrNoFace) // as the real detector does
	}
	var out []vectors.Face
	for i := 0; i < s.faces; i++ {
		out = append(out, fakeFace(s))
	}
	return out, nil
}

// fakeFace places the five points of a head of yaw s.yaw: eyes and mouth
// corners on a plane, the nose 0.6 eye-distances in front of it (a 3-D head),
// or on the plane (a photo).
func fakeFace(s scene) vectors.Face {
	th := float64(s.yaw) * math.Pi / 180
	c, sn := math.Cos(th), math.Sin(th)
	const cx, cy, e = 32.0, 32.0, 14.0
	proj := func(x, y, z float64) vectors.Point {
		return vectors.Point{X: float32(cx + e*(x*c+z*sn)), Y: float32(cy + e*y)}
	}
	depth := 0.6
	if s.flat {
		depth = 0
	}
	f := vectors.Face{
		Box:       vectors.Box{X: 16, Y: 16, W: 64, H: 64},
		Score:     0.99,
		Yaw:       s.yaw,
		MouthOpen: s.mouth,
	}
	f.Five[vectors.LeftEye] = proj(-0.5, -0.4, 0)
	f.Five[vectors.RightEye] = proj(0.5, -0.4, 0)
	f.Five[vectors.Nose] = proj(0, 0.1, depth)
	f.Five[vectors.LeftMouth] = proj(-0.4, 0.6, 0)
	f.Five[vectors.RightMouth] = proj(0.4, 0.6, 0)
	return f
}

func personVector(person, dim int) []float32 {
	r := rand.New(rand.NewPCG(uint64(person), 99))
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	vectors.Normalize(v)
	return v
}

func (e fakeEngine) Embed(img image.Image, _ vectors.Face) (vectors.FaceVector, error) {
	s := readScene(img)
	if s.person == 0 {
		return vectors.FaceVector{}, errors.New("fake engine: no face")
	}
	v := personVector(s.person, e.dim)
	if s.blend != 0 {
		w := personVector(s.person+s.blend, e.dim)
		for i := range v {
			v[i] += 1.7 * w[i] // cosine ≈ 0.5 to the person: between the thresholds
		}
	}
	if s.view != 0 {
		w := viewVector(s.person, s.view, e.dim)
		for i := range v {
			v[i] += float32(s.drift) / 10 * w[i]
		}
		vectors.Normalize(v)
	}
	noise := personVector(1000+int(s.noise), e.dim)
	for i := range v {
		v[i] += 0.1 * noise[i]
	}
	vectors.Normalize(v)
	return vectors.FaceVector{Engine: e.ID(), ModelSHA256: e.ModelSHA256(), Values: v}, nil
}

// viewVector is the direction view adds to person's vector.
func viewVector(person, view, dim int) []float32 { return personVector(5000+100*person+view, dim) }

// performance draws frames of person performing actions in order, starting
// and ending frontal.
func performance(t testing.TB, person int, actions []string, flat bool) [][]byte {
	t.Helper()
	return performanceOf(t, scene{person: person, flat: flat}, actions)
}

// performanceOf draws frames of the scene base (person, view, drift, flat)
// performing actions in order, starting and ending frontal.
func performanceOf(t testing.TB, base scene, actions []string) [][]byte {
	t.Helper()
	noise := uint8(base.person*17 + base.view*5 + base.drift*3)
	var out [][]byte
	add := func(yaw, mouth float32) {
		noise++
		sc := base
		sc.faces, sc.yaw, sc.mouth, sc.noise = 1, yaw, mouth, noise
		out = append(out, drawFrame(t, sc))
	}
	add(0, 0.05)
	for _, a := range actions {
		switch a {
		case wire.ActionTurnLeft:
			add(12, 0.05)
			add(30, 0.05)
		case wire.ActionTurnRight:
			add(-12, 0.05)
			add(-30, 0.05)
		case wire.ActionOpenMouth:
			add(0, 0.05)
			add(0, 0.5)
		case wire.ActionFaceFront:
			add(25, 0.05)
			add(0, 0.05)
		}
	}
	add(0, 0.05)
	return out
}

func testPolicy(e vectors.Engine) wire.Policy {
	h := e.ModelSHA256()
	return wire.Policy{
		Engine: e.ID(), ModelSHA256: h[:],
		MatchThreshold: 0.6, NewThreshold: 0.4, Margin: 0.1,
		Actions:        []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth},
		ChallengeTTLMS: 60_000,
		MinFrames:      3, MaxFrames: 12, MaxFrameBytes: 32 << 10, MaxPixels: 200 * 200,
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// harness is a service served on a loopback listener, with the journal on a
// MemLog and a client that seals requests.
type harness struct {
	t       testing.TB
	svc     *Service
	log     *MemLog
	clock   *clock
	base    string
	http    *http.Client
	binding wire.Binding
	dataKey []byte
	tap     *tap
	nsm     *simulator.NSM
	seed    uint64 // varies the randomness of harnesses that share a log
}

// tap records every byte that crosses the enclave's HTTP boundary.
type tap struct {
	mu        sync.Mutex
	requests  [][]byte
	responses [][]byte
}

func (tp *tap) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &recorder{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		tp.mu.Lock()
		tp.requests = append(tp.requests, body)
		tp.responses = append(tp.responses, rw.buf.Bytes())
		tp.mu.Unlock()
	})
}

type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) { r.buf.Write(b); return r.ResponseWriter.Write(b) }

type harnessOpt func(*Config)

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessWith(t, fakeEngine{dim: 64}, opts...)
}

func newHarnessWith(t testing.TB, eng vectors.Engine, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, log: &MemLog{}, clock: &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}, dataKey: bytes.Repeat([]byte{0x42}, 32), tap: &tap{}}
	h.startWith(eng, opts...)
	return h
}

var testStart = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func (h *harness) start(opts ...harnessOpt) { h.startWith(fakeEngine{dim: 64}, opts...) }

func (h *harness) startWith(eng vectors.Engine, opts ...harnessOpt) {
	t := h.t
	j, err := NewSealedJournal(h.log, h.dataKey, seededRand(2+1000*h.seed), eng.Dim())
	if err != nil {
		t.Fatal(err)
	}
	h.nsm = newSimNSM(t, h.clock.Now, 1+1000*h.seed)
	pol := testPolicy(eng)
	if _, fake := eng.(fakeEngine); !fake {
		pol = DefaultPolicy(eng)
	}
	cfg := Config{Attester: h.nsm, Engine: eng, Policy: pol, Journal: j, Now: h.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &http.Server{Handler: h.tap.wrap(svc.Handler())}
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
		<-done
	})
	_ = ctx
	h.svc, h.base, h.http, h.binding = svc, "http://"+l.Addr().String(), &http.Client{Timeout: time.Minute}, svc.Binding()
}

// post sends body to route and returns status and body.
func (h *harness) post(route, ctype string, body []byte) (int, []byte) {
	h.t.Helper()
	res, err := h.http.Post(h.base+route, ctype, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.StatusCode, b
}

// sealedCall seals v for route, posts it, and opens the answer into out.
func (h *harness) sealedCall(route string, v any, out any) {
	h.t.Helper()
	kc, err := wire.ParseKeyConfig(h.binding.KeyConfig)
	if err != nil {
		h.t.Fatal(err)
	}
	pt, err := wire.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	req, opener, err := wire.SealRequest(kc, route, pt)
	if err != nil {
		h.t.Fatal(err)
	}
	st, body := h.post(route, wire.MediaTypeRequest, req)
	if st != http.StatusOK {
		h.t.Fatalf("%s: HTTP %d %s", route, st, body)
	}
	plain, err := opener.Open(body)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := wire.UnmarshalPadded(plain, out); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) challenge() wire.ChallengeResponse {
	h.t.Helper()
	var c wire.ChallengeResponse
	h.sealedCall(wire.RouteChallenge, wire.ChallengeRequest{}, &c)
	if c.Reason != "" {
		h.t.Fatalf("challenge refused: %s %s", c.Reason, c.Message)
	}
	return c
}

// face runs route for person performing the challenge's actions.
func (h *harness) face(route string, person int) wire.Response {
	h.t.Helper()
	c := h.challenge()
	return h.faceWith(route, c, performance(h.t, person, c.Actions, false))
}

func (h *harness) faceWith(route string, c wire.ChallengeResponse, frames [][]byte) wire.Response {
	h.t.Helper()
	var r wire.Response
	h.sealedCall(route, wire.FaceRequest{ChallengeID: c.ID, ChallengeNonce: c.Nonce, Frames: frames}, &r)
	return r
}

func (h *harness) mustStatus(r wire.Response, want wire.Status) {
	h.t.Helper()
	if r.Status != want {
		h.t.Fatalf("status %s (%s: %s), want %s", r.Status, r.Reason, r.Message, want)
	}
	if r.Receipt == nil {
		h.t.Fatal("no receipt")
	}
	rc, err := r.Receipt.Open(h.binding)
	if err != nil {
		h.t.Fatal(err)
	}
	if rc.Status != want || rc.UniqueID != r.UniqueID {
		h.t.Fatalf("receipt %+v for %s %s", rc, r.Status, r.UniqueID)
	}
}

func fmtID(r wire.Response) string { return fmt.Sprintf("%s/%x", r.UniqueID, r.Entropy) }

func decodePNG(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
