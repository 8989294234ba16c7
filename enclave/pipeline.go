package enclave

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// face returns the handler of one sealed face route.
func (s *Service) face(route string) sealedHandler {
	return func(ctx context.Context, pt []byte) []byte {
		resp := s.runFace(ctx, route, pt)
		timerFrom(ctx).enter(stSeal)
		b, err := resp.MarshalPadded()
		if err != nil {
			s.log.Error("response encoding failed", "route", route, "err", err)
			b, _ = s.rejected(wire.Errorf(wire.CodeInternal, "response encoding failed")).MarshalPadded()
		}
		clear(resp.Entropy)
		return b
	}
}

// runFace is one enrol / login / delete: exactly one journal write happens
// whatever the outcome, and the answer is given only after it is durable.
func (s *Service) runFace(ctx context.Context, route string, pt []byte) wire.Response {
	var req wire.FaceRequest
	if err := wire.UnmarshalPadded(pt, &req); err != nil {
		return s.rejectAfterWrite(ctx, wire.Errorf(wire.CodeBadRequest, "face request does not decode"))
	}
	defer func() {
		for _, f := range req.Frames {
			clear(f)
		}
	}()
	t := timerFrom(ctx)
	t.enter(stQueue)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return s.rejected(wire.Errorf(wire.CodeUnavailable, "request cancelled"))
	}
	obs, err := s.observe(ctx, &req)
	<-s.sem
	if err != nil {
		return s.rejectAfterWrite(ctx, err)
	}
	t.enter(stSearch)
	fused, err := fuse(obs)
	for i := range obs {
		clear(obs[i].Vector.Values)
	}
	if err != nil {
		return s.rejectAfterWrite(ctx, err)
	}
	defer clear(fused.Values)
	return s.decideAndCommit(ctx, route, fused)
}

// observe checks the request's limits and challenge, decodes every frame,
// finds its face, embeds it, and runs the liveness check. The frames run in
// parallel on the service's one [framePool]; the result and the error are
// those of running them in order. Pixels are zeroed as soon as each
// frame's vector and patch exist.
func (s *Service) observe(ctx context.Context, req *wire.FaceRequest) ([]Observation, error) {
	p := s.policy
	switch n := len(req.Frames); {
	case n > p.MaxFrames:
		return nil, wire.Errorf(wire.CodeTooManyFrames, "%d frames, at most %d", n, p.MaxFrames)
	case n < p.MinFrames:
		return nil, wire.Errorf(wire.CodeTooFewFrames, "%d frames, at least %d", n, p.MinFrames)
	}
	lim := imageio.Limits{MaxBytes: int64(p.MaxFrameBytes), MaxPixels: int64(p.MaxPixels)}
	for i, f := range req.Frames {
		if len(f) > p.MaxFrameBytes {
			return nil, wire.Errorf(wire.CodeFrameTooLarge, "frame %d is %d bytes, at most %d", i, len(f), p.MaxFrameBytes)
		}
	}
	// Headers only, before the challenge is spent: nothing client-caused
	// and cheap to detect changes state.
	for i, f := range req.Frames {
		if _, _, err := imageio.Check(f, lim); err != nil {
			return nil, frameError(i, err)
		}
	}
	now := s.now()
	ch, err := s.challenges.Consume(req.ChallengeID, req.ChallengeNonce, now)
	if err != nil {
		return nil, err
	}
	obs := make([]Observation, len(req.Frames))
	fail := func(err error) ([]Observation, error) {
		for i := range obs {
			clear(obs[i].Vector.Values)
		}
		return nil, err
	}
	minFace := float32(DefaultLivenessConfig(p.MinFrames).MinFaceSize)
	t := timerFrom(ctx)
	t.enter(stFrames)
	if err := s.observeFrames(ctx, req.Frames, obs, lim, minFace); err != nil {
		return fail(err)
	}
	t.enter(stLiveness)
	in := LivenessInput{Now: now, Challenge: ch, Segments: req.Segments, Frames: obs}
	if err := s.liveness.Check(in); err != nil {
		if wire.CodeOf(err) == wire.CodeInternal {
			err = wire.Errorf(wire.CodeLivenessFailed, "liveness check failed: %w", err)
		}
		return fail(err)
	}
	return obs, nil
}

// observeFrames fills obs[i] from frames[i] on the frame pool. Its result
// is what observing the frames one after the other gives: the observations
// when every frame is usable, else the error of the first unusable frame
// (frames after a failed one may be skipped).
func (s *Service) observeFrames(ctx context.Context, frames [][]byte, obs []Observation, lim imageio.Limits, minFace float32) error {
	err := s.frames.each(ctx, len(frames), func(i int) error {
		o, err := s.observeFrame(i, frames[i], lim, minFace)
		obs[i] = o
		return err
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return wire.Errorf(wire.CodeUnavailable, "request cancelled")
	}
	return err
}

// observeFrame turns frame i into an [Observation]: decode, detect, embed,
// patch. It runs on the frame pool; it is the same code whichever worker
// runs it, and reads nothing another frame writes.
func (s *Service) observeFrame(i int, data []byte, lim imageio.Limits, minFace float32) (Observation, error) {
	fl := s.frameLaps()
	defer fl.done()
	img, _, err := imageio.Decode(data, lim)
	fl.lap(stDecode)
	if err != nil {
		return Observation{}, frameError(i, err)
	}
	defer clear(img.Pix)
	o := Observation{Digest: sha256.Sum256(data)}
	faces, err := s.detect(img, fl)
	if err != nil {
		return Observation{}, engineError(i, "detect", err)
	}
	o.Faces = faces
	if err := checkFaces([]Observation{o}, minFace); err != nil {
		var e *wire.Error
		if errors.As(err, &e) {
			e.Message = fmt.Sprintf("frame %d: %s", i, e.Code)
		}
		return Observation{}, err
	}
	v, err := s.embed(img, faces[0], fl)
	if err != nil {
		return Observation{}, engineError(i, "embed", err)
	}
	o.Vector = v
	o.Quality = vectors.Quality(faces[0], img)
	o.Patch = grayPatch(img, faces[0].Box)
	fl.lap(stAlign)
	return o, nil
}

// detect runs the engine's detector, timing its stages when it can.
func (s *Service) detect(img image.Image, fl *frameLaps) ([]vectors.Face, error) {
	if s.lapEngine != nil {
		return s.lapEngine.DetectLaps(img, fl)
	}
	faces, err := s.engine.Detect(img)
	fl.lap(stDetect)
	return faces, err
}

// embed runs the engine's embedder, timing its stages when it can.
func (s *Service) embed(img image.Image, f vectors.Face, fl *frameLaps) (vectors.FaceVector, error) {
	if s.lapEngine != nil {
		return s.lapEngine.EmbedLaps(img, f, fl)
	}
	v, err := s.engine.Embed(img, f)
	fl.lap(stEmbed)
	return v, err
}

// append makes the request's one journal write, timed as the journal stage.
func (s *Service) append(ctx context.Context, e Entry) error {
	t := timerFrom(ctx)
	prev := t.enter(stJournal)
	err := s.journal.Append(ctx, e)
	t.enter(prev)
	return err
}

// engineError maps the engine's face errors to client codes; anything else
// is internal.
func engineError(i int, step string, err error) error {
	switch {
	case errors.Is(err, vectors.ErrNoFace):
		return wire.Errorf(wire.CodeNoFace, "frame %d has no face", i)
	case errors.Is(err, vectors.ErrSeveralFaces):
		return wire.Errorf(wire.CodeSeveralFaces, "frame %d has several faces", i)
	case errors.Is(err, vectors.ErrFaceTooSmall):
		return wire.Errorf(wire.CodeFaceTooSmall, "frame %d: the face is too small", i)
	case errors.Is(err, vectors.ErrFaceCutOff):
		return wire.Errorf(wire.CodeNoFace, "frame %d: the face is cut off at the border", i)
	}
	return fmt.Errorf("enclave: %s frame %d: %w", step, i, err)
}

func frameError(i int, err error) error {
	switch {
	case errors.Is(err, imageio.ErrTooLarge):
		return wire.Errorf(wire.CodeFrameTooLarge, "frame %d is too large", i)
	case errors.Is(err, imageio.ErrTooManyPixels):
		return wire.Errorf(wire.CodeTooManyPixels, "frame %d has too many pixels", i)
	}
	return wire.Errorf(wire.CodeFrameUndecodable, "frame %d is not a decodable JPEG or PNG", i)
}

// grayPatch samples the face box into a PatchSize² grey patch (box averages).
func grayPatch(img *image.RGBA, box vectors.Box) []uint8 {
	out := make([]uint8, PatchSize*PatchSize)
	b := img.Bounds()
	for py := 0; py < PatchSize; py++ {
		y0 := int(box.Y + box.H*float32(py)/PatchSize)
		y1 := max(int(box.Y+box.H*float32(py+1)/PatchSize), y0+1)
		for px := 0; px < PatchSize; px++ {
			x0 := int(box.X + box.W*float32(px)/PatchSize)
			x1 := max(int(box.X+box.W*float32(px+1)/PatchSize), x0+1)
			var sum, n int
			for y := max(y0, b.Min.Y); y < min(y1, b.Max.Y); y++ {
				for x := max(x0, b.Min.X); x < min(x1, b.Max.X); x++ {
					o := img.PixOffset(x, y)
					r, g, bl := int(img.Pix[o]), int(img.Pix[o+1]), int(img.Pix[o+2])
					sum += (299*r + 587*g + 114*bl) / 1000
					n++
				}
			}
			if n > 0 {
				out[py*PatchSize+px] = uint8(sum / n)
			}
		}
	}
	return out
}

// decideAndCommit searches, decides and writes under the one lock, so that
// concurrent enrolments of one face cannot both see an empty gallery.
func (s *Service) decideAndCommit(ctx context.Context, route string, v vectors.FaceVector) wire.Response {
	k := s.searchK()
	g0 := s.beginScan()
	scanned, scanErr := s.index.Search(v.Values, k) // unlocked: see optimistic.go
	timerFrom(ctx).enter(stDecide)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.endScanLocked(g0) // after the correction and the write, before unlocking
	if scanErr != nil {
		return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: search: %w", scanErr))
	}
	matches, ok := s.correctLocked(v.Values, scanned, g0, k)
	if !ok {
		var err error
		if matches, err = s.index.Search(v.Values, templatesK(s.policy)+1); err != nil {
			return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: search: %w", err))
		}
	}
	d := s.decideLocked(s.perIdentityLocked(matches))
	if d.Outcome == OutcomeAmbiguous {
		return s.rejectAfterWriteLocked(ctx, wire.Errorf(wire.CodeAmbiguousMatch, "the face is close to more than one identity or to none clearly; record again in good light, facing the camera"))
	}
	switch route {
	case wire.RouteEnroll:
		if d.Outcome == OutcomeExisting {
			id := s.ids[d.Slot]
			if err := s.commitExistingLocked(ctx, d.Slot, v.Values, d.Best); err != nil {
				return s.unavailable(err)
			}
			return s.answer(wire.StatusExisting, id.uniqueID.String(), id.entropy[:])
		}
		return s.enrolNew(ctx, v)
	case wire.RouteLogin:
		if d.Outcome == OutcomeExisting {
			id := s.ids[d.Slot]
			if err := s.commitExistingLocked(ctx, d.Slot, v.Values, d.Best); err != nil {
				return s.unavailable(err)
			}
			return s.answer(wire.StatusExisting, id.uniqueID.String(), id.entropy[:])
		}
		if err := s.append(ctx, Entry{Op: OpNone}); err != nil {
			return s.unavailable(err)
		}
		return s.answer(wire.StatusNotFound, "", nil)
	case wire.RouteDelete:
		if d.Outcome != OutcomeExisting {
			if err := s.append(ctx, Entry{Op: OpNone}); err != nil {
				return s.unavailable(err)
			}
			return s.answer(wire.StatusNotFound, "", nil)
		}
		id := s.ids[d.Slot]
		uid := id.uniqueID.String()
		if err := s.append(ctx, Entry{Op: OpDelete, UniqueID: uid}); err != nil {
			return s.unavailable(err)
		}
		if err := s.removeLocked(id.uniqueID); err != nil {
			return s.rejected(fmt.Errorf("enclave: delete after write: %w", err))
		}
		return s.answer(wire.StatusDeleted, uid, nil)
	}
	return s.rejected(fmt.Errorf("enclave: no face route %q", route))
}

// commitExistingLocked makes the one write of a request that matched the
// identity whose enrolment slot is key:
// an [OpAddTemplate] record when capture v becomes one of id's templates
// (templates.go), otherwise an [OpNone] record of the same size. The
// template enters the index only after the write is durable. Called with
// s.mu held.
func (s *Service) commitExistingLocked(ctx context.Context, key int, v []float32, best float32) error {
	id := s.ids[key]
	pos, keep, err := s.templatePositionLocked(id, v, best)
	if err != nil {
		s.log.Error("template check failed; no template kept", "err", err)
		keep = false
	}
	if !keep {
		return s.append(ctx, Entry{Op: OpNone})
	}
	e := Entry{Op: OpAddTemplate, UniqueID: id.uniqueID.String(), Template: pos, Vector: vectorBytes(v)}
	err = s.append(ctx, e)
	clear(e.Vector)
	if err != nil {
		return err
	}
	if err := s.addTemplateLocked(key, pos, v); err != nil {
		// Durable but not in memory: the identity is searched with one
		// vector fewer until the next boot replays it. Its answer stands.
		s.log.Error("template apply after write failed", "err", err)
	}
	return nil
}

func (s *Service) enrolNew(ctx context.Context, v vectors.FaceVector) wire.Response {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: unique id: %w", err))
	}
	uid := u.String()
	if _, taken := s.byID[u]; taken { // 2⁻¹²² — but never hand out an ID twice
		return s.rejectAfterWriteLocked(ctx, errors.New("enclave: unique id collision"))
	}
	var id identity
	id.uniqueID = u
	if _, err := io.ReadFull(s.rand, id.entropy[:]); err != nil {
		return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: entropy: %w", err))
	}
	e := Entry{Op: OpAdd, UniqueID: uid, Entropy: id.entropy[:], Vector: vectorBytes(v.Values)}
	err = s.append(ctx, e)
	clear(e.Vector)
	if err != nil {
		clear(id.entropy[:])
		return s.unavailable(err)
	}
	if err := s.addLocked(&id, v.Values); err != nil {
		// Durable but not in memory: stop serving rather than risk a second ID.
		s.ready.Store(false)
		return s.rejected(fmt.Errorf("enclave: apply after write: %w", err))
	}
	return s.answer(wire.StatusNew, uid, id.entropy[:])
}

// addLocked enrols id with v as its enrolment vector (position 0).
func (s *Service) addLocked(id *identity, v []float32) error {
	if _, dup := s.byID[id.uniqueID]; dup {
		return fmt.Errorf("unique id enrolled twice")
	}
	slot, err := s.index.Add(v)
	if err != nil {
		return err
	}
	for i := range id.slots {
		id.slots[i] = -1
	}
	id.slots[0] = slot
	s.ids[slot] = *id
	s.byID[id.uniqueID] = slot
	s.recordLocked(slot, v)
	return nil
}

// removeLocked removes the identity uid with every vector it keeps.
func (s *Service) removeLocked(uid uuid.UUID) error {
	key, ok := s.byID[uid]
	if !ok {
		return fmt.Errorf("unique id not enrolled")
	}
	id := s.ids[key]
	for pos, slot := range id.slots {
		if slot < 0 {
			continue
		}
		if err := s.index.Remove(slot); err != nil {
			s.ids[key] = id // the slots removed so far stay removed
			return err
		}
		delete(s.tmpl, slot)
		id.slots[pos] = -1
		s.recordLocked(slot, nil)
	}
	s.ids[key] = identity{} // overwrite the entropy in place, then drop it
	delete(s.ids, key)
	delete(s.byID, uid)
	return nil
}

// apply replays one journal entry into the gallery.
func (s *Service) apply(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dim := s.engine.Dim()
	if err := CheckEntry(e, dim); err != nil {
		return err
	}
	// One scratch vector for the whole replay: the index and the
	// optimistic-scan log keep copies.
	vector := func() ([]float32, error) {
		if len(s.replayVec) != dim {
			s.replayVec = make([]float32, dim)
		}
		return bytesVectorInto(s.replayVec, e.Vector)
	}
	switch e.Op {
	case OpNone:
		return nil
	case OpAdd:
		u, err := uuid.Parse(e.UniqueID)
		if err != nil || u.String() != e.UniqueID || len(e.Entropy) != 32 {
			return errors.New("malformed add entry")
		}
		vals, err := vector()
		if err != nil {
			return err
		}
		id := &identity{uniqueID: u}
		copy(id.entropy[:], e.Entropy)
		clear(e.Entropy)
		return s.addLocked(id, vals)
	case OpAddTemplate:
		u, err := uuid.Parse(e.UniqueID)
		if err != nil || u.String() != e.UniqueID {
			return errors.New("malformed template entry")
		}
		key, ok := s.byID[u]
		if !ok {
			return errors.New("template of an identity that is not enrolled")
		}
		vals, err := vector()
		if err != nil {
			return err
		}
		return s.addTemplateLocked(key, e.Template, vals)
	case OpDelete:
		u, err := uuid.Parse(e.UniqueID)
		if err != nil || u.String() != e.UniqueID {
			return errors.New("malformed delete entry")
		}
		return s.removeLocked(u)
	}
	return fmt.Errorf("unknown journal op %q", e.Op)
}

func vectorBytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// bytesVectorInto decodes b (little-endian float32s) into v, whose length
// is the dimension, and checks it is a unit vector.
func bytesVectorInto(v []float32, b []byte) ([]float32, error) {
	dim := len(v)
	if len(b) != 4*dim {
		return nil, fmt.Errorf("vector of %d bytes, want %d", len(b), 4*dim)
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	if !vectors.Normalize(v) {
		return nil, errors.New("zero or non-finite vector")
	}
	return v, nil
}

// answer builds a signed response.
func (s *Service) answer(st wire.Status, uid string, entropy []byte) wire.Response {
	r := wire.Response{Status: st, UniqueID: uid}
	if entropy != nil {
		r.Entropy = append([]byte(nil), entropy...)
	}
	rc, err := wire.SignReceipt(s.receiptKey, wire.Receipt{UniqueID: uid, Status: st, IssuedAtMS: s.now().UnixMilli(), PolicyHash: s.policyHash[:]})
	if err != nil {
		return s.rejected(err)
	}
	r.Receipt = &rc
	return r
}

// rejected builds a refusal. Errors without a client code are logged (without
// identities) and reported as internal.
func (s *Service) rejected(err error) wire.Response {
	var e *wire.Error
	code, msg := wire.CodeInternal, "internal error"
	if errors.As(err, &e) {
		code, msg = e.Code, e.Message
	} else {
		s.log.Error("request failed", "err", err)
	}
	r := wire.Response{Status: wire.StatusRejected, Reason: code, Message: msg}
	if rc, err := wire.SignReceipt(s.receiptKey, wire.Receipt{Status: wire.StatusRejected, IssuedAtMS: s.now().UnixMilli(), PolicyHash: s.policyHash[:]}); err == nil {
		r.Receipt = &rc
	}
	return r
}

func (s *Service) unavailable(err error) wire.Response {
	s.log.Error("journal write failed", "err", err)
	return s.rejected(wire.Errorf(wire.CodeUnavailable, "storage did not acknowledge the write; retry"))
}

// rejectAfterWrite makes the one write of a refused request (a record
// indistinguishable from any other) and refuses.
func (s *Service) rejectAfterWrite(ctx context.Context, err error) wire.Response {
	if werr := s.append(ctx, Entry{Op: OpNone}); werr != nil {
		return s.unavailable(werr)
	}
	return s.rejected(err)
}

func (s *Service) rejectAfterWriteLocked(ctx context.Context, err error) wire.Response {
	return s.rejectAfterWrite(ctx, err)
}
