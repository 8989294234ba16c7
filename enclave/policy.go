package enclave

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// DefaultEngine is the engine the enclave runs unless told otherwise: the
// most accurate registered engine, arcface-fused (MobileFaceNet and
// fr_feature on one ArcFace crop, docs/engine.md).
const DefaultEngine = faceengine.Name

// Default limits and liveness settings (docs/protocol.md §6, docs/liveness.md).
const (
	DefaultChallengeTTLMS = 120_000
	DefaultMinFrames      = 4
	DefaultMaxFrames      = 16
	DefaultMaxFrameBytes  = 2 << 20
	DefaultMaxPixels      = 4_000_000
)

// DefaultMargin is how far below the match threshold the best OTHER
// identity must score for an existing match, for [DefaultEngine] (cosine;
// every engine calibrates its own, see [DefaultPolicy]).
const DefaultMargin = faceengine.DefaultMargin

// thresholds returns the decision thresholds engine e calibrated
// ([vectors.Calibrated]: vectors/faceengine for the registered engines). An
// engine without a calibration gets thresholds that refuse to decide
// (everything ambiguous) rather than guessed ones: cosines of different
// engines live on different scales, so no number fits them all.
func thresholds(e vectors.Engine) vectors.Thresholds {
	if c, ok := e.(vectors.Calibrated); ok {
		return c.Thresholds()
	}
	return vectors.Thresholds{Match: 1, New: -0.99}
}

// DefaultMaxTemplates is K, the vectors one identity keeps by default: its
// enrolment vector and up to three later captures (docs/templates.md).
const DefaultMaxTemplates = 4

// TemplateLevels returns the default template levels for an engine whose
// match threshold is match: a capture is a strong match from a third of the
// way from the match threshold to 1, and a near-copy of a kept vector from
// two thirds (dlibresnet at 0.94: 0.96 and 0.98; docs/templates.md has what they
// mean on LFW). Cosines of different engines live on different scales, so
// the levels follow the engine's own match threshold.
func TemplateLevels(match float32) (strong, novel float32) {
	return match + (1-match)/3, match + 2*(1-match)/3
}

// DefaultPolicy is the policy the enclave binaries attest to with engine e:
// [FixedPolicy], with its thresholds replaced by the gallery-size rule when
// a calibrated (not provisional) curve ships for e's weights (vectors/calib).
func DefaultPolicy(e vectors.Engine) wire.Policy {
	return withShippedRule(e, FixedPolicy(e))
}

// FixedPolicy is the policy with e's fixed calibrated thresholds and margin,
// whatever the gallery's size, [DefaultMaxTemplates] templates per identity
// at [TemplateLevels] and the default liveness settings. The enclave runs it
// only when told to (RunConfig.FixedThresholds: benchmarks of synthetic
// galleries far past the rule's capacity); the attested policy says so.
func FixedPolicy(e vectors.Engine) wire.Policy {
	h := e.ModelSHA256()
	th := thresholds(e)
	strong, novel := TemplateLevels(th.Match)
	return wire.Policy{
		Engine:         e.ID(),
		ModelSHA256:    h[:],
		MatchThreshold: th.Match,
		NewThreshold:   th.New,
		Margin:         th.Margin,
		MaxTemplates:   DefaultMaxTemplates,
		TemplateMatch:  strong,
		TemplateNovel:  novel,
		Actions:        []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth},
		ChallengeTTLMS: DefaultChallengeTTLMS,
		MinFrames:      DefaultMinFrames,
		MaxFrames:      DefaultMaxFrames,
		MaxFrameBytes:  DefaultMaxFrameBytes,
		MaxPixels:      DefaultMaxPixels,
	}
}

// PreloadSynthetic adds n random unit vectors under random unique IDs to the
// in-memory gallery, for load tests and benchmarks of large galleries. They
// are NOT journaled (a restart forgets them) and nobody can log in as them.
// Random d-dimensional vectors score about N(0, 1/√d) against a face (dlib,
// d = 128: the best of 10⁶ reaches ≈0.45, far below its new-person
// threshold 0.89) — benchmark numbers, not a model of a real population,
// whose faces crowd together (dlib: different people average 0.84).
func (s *Service) PreloadSynthetic(ctx context.Context, n int, rand io.Reader) error {
	if n < 0 {
		return errors.New("enclave: negative preload")
	}
	dim := s.engine.Dim()
	buf := make([]byte, 2*dim)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := io.ReadFull(rand, buf); err != nil {
			return err
		}
		v := make([]float32, dim)
		for j := range v {
			// uniform in [-1, 1): on the sphere after normalising, close
			// enough to isotropic for a load test
			v[j] = float32(int16(uint16(buf[2*j])|uint16(buf[2*j+1])<<8)) / 32768
		}
		if !vectors.Normalize(v) {
			continue
		}
		u, err := uuid.NewRandomFromReader(rand)
		if err != nil {
			return err
		}
		id := &identity{uniqueID: u}
		if err := s.addLocked(id, v); err != nil {
			return fmt.Errorf("enclave: preload: %w", err)
		}
	}
	return nil
}

// ReceiptPublicKey is the key receipts verify under.
func (s *Service) ReceiptPublicKey() ed25519.PublicKey {
	return s.receiptKey.Public().(ed25519.PublicKey)
}
