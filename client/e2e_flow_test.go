package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/internal/simtest"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// seen collects what the client learnt, to search the parent's view for it.
type seen struct {
	mu      sync.Mutex
	ids     []string
	entropy [][]byte
}

func (s *seen) result(r *client.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.UniqueID != "" {
		s.ids = append(s.ids, r.UniqueID)
	}
	if r.Entropy != nil {
		s.entropy = append(s.entropy, slices.Clone(r.Entropy))
	}
}

// TestEndToEnd runs every status through the real simulator and then looks
// at the run as a curious parent would: every byte it forwarded, every
// record it stored and every log line it wrote.
func TestEndToEnd(t *testing.T) {
	st := requireStack(t)
	rec := &recorder{}
	c := newClient(t, st, rec)
	ctx := context.Background()
	r := recordings(t, c)
	var saw seen
	var submitted [][][]byte
	var subMu sync.Mutex
	// wrap records the frames each face request sent (for the vector search).
	wrap := func(op capture.Op) capture.Op {
		return func(ctx context.Context, ch *client.Challenge, frames [][]byte, segs ...wire.Segment) (*client.Result, error) {
			subMu.Lock()
			submitted = append(submitted, frames)
			subMu.Unlock()
			return op(ctx, ch, frames, segs...)
		}
	}

	// Other tests may have enrolled A or B already: start from a gallery
	// without them.
	for _, who := range [][]capture.Frame{r.A1, r.B1} {
		res, err := perform(t, ctx, c, c.Delete, who)
		if err != nil {
			t.Fatalf("reset: %v", err)
		}
		t.Logf("reset: %s", res.Status)
	}
	rec.mu.Lock()
	rec.exchanges = nil
	rec.mu.Unlock()
	writesBefore := len(storeFiles(t, st))
	type step struct {
		name   string
		op     capture.Op
		frames []capture.Frame
		want   wire.Status
		sameAs int // index of the step whose ID this one must repeat, or -1
	}
	steps := []step{
		{"A enrols", c.Enroll, r.A1, wire.StatusNew, -1},
		{"A enrols again from other frames", c.Enroll, r.A2, wire.StatusExisting, 0},
		{"A logs in", c.Login, r.A1, wire.StatusExisting, 0},
		{"B logs in before enrolling", c.Login, r.B1, wire.StatusNotFound, -1},
		{"B deletes before enrolling", c.Delete, r.B2, wire.StatusNotFound, -1},
		{"B enrols", c.Enroll, r.B1, wire.StatusNew, -1},
		{"B logs in from another recording", c.Login, r.B2, wire.StatusExisting, 5},
		{"B deletes", c.Delete, r.B2, wire.StatusDeleted, 5},
		{"B logs in after deleting", c.Login, r.B1, wire.StatusNotFound, -1},
	}
	results := make([]*client.Result, len(steps))
	for i, s := range steps {
		before := storeFiles(t, st)
		res, err := perform(t, ctx, c, wrap(s.op), s.frames)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		results[i] = res
		saw.result(res)
		if res.Status != s.want {
			t.Fatalf("%s: status %s, want %s", s.name, res.Status, s.want)
		}
		if s.sameAs >= 0 && res.UniqueID != results[s.sameAs].UniqueID {
			t.Fatalf("%s: unique id %q, want %q", s.name, res.UniqueID, results[s.sameAs].UniqueID)
		}
		if s.want == wire.StatusExisting && s.sameAs >= 0 && !bytes.Equal(res.Entropy, results[s.sameAs].Entropy) {
			t.Fatalf("%s: different entropy for the same person", s.name)
		}
		if res.Receipt.Status != res.Status || res.Receipt.UniqueID != res.UniqueID {
			t.Fatalf("%s: receipt %+v", s.name, res.Receipt)
		}
		if n := len(storeFiles(t, st)) - len(before); n != 1 {
			t.Fatalf("%s: %d storage writes, want exactly 1", s.name, n)
		}
		t.Logf("%s: %s %s", s.name, res.Status, res.UniqueID)
	}
	if results[0].UniqueID == results[5].UniqueID {
		t.Fatal("A and B got the same unique id")
	}
	if _, err := uuid.Parse(results[0].UniqueID); err != nil {
		t.Fatal(err)
	}

	// A refusal also costs exactly one write and looks the same.
	before := storeFiles(t, st)
	_, err := demo.Replay(ctx, c, wrap(c.Enroll), r.Photo)
	var rej *client.RejectedError
	if !errors.As(err, &rej) || !rej.Sealed {
		t.Fatalf("photo replay: %v, want a sealed refusal", err)
	}
	t.Logf("photo replay: rejected %s (%s)", rej.Code, rej.Message)
	if n := len(storeFiles(t, st)) - len(before); n != 1 {
		t.Fatalf("photo replay: %d storage writes, want exactly 1", n)
	}

	t.Run("curious parent", func(t *testing.T) {
		curiousParent(t, st, rec, &saw, submitted, writesBefore)
	})
}

// curiousParent checks that nothing the parent forwarded, stored or logged
// holds a unique ID, entropy or face-vector bytes, and that outcomes cannot be
// told apart by size.
func curiousParent(t *testing.T, st *simtest.Sim, rec *recorder, saw *seen, submitted [][][]byte, writesBefore int) {
	var secrets [][]byte
	for _, id := range saw.ids {
		u := uuid.MustParse(id)
		secrets = append(secrets, []byte(id), []byte(strings.ReplaceAll(id, "-", "")), u[:])
	}
	for _, e := range saw.entropy {
		secrets = append(secrets, e, []byte(hex.EncodeToString(e)))
	}
	if len(saw.ids) < 2 || len(saw.entropy) < 2 {
		t.Fatalf("the run produced %d ids and %d entropies", len(saw.ids), len(saw.entropy))
	}
	// Vectors: recompute what the enclave computed from the frames we sent
	// (same engine, same frames) and look for any 16-byte piece of them.
	for _, v := range fusedVectors(t, submitted) {
		for off := 0; off+16 <= len(v); off += 16 {
			secrets = append(secrets, v[off:off+16])
		}
	}
	look := func(where string, data []byte) {
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s contains a secret (%x…)", where, s[:min(8, len(s))])
				return
			}
		}
	}
	ex := rec.all()
	for i, e := range ex {
		look(fmt.Sprintf("forwarded request %d (%s %s)", i, e.Method, e.Path), e.Req)
		look(fmt.Sprintf("forwarded answer %d (%s %s)", i, e.Method, e.Path), e.Resp)
	}
	files := storeFiles(t, st)
	for name, b := range files {
		look("stored record "+name, b)
	}
	look("the simulator's logs", st.Log.Bytes())

	// Sizes: every face answer the parent relayed has one size, whatever the
	// status (new, existing, not_found, deleted, rejected).
	sizes := map[int]int{}
	for _, e := range ex {
		if e.Method == "POST" && e.Path != wire.RouteChallenge && e.Status == 200 {
			sizes[len(e.Resp)]++
		}
	}
	if len(sizes) != 1 {
		t.Errorf("face answers come in %d sizes: %v", len(sizes), sizes)
	}
	// Every stored record has one size, whatever it records. Record 0 is the
	// log's header (the KMS-wrapped data key and the log's parameters,
	// enclave/state): it is written once when the log is created, before any
	// request, so its size says nothing about one.
	rsz := map[int]int{}
	for name, b := range files {
		if name == fmt.Sprintf("%020d.rec", 0) {
			continue
		}
		rsz[len(b)]++
	}
	if len(rsz) != 1 {
		t.Errorf("stored records come in %d sizes: %v", len(rsz), rsz)
	}
	if len(files)-writesBefore != 10 {
		t.Errorf("%d records for 10 face requests", len(files)-writesBefore)
	}
}

// fusedVectors recomputes, from the committed per-frame measurements, what
// the enclave computed for each submitted request: every frame's vector and
// their fusion (float32 sum, renormalised, as the enclave fuses).
func fusedVectors(t *testing.T, submitted [][][]byte) [][]byte {
	var out [][]byte
	for _, frames := range submitted {
		var sum []float32
		for _, f := range frames {
			m, ok := analysis.Frames[capture.Key(f)]
			if !ok || m.Faces != 1 {
				continue
			}
			v, err := m.VectorOf()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, floatsLE(v))
			if sum == nil {
				sum = make([]float32, len(v))
			}
			for i, x := range v {
				sum[i] += x
			}
		}
		if sum != nil && vectors.Normalize(sum) {
			out = append(out, floatsLE(sum))
		}
	}
	return out
}

func floatsLE(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// TestConcurrentEnrolmentsOfOneFace: 16 enrolments of the same new face at
// once end with exactly one "new" and 15 "existing" with the same ID.
func TestConcurrentEnrolmentsOfOneFace(t *testing.T) {
	st := requireStack(t)
	c := newClient(t, st, nil)
	r := recordings(t, c)
	// Person A's first take, enrolled by 16 devices at once. If another
	// test enrolled A already, delete A first so the face is new.
	ctx := context.Background()
	if res, err := perform(t, ctx, c, c.Delete, r.A2); err != nil {
		t.Fatalf("delete before: %v", err)
	} else {
		t.Logf("before: %s", res.Status)
	}
	const n = 16
	results := make([]*client.Result, n)
	errs := make([]error, n)
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			// Each device gets its challenge first, then all submit together.
			ch, frames, err := pickFor(ctx, c, r.A1)
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			results[i], errs[i] = c.Enroll(ctx, ch, frames)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	news, existing := 0, 0
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("enrolment %d: %v", i, errs[i])
		}
		switch results[i].Status {
		case wire.StatusNew:
			news++
		case wire.StatusExisting:
			existing++
		}
		ids[results[i].UniqueID] = true
	}
	if news != 1 || existing != n-1 || len(ids) != 1 {
		t.Fatalf("%d new, %d existing, %d distinct ids; want 1, %d, 1", news, existing, len(ids), n-1)
	}
}

// pickFor asks for challenges until the recording can answer one.
func pickFor(ctx context.Context, c *client.Client, frames []capture.Frame) (*client.Challenge, [][]byte, error) {
	for range 60 {
		ch, err := c.Challenge(ctx)
		if err != nil {
			return nil, nil, err
		}
		picked, err := capture.PickAny(frames, ch)
		if err == nil {
			return ch, picked, nil
		}
	}
	return nil, nil, capture.ErrNoUsableChallenge
}

// postRaw sends a hand-built body to route and returns the status, media
// type and body.
func postRaw(t *testing.T, url, route string, body []byte) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+route, bytes.NewReader(body))
	req.Header.Set("Content-Type", wire.MediaTypeRequest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, mt, b
}

func plainCode(t *testing.T, status int, mt string, body []byte) wire.Code {
	t.Helper()
	if mt != "application/json" {
		t.Fatalf("status %d %s: not a plain error", status, mt)
	}
	var er wire.ErrorResponse
	if err := jsonUnmarshal(body, &er); err != nil {
		t.Fatal(err)
	}
	return er.Error.Code
}

func sealedFace(t *testing.T, st *simtest.Sim, kc wire.KeyConfig, route string, req wire.FaceRequest) (wire.Response, []byte, *wire.ResponseOpener) {
	t.Helper()
	pt, err := wire.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, opener, err := wire.SealRequest(kc, route, pt)
	if err != nil {
		t.Fatal(err)
	}
	return openFace(t, st, route, msg, opener), msg, opener
}

func openFace(t *testing.T, st *simtest.Sim, route string, msg []byte, opener *wire.ResponseOpener) wire.Response {
	t.Helper()
	status, mt, body := postRaw(t, st.URL, route, msg)
	if status != 200 || mt != wire.MediaTypeResponse {
		t.Fatalf("%s: %d %s %s", route, status, mt, body)
	}
	pt, err := opener.Open(body)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.Response
	if err := wire.UnmarshalPadded(pt, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func solidJPEG(t *testing.T, w, h int, c color.Gray) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = c.Y + uint8(i%7) // a little texture so frames differ
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a PNG header claiming width×height pixels, with no pixel data:
// the limit must trip on the header, before anything is inflated.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// TestBadInputs sends every kind of bad input through the real stack and
// checks its stable code, that refusals before the envelope opens write
// nothing, that refusals after it write exactly one (indistinguishable)
// record, and that the gallery is unchanged at the end.
func TestBadInputs(t *testing.T) {
	st := requireStack(t)
	c := newClient(t, st, nil)
	ctx := context.Background()
	r := recordings(t, c)
	a, err := c.Attest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := a.Binding.Policy
	kc := a.KeyConfig

	// A known person to check the gallery against afterwards.
	ref, err := perform(t, ctx, c, c.Enroll, r.A1)
	if err != nil {
		t.Fatalf("reference enrolment: %v", err)
	}

	good := func() (*client.Challenge, [][]byte) {
		ch, frames, err := pickFor(ctx, c, r.A2)
		if err != nil {
			t.Fatal(err)
		}
		return ch, frames
	}
	neutral := func(k int) [][]byte {
		var out [][]byte
		for _, f := range append(slices.Clone(r.A1), r.A2...) {
			if f.Faces == 1 && f.Yaw > -4 && f.Yaw < 4 && f.MouthOpen < 0.12 && len(out) < k {
				out = append(out, f.Data)
			}
		}
		if len(out) < k {
			t.Fatalf("only %d neutral frames", len(out))
		}
		return out
	}
	dataOf := func(fs []capture.Frame, k int) [][]byte {
		var out [][]byte
		for i := 0; i < len(fs) && len(out) < k; i++ {
			out = append(out, fs[i].Data)
		}
		for len(out) < k { // pad by cycling (the refusal must come first)
			out = append(out, fs[len(out)%len(fs)].Data)
		}
		return out
	}
	threePeople := readDirFrames(t, "three-people")

	type sealedCase struct {
		name   string
		frames func() [][]byte
		want   []wire.Code
	}
	cases := []sealedCase{
		{"too many frames", func() [][]byte { return dataOf(r.A2, p.MaxFrames+1) }, []wire.Code{wire.CodeTooManyFrames}},
		{"too few frames", func() [][]byte { return dataOf(r.A2, max(p.MinFrames-1, 0)) }, []wire.Code{wire.CodeTooFewFrames}},
		{"frame too big", func() [][]byte {
			fs := dataOf(r.A2, p.MinFrames)
			fs[1] = append(slices.Clone(fs[1]), make([]byte, p.MaxFrameBytes)...)
			return fs
		}, []wire.Code{wire.CodeFrameTooLarge}},
		{"undecodable frame", func() [][]byte {
			fs := dataOf(r.A2, p.MinFrames)
			fs[2] = []byte("this is not a JPEG or a PNG")
			return fs
		}, []wire.Code{wire.CodeFrameUndecodable}},
		{"decompression bomb", func() [][]byte {
			fs := dataOf(r.A2, p.MinFrames)
			fs[0] = pngBomb(30000, 30000)
			return fs
		}, []wire.Code{wire.CodeTooManyPixels}},
		{"no face", func() [][]byte {
			var fs [][]byte
			for i := range p.MinFrames {
				fs = append(fs, solidJPEG(t, 320, 240, color.Gray{Y: uint8(90 + 10*i)}))
			}
			return fs
		}, []wire.Code{wire.CodeNoFace}},
		{"several faces", func() [][]byte { return dataOf(threePeople, p.MinFrames) }, []wire.Code{wire.CodeSeveralFaces}},
		{"wrong actions", func() [][]byte { return neutral(p.MinFrames) }, []wire.Code{wire.CodeWrongActions, wire.CodeLivenessFailed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := c.Challenge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before := storeFiles(t, st)
			resp, _, _ := sealedFace(t, st, kc, wire.RouteEnroll, wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: tc.frames()})
			if resp.Status != wire.StatusRejected || !slices.Contains(tc.want, resp.Reason) {
				t.Fatalf("got %s %s (%s), want rejected %v", resp.Status, resp.Reason, resp.Message, tc.want)
			}
			if resp.UniqueID != "" || resp.Entropy != nil {
				t.Fatal("a refusal carries an identity")
			}
			if n := len(storeFiles(t, st)) - len(before); n != 1 {
				t.Fatalf("%d storage writes, want exactly 1 (indistinguishable)", n)
			}
		})
	}

	t.Run("replayed request", func(t *testing.T) {
		ch, frames := good()
		first, msg, opener := sealedFace(t, st, kc, wire.RouteLogin, wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: frames})
		if first.Status != wire.StatusExisting || first.UniqueID != ref.UniqueID {
			t.Fatalf("first: %s %s %s", first.Status, first.Reason, first.Message)
		}
		again := openFace(t, st, wire.RouteLogin, msg, opener)
		if again.Status != wire.StatusRejected || again.Reason != wire.CodeChallengeReused {
			t.Fatalf("replay: %s %s", again.Status, again.Reason)
		}
		// The same challenge in a fresh envelope: still used up.
		third, _, _ := sealedFace(t, st, kc, wire.RouteLogin, wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: frames})
		if third.Status != wire.StatusRejected || third.Reason != wire.CodeChallengeReused {
			t.Fatalf("reused challenge: %s %s", third.Status, third.Reason)
		}
	})
	t.Run("unknown challenge", func(t *testing.T) {
		_, frames := good()
		id, nonce := make([]byte, 16), make([]byte, 32)
		rand.Read(id)
		rand.Read(nonce)
		resp, _, _ := sealedFace(t, st, kc, wire.RouteEnroll, wire.FaceRequest{ChallengeID: id, ChallengeNonce: nonce, Frames: frames})
		if resp.Status != wire.StatusRejected || resp.Reason != wire.CodeChallengeUnknown {
			t.Fatalf("got %s %s", resp.Status, resp.Reason)
		}
	})
	t.Run("photo replay", func(t *testing.T) {
		_, err := demo.Replay(ctx, c, c.Enroll, r.Photo)
		var rej *client.RejectedError
		if !errors.As(err, &rej) || !rej.Sealed {
			t.Fatalf("got %v", err)
		}
		t.Logf("photo replay refused: %s", rej.Code)
	})

	// Refusals before the envelope opens: plain JSON, nothing stored.
	ch, frames := good()
	pt, _ := wire.Marshal(wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: frames})
	msg, _, err := wire.SealRequest(kc, wire.RouteEnroll, pt)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { m := slices.Clone(msg); m[i] ^= 0x01; return m }
	plain := []struct {
		name  string
		route string
		body  []byte
		want  wire.Code
	}{
		{"corrupt envelope", wire.RouteEnroll, []byte{1, 2, 3}, wire.CodeBadEnvelope},
		{"unknown key id", wire.RouteEnroll, flip(0), wire.CodeUnknownKeyID},
		{"unsupported suite", wire.RouteEnroll, flip(6), wire.CodeUnsupportedSuite},
		{"tampered ciphertext", wire.RouteEnroll, flip(len(msg) - 1), wire.CodeDecryptFailed},
		{"replayed to another route", wire.RouteLogin, msg, wire.CodeDecryptFailed},
	}
	for _, tc := range plain {
		t.Run(tc.name, func(t *testing.T) {
			before := storeFiles(t, st)
			status, mt, body := postRaw(t, st.URL, tc.route, tc.body)
			if got := plainCode(t, status, mt, body); got != tc.want || status < 400 {
				t.Fatalf("got %d %s, want %s", status, got, tc.want)
			}
			if n := len(storeFiles(t, st)) - len(before); n != 0 {
				t.Fatalf("%d storage writes for a request that never opened", n)
			}
		})
	}
	t.Run("challenge still usable after refusals before it opened", func(t *testing.T) {
		resp, _, _ := sealedFace(t, st, kc, wire.RouteLogin, wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: frames})
		if resp.Status != wire.StatusExisting || resp.UniqueID != ref.UniqueID {
			t.Fatalf("got %s %s", resp.Status, resp.Reason)
		}
	})

	t.Run("expired challenge", func(t *testing.T) {
		if wait := time.Until(expiring.ExpiresAt); wait > 0 {
			t.Logf("waiting %v for the challenge to expire", wait.Round(time.Second))
			if wait > 3*time.Minute {
				t.Fatalf("challenge TTL %v is too long to wait for in a test", wait)
			}
			time.Sleep(wait + time.Second)
		}
		_, frames := good()
		resp, _, _ := sealedFace(t, st, kc, wire.RouteEnroll, wire.FaceRequest{ChallengeID: expiring.ID, ChallengeNonce: expiring.Nonce, Frames: frames})
		if resp.Status != wire.StatusRejected || (resp.Reason != wire.CodeChallengeExpired && resp.Reason != wire.CodeChallengeUnknown) {
			t.Fatalf("got %s %s", resp.Status, resp.Reason)
		}
	})

	// Nothing above changed the gallery: A is still A, and the frames of
	// the refused requests enrolled nobody.
	res, err := perform(t, ctx, c, c.Login, r.A2)
	if err != nil || res.Status != wire.StatusExisting || res.UniqueID != ref.UniqueID || !bytes.Equal(res.Entropy, ref.Entropy) {
		t.Fatalf("after the bad inputs, A logs in as %v %v", res, err)
	}
}
