package eval

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"sync"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

// EmbedFile decodes the image at path under lim and returns every face with
// its vector, best detector score first, and the image bounds.
func EmbedFile(e vectors.Engine, path string, lim imageio.Limits) ([]vectors.Face, []vectors.FaceVector, image.Rectangle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	img, _, err := imageio.Decode(data, lim)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	faces, err := e.Detect(img)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	vecs := make([]vectors.FaceVector, len(faces))
	for i, f := range faces {
		if vecs[i], err = e.Embed(img, f); err != nil {
			return nil, nil, image.Rectangle{}, err
		}
	}
	return faces, vecs, img.Bounds(), nil
}

// Subject returns the index of the photo's subject: the face whose box
// centre is nearest the image centre (ties: the larger box). Portraits and
// dataset photos (LFW centres its subject) frame the subject there, while
// the largest or best-scoring face may be a bystander cut by the border.
func Subject(faces []vectors.Face, b image.Rectangle) int {
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	best, bestD := 0, math.Inf(1)
	for i, f := range faces {
		dx := float64(f.Box.X+f.Box.W/2) - cx
		dy := float64(f.Box.Y+f.Box.H/2) - cy
		d := dx*dx + dy*dy
		if d < bestD || d == bestD && f.Box.W*f.Box.H > faces[best].Box.W*faces[best].Box.H {
			best, bestD = i, d
		}
	}
	return best
}

// Failure is an image of a dataset that gave no vector.
type Failure struct {
	File string
	Err  error
}

// EmbedDataset embeds the subject (see [Subject]) of every image. vecs[i] holds the
// vectors of people[i]. progress, if not nil, is called after each image.
func EmbedDataset(e vectors.Engine, people []Person, lim imageio.Limits, progress func(done, total int)) (vecs [][]vectors.FaceVector, failures []Failure) {
	total := 0
	for _, p := range people {
		total += len(p.Files)
	}
	done := 0
	vecs = make([][]vectors.FaceVector, len(people))
	for i, p := range people {
		for _, f := range p.Files {
			faces, vs, b, err := EmbedFile(e, f, lim)
			if err != nil {
				failures = append(failures, Failure{File: f, Err: fmt.Errorf("%s: %w", f, err)})
			} else {
				vecs[i] = append(vecs[i], vs[Subject(faces, b)])
			}
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return vecs, failures
}

// ImageResult is what an engine made of one image of a dataset.
type ImageResult struct {
	Person int    // index into the people passed to [EmbedImages]
	File   string // path
	// Vector is the subject's vector (see [Subject]); nil when Err is set.
	Vector *vectors.FaceVector
	Err    error
	// DetectNS and EmbedNS are the wall times (ns) of detection and of
	// alignment + embedding, measured when they were computed — in this run
	// or, when Cached, in the run that filled the cache (0: not measured).
	DetectNS, EmbedNS int64
	// Cached is true when the vector came from the cache; DetCached when
	// the detections did.
	Cached, DetCached bool
}

// EmbedOptions configures [EmbedImages].
type EmbedOptions struct {
	Limits imageio.Limits
	// Cache, if not nil, is read before and written after every computation.
	Cache *Cache
	// Workers is the number of images processed at once (≤ 0: 1).
	Workers int
	// Now, if not nil, is the clock the detection and embedding times are
	// measured with.
	Now func() time.Time
	// Progress, if not nil, is called after each image (from one goroutine
	// at a time).
	Progress func(done, total int)
}

// detectorOwner is implemented by engines built on a shared
// [detect.Detector] (every faceengine engine): their detections are cached
// under the detector's key and shared between engines.
type detectorOwner interface{ Detector() *detect.Detector }

// DetectorKey identifies what e.Detect computes: SHA-256 of the detector's
// weights hash and its options when e exposes its detector, otherwise of
// the engine's ID and model hash (detections then stay private to e).
func DetectorKey(e vectors.Engine) [32]byte {
	h := sha256.New()
	if d, ok := e.(detectorOwner); ok && d.Detector() != nil {
		sha := d.Detector().ModelSHA256()
		opts, _ := json.Marshal(d.Detector().Options())
		h.Write([]byte("detector\x00"))
		h.Write(sha[:])
		h.Write(opts)
	} else {
		sha := e.ModelSHA256()
		h.Write([]byte("engine\x00" + e.ID() + "\x00"))
		h.Write(sha[:])
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// EmbedImages detects and embeds the subject of every image of people with
// opt.Workers goroutines, reading and filling opt.Cache. Results are in
// people/file order. A per-image failure (unreadable, undecodable, no face)
// is that image's Err; the returned error is for the cache alone (a run
// that cannot trust or write its cache stops).
func EmbedImages(e vectors.Engine, people []Person, opt EmbedOptions) ([]ImageResult, error) {
	var res []ImageResult
	for i, p := range people {
		for _, f := range p.Files {
			res = append(res, ImageResult{Person: i, File: f})
		}
	}
	det := DetectorKey(e)
	model := e.ModelSHA256()
	jobs := make(chan int)
	var (
		mu       sync.Mutex
		done     int
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	var wg sync.WaitGroup
	for range max(1, opt.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := embedOne(e, det, model, &res[i], opt); err != nil {
					fail(err)
				}
				mu.Lock()
				done++
				if opt.Progress != nil {
					opt.Progress(done, len(res))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range res {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

// embedOne fills r; it returns an error only for the cache.
func embedOne(e vectors.Engine, det, model [32]byte, r *ImageResult, opt EmbedOptions) error {
	since := func() func() int64 {
		if opt.Now == nil {
			return func() int64 { return 0 }
		}
		t0 := opt.Now()
		return func() int64 { return max(1, int64(opt.Now().Sub(t0))) }
	}
	data, err := os.ReadFile(r.File)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", r.File, err)
		return nil
	}
	img := sha256.Sum256(data)
	if opt.Cache != nil {
		v, ok, err := opt.Cache.Vector(e.ID(), model, img)
		if err != nil {
			return err
		}
		if ok {
			if len(v.Values) != e.Dim() {
				return fmt.Errorf("%w: cached %s vector has %d values, engine makes %d", ErrCache, e.ID(), len(v.Values), e.Dim())
			}
			r.Vector = &vectors.FaceVector{Engine: e.ID(), ModelSHA256: model, Values: v.Values}
			r.EmbedNS, r.Cached = v.NS, true
			if d, ok, err := opt.Cache.Detections(det, img); err == nil && ok {
				r.DetectNS = d.NS
			}
			return nil
		}
	}
	var decoded image.Image
	decode := func() error {
		if decoded == nil {
			im, _, err := imageio.Decode(data, opt.Limits)
			if err != nil {
				return fmt.Errorf("%s: %w", r.File, err)
			}
			decoded = im
		}
		return nil
	}
	var d Detections
	ok := false
	if opt.Cache != nil {
		if d, ok, err = opt.Cache.Detections(det, img); err != nil {
			return err
		}
		r.DetCached = ok
	}
	if !ok {
		if r.Err = decode(); r.Err != nil {
			return nil
		}
		stop := since()
		faces, err := e.Detect(decoded)
		ns := stop()
		if err != nil && !errors.Is(err, vectors.ErrNoFace) {
			r.Err = fmt.Errorf("%s: %w", r.File, err)
			return nil
		}
		b := decoded.Bounds()
		d = Detections{W: b.Dx(), H: b.Dy(), Faces: faces, NS: ns}
		if opt.Cache != nil {
			if err := opt.Cache.PutDetections(det, img, d); err != nil {
				return err
			}
		}
	}
	r.DetectNS = d.NS
	if len(d.Faces) == 0 {
		r.Err = fmt.Errorf("%s: %w", r.File, vectors.ErrNoFace)
		return nil
	}
	if r.Err = decode(); r.Err != nil {
		return nil
	}
	if b := decoded.Bounds(); b.Dx() != d.W || b.Dy() != d.H {
		return fmt.Errorf("%w: %s: cached detections are for a %dx%d image, not %dx%d", ErrCache, r.File, d.W, d.H, b.Dx(), b.Dy())
	}
	face := d.Faces[Subject(d.Faces, decoded.Bounds())]
	stop := since()
	v, err := e.Embed(decoded, face)
	ns := stop()
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", r.File, err)
		return nil
	}
	r.Vector, r.EmbedNS = &v, ns
	if opt.Cache != nil {
		return opt.Cache.PutVector(e.ID(), model, img, CachedVector{Values: v.Values, NS: ns})
	}
	return nil
}

// Group returns the vectors of res per person: vecs[p] holds person p's
// vectors in file order (images without one are skipped).
func Group(res []ImageResult, people int) [][]vectors.FaceVector {
	vecs := make([][]vectors.FaceVector, people)
	for _, r := range res {
		if r.Vector != nil {
			vecs[r.Person] = append(vecs[r.Person], *r.Vector)
		}
	}
	return vecs
}
