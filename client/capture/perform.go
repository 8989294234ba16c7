package capture

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/wire"
)

// Op is one of [client.Client.Enroll], Login or Delete.
type Op func(ctx context.Context, ch *client.Challenge, frames [][]byte, segments ...wire.Segment) (*client.Result, error)

// ErrNoUsableChallenge reports that none of the challenges asked for could be
// answered from the recording.
var ErrNoUsableChallenge = errors.New("capture: no challenge the recording can answer")

// Perform asks for challenges until the analysed recording can answer one
// (at most tries), picks the frames with [Pick] — with each of ts in turn,
// [DefaultThresholds] then [RelaxedThresholds] when ts is empty — and
// submits them with op.
func Perform(ctx context.Context, c *client.Client, op Op, frames []Frame, tries int, ts ...Thresholds) (*client.Result, error) {
	var last error
	for range max(tries, 1) {
		ch, err := c.Challenge(ctx)
		if err != nil {
			return nil, err
		}
		picked, err := PickAny(frames, ch, ts...)
		if errors.Is(err, ErrCannotPerform) {
			last = err
			continue
		}
		if err != nil {
			return nil, err
		}
		return op(ctx, ch, picked)
	}
	return nil, fmt.Errorf("%w after %d challenges: %w", ErrNoUsableChallenge, tries, last)
}

// PerformFixed submits frames that the caller says perform actions, in
// order: it asks for challenges until one asks for exactly those actions (at
// most tries). With actions empty it submits to the first challenge.
func PerformFixed(ctx context.Context, c *client.Client, op Op, frames [][]byte, actions []string, tries int) (*client.Result, error) {
	for range max(tries, 1) {
		ch, err := c.Challenge(ctx)
		if err != nil {
			return nil, err
		}
		if len(actions) == 0 || slices.Equal(ch.Actions, actions) {
			return op(ctx, ch, frames)
		}
	}
	return nil, fmt.Errorf("%w: no challenge asked for %v in %d tries", ErrNoUsableChallenge, actions, tries)
}

// PickAny is [Pick] for challenge ch under its policy's frame limits, trying
// each of ts in turn ([DefaultThresholds], [RelaxedThresholds] when empty).
func PickAny(frames []Frame, ch *client.Challenge, ts ...Thresholds) ([][]byte, error) {
	if len(ts) == 0 {
		ts = []Thresholds{DefaultThresholds, RelaxedThresholds}
	}
	p := ch.Policy()
	var err error
	for _, t := range ts {
		var out [][]byte
		if out, err = Pick(frames, ch.Actions, p.MinFrames, p.MaxFrames, t); err == nil {
			return out, nil
		}
	}
	return nil, err
}

// SubmitAll sends the recording's frames as they are (at most the policy's
// maximum) to a fresh challenge and lets the enclave judge them: what
// happens when a recording cannot answer any challenge — a replayed photo, a
// crowd — and the caller wants the enclave's reason.
func SubmitAll(ctx context.Context, c *client.Client, op Op, rec []Frame) (*client.Result, error) {
	ch, err := c.Challenge(ctx)
	if err != nil {
		return nil, err
	}
	var frames [][]byte
	for _, f := range rec {
		frames = append(frames, f.Data)
	}
	if p := ch.Policy(); len(frames) > p.MaxFrames {
		frames = frames[:p.MaxFrames]
	}
	return op(ctx, ch, frames)
}
