package enclave

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

var errZeroTime = errors.New("enclave: zero time")

// Config is everything a [Service] needs. Hardware, time and randomness are
// injected: the service has no default for any of them.
type Config struct {
	// Attester makes attestation documents and is the only source of
	// randomness (keys, challenges, unique IDs, entropy, nonces).
	Attester attest.Attester
	// Engine finds faces and makes vectors. Its ID and model hash must be
	// the policy's.
	Engine vectors.Engine
	// Policy is what the enclave enforces and attests to.
	Policy wire.Policy
	// Curve is the calibration curve a policy with a [wire.ThresholdRule]
	// derives its thresholds from (default: the one vectors/calib ships
	// for the engine); it must be the one the rule names.
	Curve *calib.Curve
	// Journal makes gallery changes durable (write-ahead).
	Journal Journal
	// Now is the clock. Required.
	Now func() time.Time
	// Liveness defaults to [NewDefaultLiveness]([DefaultLivenessConfig]).
	Liveness Liveness
	// Index defaults to an int8 [GalleryIndex] (exact: see galleryOptions).
	Index Index
	// Logger defaults to discarding. Log lines carry routes, durations and
	// error classes only — never frames, vectors, IDs, entropy or outcomes.
	Logger *slog.Logger
	// MaxConcurrent bounds pipelines running at once (default: GOMAXPROCS).
	MaxConcurrent int
	// FrameWorkers is the size of the one worker pool every request's
	// frames run on (decode, detect, embed), shared by all requests: at
	// most this many frames are decoded at once (default: GOMAXPROCS, the
	// enclave's cores).
	FrameWorkers int
	// StageClock times the pipeline's stages for the stage histograms
	// (GET /stages); nil means Now. Only durations are taken from it.
	StageClock func() time.Time
	// NextEngine is the engine the gallery migrates to (docs/fleet.md),
	// nil when none: every capture then runs through both engines. The
	// policy's Migration must name it. Needs the sealed state journal.
	NextEngine vectors.Engine
	// NextCurve is the calibration curve of the migration's rule, when the
	// policy's Migration has one (default: the one vectors/calib ships for
	// the next engine); it must be the one the rule names.
	NextCurve *calib.Curve
}

// Service is the enclave: it holds the keys, the gallery and the identities,
// and serves the enclave HTTP API (docs/protocol.md).
type Service struct {
	att        attest.Attester
	rand       io.Reader
	engine     vectors.Engine
	policy     wire.Policy
	policyHash [32]byte
	rule       *thresholdRule // nil: the policy's fixed thresholds
	binding    wire.Binding
	bindHash   [32]byte
	gateway    *wire.Gateway
	receiptKey ed25519.PrivateKey
	challenges *Challenges
	liveness   Liveness
	journal    Journal
	now        func() time.Time
	log        *slog.Logger
	sem        chan struct{}
	frames     *framePool
	maxBody    int64
	lapEngine  vectors.LapEngine // the engine, when it times its own stages
	stages     *stageStats
	stageNow   func() time.Time

	mu    sync.Mutex // the decide + write critical section
	index Index
	// ids, tmpl and byID hold no pointers, so the garbage collector does
	// not walk them: at 10⁶ identities, pointer-holding tables made every
	// GC cycle scan millions of objects, several times per enrolment. An
	// identity is named by its enrolment slot (position 0), which never
	// changes while it is enrolled. The next gallery's tables
	// (migrate_service.go) hold no pointers either.
	ids      map[int]identity  // enrolment slot → identity
	tmpl     map[int]int       // template slot (positions 1…) → its identity's enrolment slot
	byID     map[uuid.UUID]int // unique ID → enrolment slot
	dormant  int               // template records replayed at positions ≥ the policy's K (kept, not searched)
	gen      uint64            // bumped on every index change
	inflight map[uint64]int    // start generation → unlocked scans in flight
	changes  []change          // index changes since the oldest in-flight scan began
	// replayVec is the scratch vector replay decodes into (boot only).
	replayVec []float32

	ready atomic.Bool

	// Engine migrations (migrate_service.go).
	nextEngine vectors.Engine
	nextRule   *thresholdRule // the migration's rule; nil: its fixed thresholds
	next       *nextGallery
	mode       migrationMode

	// Several enclaves on one log (follow.go).
	caughtUp atomic.Uint64 // records applied from other enclaves' writes
	fatal    chan struct{} // closed by fail
	failOnce sync.Once
	fatalErr error
}

type identity struct {
	uniqueID uuid.UUID // answered in its canonical string form
	entropy  [32]byte
	// slots holds the index slot of each vector the identity keeps, by
	// position: [0] the enrolment vector, [1…] further templates; −1: none.
	// The enrolment slot names the identity in decisions.
	slots [MaxTemplates]int
}

// lockedReader serialises reads from the attester's randomness.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return io.ReadFull(l.r, p)
}

// New boots the enclave: it makes the HPKE key pair and the receipt key from
// the attester's randomness, builds the [wire.Binding], and replays the
// journal into the gallery. The service is ready when New returns.
func New(ctx context.Context, cfg Config) (*Service, error) {
	switch {
	case cfg.Attester == nil:
		return nil, errors.New("enclave: no attester")
	case cfg.Engine == nil:
		return nil, errors.New("enclave: no engine")
	case cfg.Journal == nil:
		return nil, errors.New("enclave: no journal")
	case cfg.Now == nil:
		return nil, errors.New("enclave: no clock")
	}
	p := cfg.Policy
	if p.Engine != cfg.Engine.ID() || string(p.ModelSHA256) != string(sliceOf(cfg.Engine.ModelSHA256())) {
		return nil, fmt.Errorf("enclave: policy names engine %q, the service runs %q with other weights", p.Engine, cfg.Engine.ID())
	}
	if err := checkPolicy(p); err != nil {
		return nil, err
	}
	if err := checkMigrationConfig(p, cfg.NextEngine); err != nil {
		return nil, err
	}
	ph, err := p.Hash()
	if err != nil {
		return nil, err
	}
	s := &Service{
		att:        cfg.Attester,
		rand:       &lockedReader{r: cfg.Attester.Random()},
		engine:     cfg.Engine,
		policy:     p,
		journal:    cfg.Journal,
		now:        cfg.Now,
		log:        cfg.Logger,
		liveness:   cfg.Liveness,
		index:      cfg.Index,
		ids:        map[int]identity{},
		tmpl:       map[int]int{},
		byID:       map[uuid.UUID]int{},
		inflight:   map[uint64]int{},
		fatal:      make(chan struct{}),
		nextEngine: cfg.NextEngine,
	}
	s.policyHash = ph
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rule, err = newThresholdRule(p, cfg.Curve, s.log); err != nil {
		return nil, err
	}
	if p.Migration != nil {
		if s.nextRule, err = newThresholdRule(p.Migration.AsPolicy(), cfg.NextCurve, s.log); err != nil {
			return nil, fmt.Errorf("enclave: policy migration: %w", err)
		}
	} else if cfg.NextCurve != nil {
		return nil, fmt.Errorf("%w: a next-engine curve is configured without a migration", ErrRule)
	}
	if s.liveness == nil {
		s.liveness = NewDefaultLiveness(DefaultLivenessConfig(p.MinFrames))
	}
	if s.index == nil {
		if s.index, err = NewGalleryIndex(cfg.Engine.Dim(), galleryOptions); err != nil {
			return nil, err
		}
	}
	n := cfg.MaxConcurrent
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.sem = make(chan struct{}, n)
	fw := cfg.FrameWorkers
	if fw <= 0 {
		fw = runtime.GOMAXPROCS(0)
	}
	s.frames = newFramePool(fw)
	s.lapEngine, _ = cfg.Engine.(vectors.LapEngine)
	s.stages = newStageStats()
	s.stageNow = cfg.StageClock
	if s.stageNow == nil {
		s.stageNow = cfg.Now
	}
	// envelope + CBOR framing + frames.
	s.maxBody = int64(p.MaxFrames)*int64(p.MaxFrameBytes+16) + 8192
	if s.challenges, err = NewChallenges(time.Duration(p.ChallengeTTLMS)*time.Millisecond, p.Actions); err != nil {
		return nil, err
	}
	if err := s.makeKeys(); err != nil {
		return nil, err
	}
	if ej, ok := s.journal.(engineJournal); ok {
		ej.UseEngine(p.Engine) // recorded in the header of a new log
	}
	replay := s.journal.Replay
	if r, ok := s.journal.(sharedReplayer); ok {
		replay = r.ReplayShared // apply copies what it keeps
	}
	if err := replay(ctx, s.apply); err != nil {
		return nil, fmt.Errorf("enclave: replay: %w", err)
	}
	if err := s.settleEngines(ctx); err != nil {
		return nil, err
	}
	if s.rule != nil {
		s.rule.at(s.index.Len()) // logs a gallery already over capacity
	}
	s.ready.Store(true)
	if s.dormant > 0 {
		s.log.Warn("template records at positions beyond the policy's max_templates: kept in the journal, not searched", "records", s.dormant, "max_templates", p.MaxTemplates)
	}
	s.log.Info("enclave ready", "engine", p.Engine, "identities", len(s.byID), "vectors", s.index.Len())
	return s, nil
}

// sharedReplayer is a [Journal] that can replay through one scratch buffer
// (enclave/state.Journal): every entry's Entropy and Vector are overwritten
// by the next one, which saves boot a short-lived copy of the gallery.
// [Service.apply] copies what it keeps, so the service uses it when offered.
type sharedReplayer interface {
	ReplayShared(ctx context.Context, apply func(Entry) error) error
}

func sliceOf(a [32]byte) []byte { return a[:] }

func checkPolicy(p wire.Policy) error {
	if err := checkThresholds(p); err != nil {
		return err
	}
	switch {
	case p.ChallengeTTLMS <= 0:
		return errors.New("enclave: policy challenge ttl must be positive")
	case p.MinFrames < 1 || p.MaxFrames < p.MinFrames || p.MaxFrames > 256:
		return fmt.Errorf("enclave: policy frame counts %d..%d out of range", p.MinFrames, p.MaxFrames)
	case p.MaxFrameBytes < 1024 || p.MaxFrameBytes > 16<<20:
		return fmt.Errorf("enclave: policy max frame bytes %d out of range", p.MaxFrameBytes)
	case p.MaxPixels < 64*64 || p.MaxPixels > 40_000_000:
		return fmt.Errorf("enclave: policy max pixels %d out of range", p.MaxPixels)
	}
	return checkTemplatePolicy(p)
}

func (s *Service) makeKeys() error {
	ikm := make([]byte, 64)
	defer clear(ikm)
	if _, err := io.ReadFull(s.rand, ikm); err != nil {
		return fmt.Errorf("enclave: randomness: %w", err)
	}
	priv, err := wire.NewKeyPair(ikm)
	if err != nil {
		return err
	}
	var id [1]byte
	if _, err := io.ReadFull(s.rand, id[:]); err != nil {
		return fmt.Errorf("enclave: randomness: %w", err)
	}
	if s.gateway, err = wire.NewGateway(id[0], priv, wire.FaceSignSuite); err != nil {
		return err
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(s.rand, seed); err != nil {
		return fmt.Errorf("enclave: randomness: %w", err)
	}
	s.receiptKey = ed25519.NewKeyFromSeed(seed)
	kc, err := s.gateway.KeyConfig().MarshalBinary()
	if err != nil {
		return err
	}
	s.binding = wire.Binding{KeyConfig: kc, Policy: s.policy, ReceiptKey: s.receiptKey.Public().(ed25519.PublicKey)}
	s.bindHash, err = s.binding.Hash()
	return err
}

// Binding returns what the attestation documents bind.
func (s *Service) Binding() wire.Binding { return s.binding }

// Ready reports whether the keys exist and the journal was replayed.
func (s *Service) Ready() bool { return s.ready.Load() }

// Identities is the number of enrolled identities.
func (s *Service) Identities() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.byID)
	if s.next != nil {
		n += len(s.next.only)
	}
	return n
}

// Vectors is the number of vectors the 1:N search compares a capture with:
// every identity's enrolment vector and its further templates. A stranger
// is compared with each, so this, not [Service.Identities], is the count a
// false-match bound must use (docs/templates.md).
func (s *Service) Vectors() int { return s.index.Len() }

// Handler returns the enclave HTTP API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.RouteHealthz, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET "+wire.RouteReadyz, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET "+wire.RouteStatus, s.handleStatus)
	mux.HandleFunc("GET "+wire.RouteAttestation, s.handleAttestation)
	mux.HandleFunc("GET "+wire.RouteStages, s.handleStages)
	mux.HandleFunc("POST "+wire.RouteChallenge, s.sealed(wire.RouteChallenge, s.challenge))
	for _, r := range []string{wire.RouteEnroll, wire.RouteLogin, wire.RouteDelete} {
		mux.HandleFunc("POST "+r, s.sealed(r, s.face(r)))
	}
	return mux
}

// Serve answers the enclave API on l until ctx ends, then shuts down.
func (s *Service) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		case <-done:
		}
	}()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func writePlainError(w http.ResponseWriter, code wire.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code.HTTPStatus())
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`+"\n", code, msg)
}

func (s *Service) handleAttestation(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()["nonce"]
	if len(q) != 1 {
		writePlainError(w, wire.CodeBadRequest, "exactly one nonce parameter is required")
		return
	}
	nonce, err := hex.DecodeString(q[0])
	if err != nil || len(nonce) < 1 || len(nonce) > 64 {
		writePlainError(w, wire.CodeBadRequest, "nonce must be 1 to 64 bytes of hex")
		return
	}
	doc, err := s.att.Attest(attest.Request{Nonce: nonce, UserData: s.bindHash[:]})
	if err != nil {
		s.log.Error("attestation failed", "err", err)
		writePlainError(w, wire.CodeUnavailable, "attestation failed")
		return
	}
	body, err := wire.Marshal(wire.AttestationResponse{Document: doc, Binding: s.binding})
	if err != nil {
		writePlainError(w, wire.CodeInternal, "encoding failed")
		return
	}
	w.Header().Set("Content-Type", wire.MediaTypeCBOR)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// sealedHandler answers one opened request with the plaintext to seal.
type sealedHandler func(ctx context.Context, plaintext []byte) []byte

// sealed wraps h with the envelope: read the body under the size limit, open
// it for route, run h, seal its answer. Errors before the envelope opens are
// plain JSON; everything after is inside the sealed answer.
func (s *Service) sealed(route string, h sealedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		t0 := s.stageNow()
		if !s.Ready() {
			writePlainError(w, wire.CodeUnavailable, "enclave not ready")
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != wire.MediaTypeRequest {
			writePlainError(w, wire.CodeBadEnvelope, "content type must be "+wire.MediaTypeRequest)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writePlainError(w, wire.CodeBodyTooLarge, fmt.Sprintf("body above %d bytes", s.maxBody))
				return
			}
			writePlainError(w, wire.CodeBadEnvelope, "body could not be read")
			return
		}
		pt, sealer, err := s.gateway.OpenRequest(route, body)
		clear(body)
		if err != nil {
			code := wire.CodeOf(err)
			s.log.Info("envelope refused", "route", route, "code", code)
			writePlainError(w, code, envelopeMessage(code))
			return
		}
		ctx := r.Context()
		var t *reqTimer
		if isFaceRoute(route) {
			t = s.startTimer(stOpen, t0) // open began with the request
			ctx = withTimer(ctx, t)
		}
		answer := h(ctx, pt)
		clear(pt)
		t.enter(stSeal)
		res, err := sealer.Seal(s.rand, answer)
		t.finish()
		clear(answer)
		if err != nil {
			s.log.Error("sealing failed", "route", route, "err", err)
			writePlainError(w, wire.CodeInternal, "sealing failed")
			return
		}
		w.Header().Set("Content-Type", wire.MediaTypeResponse)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(res)
		s.log.Info("sealed request", "route", route, "ms", time.Since(start).Milliseconds())
	}
}

func isFaceRoute(r string) bool {
	return r == wire.RouteEnroll || r == wire.RouteLogin || r == wire.RouteDelete
}

func envelopeMessage(c wire.Code) string {
	switch c {
	case wire.CodeUnknownKeyID:
		return "the request is sealed to a key this enclave does not hold; fetch a fresh attestation"
	case wire.CodeUnsupportedSuite:
		return "the request uses an hpke suite this enclave does not accept"
	case wire.CodeDecryptFailed:
		return "the request does not decrypt"
	}
	return "the body is not an encapsulated request"
}

func (s *Service) challenge(_ context.Context, pt []byte) []byte {
	var req wire.ChallengeRequest
	var resp wire.ChallengeResponse
	if err := wire.UnmarshalPadded(pt, &req); err != nil {
		resp = wire.ChallengeResponse{Reason: wire.CodeBadRequest, Message: "challenge request does not decode"}
	} else if ch, err := s.challenges.Issue(s.now(), s.rand); err != nil {
		code := wire.CodeOf(err)
		if code == wire.CodeInternal {
			s.log.Error("challenge failed", "err", err)
		}
		resp = wire.ChallengeResponse{Reason: code, Message: "no challenge issued"}
	} else {
		resp = wire.ChallengeResponse{ID: ch.ID[:], Nonce: ch.Nonce[:], Actions: ch.Actions, ExpiresAtMS: ch.ExpiresAt.UnixMilli()}
	}
	b, err := resp.MarshalPadded()
	if err != nil {
		b, _ = wire.ChallengeResponse{Reason: wire.CodeInternal}.MarshalPadded()
	}
	return b
}
