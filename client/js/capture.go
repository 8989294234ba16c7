//go:build js && wasm

package js

import (
	"context"
	"image"
	"sync"
	"syscall/js"

	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/vectors/detect"
)

// The detector is loaded once per page (its weights are embedded in the
// binary) and shared by every capture.
var loadDetector = sync.OnceValues(func() (*detect.Detector, error) { return detect.New(detect.Options{}) })

// loadTracker answers facesign.loadTracker(): it loads the face tracking
// models, so that a page can do it while the person reads the explanation.
func loadTracker(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 0 {
		return nil, badArg("loadTracker takes no arguments")
	}
	return func(context.Context) (any, error) {
		if _, err := loadDetector(); err != nil {
			return nil, err
		}
		return js.Undefined(), nil
	}, nil
}

// jsCapture is one live capture answering one challenge.
type jsCapture struct {
	jc *jsClient
	id string

	mu   sync.Mutex
	live *capture.Live
	tr   *capture.Tracker
}

// capture answers c.capture(ch): a live capture for a challenge this client
// issued and has not used.
func (jc *jsClient) capture(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return nil, badArg("capture takes the object challenge() returned")
	}
	id, err := str(args[0], "id", true)
	if err != nil {
		return nil, err
	}
	jc.mu.Lock()
	ch, ok := jc.challenges[id]
	jc.mu.Unlock()
	if !ok {
		return nil, badArg("challenge %s was not issued by this client or was already used", id)
	}
	return func(context.Context) (any, error) {
		d, err := loadDetector()
		if err != nil {
			return nil, err
		}
		p := ch.Policy()
		// The kept frames are measured as the enclave measures them (the
		// same decoder and detector on the same bytes), so the thresholds
		// need only absorb rounding: RelaxedThresholds.
		live, err := capture.NewLive(ch.Actions, p.MinFrames, p.MaxFrames, capture.RelaxedThresholds, capture.DefaultFraming)
		if err != nil {
			return nil, badArg("%v", err)
		}
		// A challenge with a turn needs the enclave's parallax between
		// two kept frames: a turn too small for it is asked for again
		// rather than sent and refused (liveness_failed).
		live.MinParallax = capture.RelaxedParallax
		c := &jsCapture{jc: jc, id: id, live: live, tr: capture.NewTracker(d)}
		// BlazeFace is most of a detection's cost in WebAssembly: track
		// between detections; kept frames get a full detection anyway.
		c.tr.DetectEvery = 8
		c.tr.Limits.MaxBytes, c.tr.Limits.MaxPixels = int64(p.MaxFrameBytes), int64(p.MaxPixels)
		return js.ValueOf(map[string]any{
			"track":  promiseFunc(c.track),
			"offer":  promiseFunc(c.offer),
			"submit": promiseFunc(c.submit),
			"wipe": js.FuncOf(func(js.Value, []js.Value) any {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.live.Wipe()
				return nil
			}),
		}), nil
	}, nil
}

func guidanceJS(g capture.Guidance, o *capture.Observation) map[string]any {
	m := map[string]any{
		"code": string(g.Code), "action": g.Action, "step": g.Step, "steps": g.Steps,
		"candidate": g.Candidate, "done": g.Code == capture.GuideDone,
	}
	if o != nil {
		m["faces"] = o.Faces
	}
	return m
}

// track answers cap.track(rgba, width, height): the fast measurement of one
// camera frame (RGBA bytes, e.g. ImageData.data) and the guidance for it.
func (c *jsCapture) track(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 3 || args[1].Type() != js.TypeNumber || args[2].Type() != js.TypeNumber {
		return nil, badArg("track takes (rgba, width, height)")
	}
	w, h := args[1].Int(), args[2].Int()
	if w < 1 || h < 1 || w > 4096 || h > 4096 {
		return nil, badArg("track: frame size %d×%d out of range", w, h)
	}
	pix, err := pixels(args[0], "rgba")
	if err != nil {
		return nil, err
	}
	if len(pix) != 4*w*h {
		return nil, badArg("track: %d bytes for a %d×%d RGBA frame", len(pix), w, h)
	}
	return func(context.Context) (any, error) {
		img := &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
		c.mu.Lock()
		defer c.mu.Unlock()
		o := c.tr.Observe(img)
		clear(pix)
		return js.ValueOf(guidanceJS(c.live.Guide(o), &o)), nil
	}, nil
}

// offer answers cap.offer(jpeg): the frame as it would be sent, measured as
// the enclave measures it, and kept if it advances the capture.
func (c *jsCapture) offer(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 1 {
		return nil, badArg("offer takes one encoded frame (Uint8Array)")
	}
	data, err := byteArray(args[0], "frame")
	if err != nil {
		return nil, err
	}
	return func(context.Context) (any, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		o, err := c.tr.Measure(data)
		if err != nil {
			clear(data)
			return nil, badArg("%v", err)
		}
		kept, g := c.live.Offer(data, o)
		clear(data) // Live keeps its own copy
		m := guidanceJS(g, &o)
		m["kept"] = kept
		return js.ValueOf(m), nil
	}, nil
}

// submit answers cap.submit(op): the kept frames go to the enclave sealed
// (op: "enroll", "login" or "remove"), and are wiped whatever the outcome.
func (c *jsCapture) submit(args []js.Value) (func(context.Context) (any, error), error) {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return nil, badArg(`submit takes "enroll", "login" or "remove"`)
	}
	var op faceOp
	switch args[0].String() {
	case "enroll":
		op = c.jc.c.Enroll
	case "login":
		op = c.jc.c.Login
	case "remove":
		op = c.jc.c.Delete
	default:
		return nil, badArg(`submit takes "enroll", "login" or "remove", not %q`, args[0].String())
	}
	c.mu.Lock()
	frames, err := c.live.Frames()
	c.mu.Unlock()
	if err != nil {
		return nil, badArg("%v", err)
	}
	c.jc.mu.Lock()
	ch, ok := c.jc.challenges[c.id]
	delete(c.jc.challenges, c.id)
	c.jc.mu.Unlock()
	if !ok {
		return nil, badArg("challenge %s was already used", c.id)
	}
	return func(ctx context.Context) (any, error) {
		defer func() {
			c.mu.Lock()
			c.live.Wipe()
			c.mu.Unlock()
		}()
		res, err := op(ctx, ch, frames)
		if err != nil {
			return nil, err
		}
		return resultJS(res)
	}, nil
}

// pixels copies a Uint8Array or Uint8ClampedArray (ImageData.data).
func pixels(v js.Value, name string) ([]byte, error) {
	if v.Type() != js.TypeObject || !(v.InstanceOf(js.Global().Get("Uint8Array")) || v.InstanceOf(js.Global().Get("Uint8ClampedArray"))) {
		return nil, badArg("%s must be a Uint8Array or Uint8ClampedArray", name)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}
