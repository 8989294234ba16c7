package enclave

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/facesign/facesign/enclave/wire"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/google/uuid"
)

// DefaultEngine is the engine the enclave runs unless told otherwise.
const DefaultEngine = "mobilefacenet"

// Default limits and liveness settings (docs/protocol.md §6, docs/liveness.md).
const (
	DefaultChallengeTTLMS = 120_000
	DefaultMinFrames      = 4
	DefaultMaxFrames      = 16
	DefaultMaxFrameBytes  = 2 << 20
	DefaultMaxPixels      = 4_000_000
)

// DefaultMargin is how far below the match threshold the best OTHER
// identity must score for an existing match (cosine).
const DefaultMargin = 0.10

// thresholds returns the decision thresholds calibrated for engine id: the
// engine's own calibration (vectors/faceengine for the default engine). An
// engine without a calibration gets thresholds that refuse to decide
// (everything ambiguous) rather than guessed ones.
func thresholds(id string) (match, newPerson float32) {
	switch id {
	case faceengine.Name:
		return faceengine.DefaultMatchThreshold, faceengine.DefaultNewThreshold
	}
	return 1, -0.99
}

// DefaultPolicy is the policy the enclave binaries attest to with engine e.
func DefaultPolicy(e vectors.Engine) wire.Policy {
	h := e.ModelSHA256()
	match, newPerson := thresholds(e.ID())
	return wire.Policy{
		Engine:         e.ID(),
		ModelSHA256:    h[:],
		MatchThreshold: match,
		NewThreshold:   newPerson,
		Margin:         DefaultMargin,
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
// Random 192-d vectors score about N(0, 1/√192) against a face, so at 10⁶ the
// best of them reaches ≈0.35: below the new-person threshold, but close —
// benchmark numbers, not a model of a real population.
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
		id := &identity{uniqueID: u.String()}
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
