// Package demo is the FaceSign story run against a live stack with real
// recordings: person A enrols (new), A again from other frames (existing,
// same ID), person B enrols (new), B logs in from another recording
// (existing, same ID), B deletes (deleted), B logs in again (not_found), and
// a printed photo is refused (rejected).
//
// Frames are picked from recordings to match each challenge (package
// client/capture): a replay of a recording, which is what a demo can do and
// what a real app must not do.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/wire"
)

// Recordings are the frame sequences the story uses.
type Recordings struct {
	A1, A2 []capture.Frame // person A, two disjoint takes
	B1, B2 []capture.Frame // person B, two recordings
	Photo  []capture.Frame // a printed photo held to the camera
}

// Recording folder names (see the README beside them for provenance).
const (
	DirA      = "head-turn-a"
	DirB1     = "talking-b-take1"
	DirB2     = "talking-b-take2"
	DirPhoto  = "attack-demo-print"
	DirPhoto1 = "attack-print"
)

// LoadRecordings reads the recordings from dir. Person A's one recording is
// split into two disjoint halves (two takes).
func LoadRecordings(dir string) (Recordings, error) {
	var r Recordings
	a, err := capture.ReadDir(filepath.Join(dir, DirA))
	if err != nil {
		return r, err
	}
	r.A1, r.A2 = a[:len(a)/2], a[len(a)/2:]
	if r.B1, err = capture.ReadDir(filepath.Join(dir, DirB1)); err != nil {
		return r, err
	}
	if r.B2, err = capture.ReadDir(filepath.Join(dir, DirB2)); err != nil {
		return r, err
	}
	if r.Photo, err = capture.ReadDir(filepath.Join(dir, DirPhoto)); err != nil {
		if r.Photo, err = capture.ReadDir(filepath.Join(dir, DirPhoto1)); err != nil {
			return r, err
		}
	}
	return r, nil
}

// FindRecordings returns the first of the candidate directories that holds
// the recordings.
func FindRecordings(candidates ...string) (string, error) {
	for _, c := range candidates {
		if fi, err := os.Stat(filepath.Join(c, DirA)); err == nil && fi.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("demo: no recordings in %v", candidates)
}

// Step is one line of the story.
type Step struct {
	Step     string `json:"step"`
	Status   string `json:"status"`
	UniqueID string `json:"unique_id"`
	Reason   string `json:"reason,omitempty"`
	Expected string `json:"expected"`
	OK       bool   `json:"ok"`
	// Result is the verified answer (nil for rejections); not printed.
	Result *client.Result `json:"-"`
}

// ErrUnexpected reports a step whose outcome is not the expected one.
var ErrUnexpected = errors.New("demo: unexpected outcome")

// Options tune [Run].
type Options struct {
	Analyzer capture.Analyzer // measures frames (the enclave's engine)
	Tries    int              // challenges per step before giving up
}

// Run plays the story, calling emit after each step, and returns
// [ErrUnexpected] (after all steps) if any outcome differed from the story.
func Run(ctx context.Context, c *client.Client, r Recordings, o Options) ([]Step, error) {
	if o.Tries <= 0 {
		o.Tries = 40
	}
	for _, set := range [][]capture.Frame{r.A1, r.A2, r.B1, r.B2, r.Photo} {
		capture.Analyze(o.Analyzer, set)
	}
	var steps []Step
	run := func(name string, op capture.Op, frames []capture.Frame, want wire.Status, sameAs string) {
		st := Step{Step: name, Expected: string(want)}
		res, err := capture.Perform(ctx, c, op, frames, o.Tries)
		var rej *client.RejectedError
		switch {
		case errors.As(err, &rej):
			st.Status, st.Reason = string(wire.StatusRejected), string(rej.Code)
		case err != nil:
			st.Status, st.Reason = "error", err.Error()
		default:
			st.Status, st.UniqueID, st.Result = string(res.Status), res.UniqueID, res
		}
		st.OK = st.Status == string(want) && (sameAs == "" || st.UniqueID == sameAs)
		steps = append(steps, st)
	}
	idOf := func(i int) string {
		if i < len(steps) {
			return steps[i].UniqueID
		}
		return ""
	}
	run("A enrols", c.Enroll, r.A1, wire.StatusNew, "")
	run("A enrols again from other frames", c.Enroll, r.A2, wire.StatusExisting, idOf(0))
	if steps[1].UniqueID == "" {
		steps[1].OK = false
	}
	run("B enrols", c.Enroll, r.B1, wire.StatusNew, "")
	if steps[2].UniqueID == steps[0].UniqueID {
		steps[2].OK = false
	}
	run("B logs in from another recording", c.Login, r.B2, wire.StatusExisting, idOf(2))
	run("B deletes", c.Delete, r.B2, wire.StatusDeleted, idOf(2))
	run("B logs in again", c.Login, r.B1, wire.StatusNotFound, "")
	steps = append(steps, photoReplay(ctx, c, r.Photo, o))
	for _, s := range steps {
		if !s.OK {
			return steps, ErrUnexpected
		}
	}
	return steps, nil
}

// Replay submits a recording the way an attacker replaying it would: the
// frames picked to match the challenge when the picker can, otherwise all of
// them (up to the policy's maximum) to the first challenge.
func Replay(ctx context.Context, c *client.Client, op capture.Op, rec []capture.Frame) (*client.Result, error) {
	res, err := capture.Perform(ctx, c, op, rec, 3)
	if !errors.Is(err, capture.ErrNoUsableChallenge) {
		return res, err
	}
	return capture.SubmitAll(ctx, c, op, rec)
}

// photoReplay submits a printed photo: frames picked to match the challenge
// when the picker can, otherwise all of them. Any refusal is the expected
// outcome.
func photoReplay(ctx context.Context, c *client.Client, photo []capture.Frame, o Options) Step {
	st := Step{Step: "photo replay", Expected: string(wire.StatusRejected)}
	res, err := Replay(ctx, c, c.Enroll, photo)
	var rej *client.RejectedError
	switch {
	case errors.As(err, &rej):
		st.Status, st.Reason, st.OK = string(wire.StatusRejected), string(rej.Code), rej.Sealed
	case err != nil:
		st.Status, st.Reason = "error", err.Error()
	default:
		st.Status, st.UniqueID, st.Result = string(res.Status), res.UniqueID, res
	}
	return st
}
