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
	var next vectors.FaceVector // the migration engine's (migrate_service.go)
	if err == nil && s.nextEngine != nil {
		next, err = fuseNext(obs)
	}
	for i := range obs {
		clear(obs[i].Vector.Values)
		clear(obs[i].NextVector.Values)
	}
	if err != nil {
		return s.rejectAfterWrite(ctx, err)
	}
	defer clear(fused.Values)
	defer clear(next.Values)
	return s.decideAndCommit(ctx, route, fused, next.Values)
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
			clear(obs[i].NextVector.Values)
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
	if s.nextEngine != nil {
		// Migrating: the new engine embeds the same face (one detection).
		if o.NextVector, err = s.nextEngine.Embed(img, faces[0]); err != nil {
			return Observation{}, engineError(i, "embed", err)
		}
		fl.lap(stEmbed)
	}
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
// concurrent enrolments of one face cannot both see an empty gallery. When
// other enclaves share the log (fleet.go) and one of them took the
// sequence number first, the write changed nothing: the service catches up
// on the records it missed and decides again, on the gallery as it now is.
// nv is the capture's vector under the engine a migration moves to (nil
// when none runs).
func (s *Service) decideAndCommit(ctx context.Context, route string, v vectors.FaceVector, nv []float32) wire.Response {
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
	for attempt := 1; ; attempt++ {
		resp, err := s.decideOnceLocked(ctx, route, v, nv, scanned, g0, k)
		if !errors.Is(err, ErrJournalBehind) {
			return resp
		}
		if attempt == maxCatchUps {
			return s.unavailable(err)
		}
		// The caught-up changes land in s.changes, so the next decision's
		// correction of the unlocked scan covers them (optimistic.go).
		if err := s.catchUpLocked(ctx); err != nil {
			return s.unavailable(err)
		}
	}
}

// decideOnceLocked decides on the current gallery and makes the one write.
// It returns an error only when the write lost its sequence number to
// another enclave (ErrJournalBehind): nothing changed, decide again.
func (s *Service) decideOnceLocked(ctx context.Context, route string, v vectors.FaceVector, nv []float32, scanned []Match, g0 uint64, k int) (wire.Response, error) {
	matches, ok := s.correctLocked(v.Values, scanned, g0, k)
	if !ok {
		var err error
		if matches, err = s.index.Search(v.Values, templatesK(s.policy)+1); err != nil {
			return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: search: %w", err)), nil
		}
	}
	d := s.decideLocked(s.perIdentityLocked(matches))
	outcome, who := d.Outcome, s.ids[d.Slot]
	var needNext bool // an identity the old engine found gets its new-engine vector
	if s.next != nil {
		if nv == nil { // the migration began after this capture was embedded
			return s.rejectAfterWriteLocked(ctx, wire.Errorf(wire.CodeUnavailable, "the gallery is moving to a new engine; retry")), nil
		}
		var err error
		if outcome, who, needNext, err = s.combineLocked(d, nv); err != nil {
			return s.rejectAfterWriteLocked(ctx, err), nil
		}
	}
	if outcome == OutcomeAmbiguous {
		return s.rejectAfterWriteLocked(ctx, wire.Errorf(wire.CodeAmbiguousMatch, "the face is close to more than one identity or to none clearly; record again in good light, facing the camera")), nil
	}
	switch route {
	case wire.RouteEnroll, wire.RouteLogin:
		if outcome == OutcomeExisting {
			write, applied := s.existingWriteLocked(who, v.Values, nv, needNext, d.Best)
			err := s.appendLocked(ctx, write, applied)
			clear(write.Vector)
			if err != nil {
				return s.writeFailed(err)
			}
			return s.answer(wire.StatusExisting, who.uniqueID.String(), who.entropy[:]), nil
		}
		if route == wire.RouteEnroll {
			return s.enrolNew(ctx, v, nv)
		}
		if err := s.appendLocked(ctx, Entry{Op: OpNone}, nil); err != nil {
			return s.writeFailed(err)
		}
		return s.answer(wire.StatusNotFound, "", nil), nil
	case wire.RouteDelete:
		if outcome != OutcomeExisting {
			if err := s.appendLocked(ctx, Entry{Op: OpNone}, nil); err != nil {
				return s.writeFailed(err)
			}
			return s.answer(wire.StatusNotFound, "", nil), nil
		}
		u := who.uniqueID
		uid := u.String()
		var applyErr error
		err := s.appendLocked(ctx, Entry{Op: OpDelete, UniqueID: uid}, func() { applyErr = s.removeLocked(u) })
		if err != nil {
			return s.writeFailed(err)
		}
		if applyErr != nil {
			return s.rejected(fmt.Errorf("enclave: delete after write: %w", applyErr)), nil
		}
		return s.answer(wire.StatusDeleted, uid, nil), nil
	}
	return s.rejected(fmt.Errorf("enclave: no face route %q", route)), nil
}

// existingWriteLocked is the one write of an enrol or login that matched
// who, and what applies it to the gallery once it is durable:
//
//   - while a migration runs, who's new-engine vector ([OpEngineVector])
//     when the new engine does not hold it yet (migrate_service.go);
//     no templates are kept while it runs (they are kept under the log's
//     current engine only, and its end drops the old engine's);
//   - otherwise an [OpAddTemplate] record when capture v becomes one of
//     who's templates (templates.go);
//   - otherwise an [OpNone] record of the same size.
//
// Called with s.mu held.
func (s *Service) existingWriteLocked(who identity, v, nv []float32, needNext bool, best float32) (Entry, func()) {
	if s.next != nil {
		if !needNext {
			return Entry{Op: OpNone}, nil
		}
		return Entry{Op: OpEngineVector, UniqueID: who.uniqueID.String(), Engine: s.next.engine.ID(), Vector: vectorBytes(nv)},
			func() { s.addNextVectorLocked(who.uniqueID, nv) }
	}
	pos, keep, err := s.templatePositionLocked(who, v, best)
	if err != nil {
		s.log.Error("template check failed; no template kept", "err", err)
		keep = false
	}
	if !keep {
		return Entry{Op: OpNone}, nil
	}
	key := who.slots[0] // the identity's name in the gallery (service.go)
	return Entry{Op: OpAddTemplate, UniqueID: who.uniqueID.String(), Template: pos, Vector: vectorBytes(v)}, func() {
		if err := s.addTemplateLocked(key, pos, v); err != nil {
			// Durable but not in memory: the identity is searched with one
			// vector fewer until the next boot replays it. Its answer stands.
			s.log.Error("template apply after write failed", "err", err)
		}
	}
}

// maxCatchUps bounds how often one request loses its sequence number to
// other enclaves before it is answered "unavailable".
const maxCatchUps = 16

// appendLocked makes e durable. applied, if set, applies e to the gallery;
// it runs when the write is durable — acknowledged (nil) or durable
// without an acknowledgement (ErrJournalUnacked: the record is part of the
// state, so the gallery must hold it, but the request gets no answer from
// it). A journal that reports corruption stops the service. Called with
// s.mu held.
func (s *Service) appendLocked(ctx context.Context, e Entry, applied func()) error {
	t := timerFrom(ctx)
	prev := t.enter(stJournal)
	err := s.journal.Append(ctx, e)
	t.enter(prev)
	if (err == nil || errors.Is(err, ErrJournalUnacked)) && applied != nil {
		applied()
	}
	if errors.Is(err, ErrJournalCorrupt) {
		s.fail(err)
	}
	return err
}

// writeFailed answers a request whose write failed: decide again after a
// lost sequence number, else unavailable.
func (s *Service) writeFailed(err error) (wire.Response, error) {
	if errors.Is(err, ErrJournalBehind) {
		return wire.Response{}, err
	}
	return s.unavailable(err), nil
}

func (s *Service) enrolNew(ctx context.Context, v vectors.FaceVector, nv []float32) (wire.Response, error) {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: unique id: %w", err)), nil
	}
	uid := u.String()
	if _, taken := s.byID[u]; taken { // 2⁻¹²² — but never hand out an ID twice
		return s.rejectAfterWriteLocked(ctx, errors.New("enclave: unique id collision")), nil
	}
	if s.next != nil {
		if _, taken := s.next.slots[u]; taken {
			return s.rejectAfterWriteLocked(ctx, errors.New("enclave: unique id collision")), nil
		}
	}
	id := &identity{uniqueID: u}
	if _, err := io.ReadFull(s.rand, id.entropy[:]); err != nil {
		return s.rejectAfterWriteLocked(ctx, fmt.Errorf("enclave: entropy: %w", err)), nil
	}
	e := Entry{Op: OpAdd, UniqueID: uid, Entropy: id.entropy[:], Vector: vectorBytes(v.Values)}
	var applyErr error
	apply := func() { applyErr = s.addLocked(id, v.Values) }
	if s.next != nil {
		// Migrating: a new person is enrolled under the new engine only.
		clear(e.Vector)
		e.Engine, e.Vector = s.next.engine.ID(), vectorBytes(nv)
		apply = func() { applyErr = s.addOnlyNextLocked(id, nv) }
	}
	err = s.appendLocked(ctx, e, apply)
	clear(e.Vector)
	// The gallery keeps its own copy of the entropy (when the write was
	// durable, acknowledged or not): this one is cleared either way.
	defer clear(id.entropy[:])
	if applyErr != nil {
		// Durable but not in memory: stop serving rather than risk a second ID.
		s.fail(fmt.Errorf("enclave: apply after write: %w", applyErr))
		return s.rejected(fmt.Errorf("enclave: apply after write: %w", applyErr)), nil
	}
	if err != nil {
		return s.writeFailed(err)
	}
	return s.answer(wire.StatusNew, uid, id.entropy[:]), nil
}

// addLocked enrols id with v as its enrolment vector (position 0); the
// gallery keeps a copy of *id, named by that slot. A unique ID the next
// gallery holds (migrate_service.go) is refused too: a unique ID names one
// identity.
func (s *Service) addLocked(id *identity, v []float32) error {
	if _, dup := s.byID[id.uniqueID]; dup {
		return fmt.Errorf("unique id enrolled twice")
	}
	if s.next != nil {
		if _, dup := s.next.only[id.uniqueID]; dup {
			return fmt.Errorf("unique id enrolled twice")
		}
	}
	slot, err := s.index.Add(v)
	if err != nil {
		return err
	}
	if s.heldLocked(slot) {
		_ = s.index.Remove(slot) // never searched as the holder's
		s.recordLocked(slot, nil)
		return fmt.Errorf("index slot %d handed out while held", slot)
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

// removeLocked removes the identity uid with every vector it keeps. Its
// templates go first and its enrolment slot last, so that an identity a
// failed removal leaves behind still holds the slot it is named by.
func (s *Service) removeLocked(uid uuid.UUID) error {
	key, ok := s.byID[uid]
	if !ok {
		return s.removeOnlyNextLocked(uid) // migrate_service.go
	}
	s.removeNextLocked(uid) // migrate_service.go
	id := s.ids[key]
	for pos := len(id.slots) - 1; pos >= 0; pos-- {
		slot := id.slots[pos]
		if slot < 0 {
			continue
		}
		if err := s.index.Remove(slot); err != nil {
			s.ids[key] = id // the slots removed so far stay removed
			return err
		}
		if pos > 0 {
			delete(s.tmpl, slot)
		}
		id.slots[pos] = -1
		s.recordLocked(slot, nil)
	}
	clear(id.entropy[:])
	s.ids[key] = identity{} // overwrite the stored entropy in place, then drop it
	delete(s.ids, key)
	delete(s.byID, uid)
	return nil
}

// apply replays one journal entry into the gallery.
func (s *Service) apply(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked(e)
}

// applyLocked applies one journal entry (at boot, or caught up from other
// enclaves' writes) to the gallery. Called with s.mu held.
func (s *Service) applyLocked(e Entry) error {
	if handled, err := s.applyMigrationLocked(e); handled { // migrate_service.go
		return err
	}
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
		u, err := parseUniqueID(e)
		if err != nil {
			return err
		}
		vals, err := vector()
		if err != nil {
			return err
		}
		id := &identity{uniqueID: u}
		copy(id.entropy[:], e.Entropy)
		clear(e.Entropy)
		err = s.addLocked(id, vals)
		clear(id.entropy[:])
		return err
	case OpAddTemplate:
		u, err := parseUniqueID(e)
		if err != nil {
			return err
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
		u, err := parseUniqueID(e)
		if err != nil {
			return err
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejectAfterWriteLocked(ctx, err)
}

// rejectAfterWriteLocked is rejectAfterWrite with s.mu held. Nothing is
// decided on the gallery, so a lost sequence number only means catching up
// and writing again.
func (s *Service) rejectAfterWriteLocked(ctx context.Context, err error) wire.Response {
	for attempt := 1; ; attempt++ {
		werr := s.appendLocked(ctx, Entry{Op: OpNone}, nil)
		if werr == nil {
			return s.rejected(err)
		}
		if !errors.Is(werr, ErrJournalBehind) || attempt == maxCatchUps {
			return s.unavailable(werr)
		}
		if cerr := s.catchUpLocked(ctx); cerr != nil {
			return s.unavailable(cerr)
		}
	}
}
