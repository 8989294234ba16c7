package eval

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/facesign/facesign/vectors"
)

// ErrCache reports a cache directory or record that cannot be used.
var ErrCache = errors.New("eval: bad cache")

// Cache keeps, under one directory, what the expensive part of an
// evaluation produced for every image: the detections (keyed by the image
// file's SHA-256 and the detector — its weights and options, see
// [DetectorKey]) and each engine's vector of the image's subject (keyed by
// the image's SHA-256, the engine ID and the engine's model hash). A changed
// image, detector, engine or weight file therefore never reads a stale
// entry.
//
// Each key space is one append-only JSON-lines file ("det-<key>.jsonl",
// "vec-<engine>-<model>.jsonl"); a record is written in one call, and a
// torn last line (a run killed mid-write) is cut off when the file is next
// opened. Any other malformed line is an error wrapping [ErrCache] naming
// the file and line (delete the file to rebuild it): a cache is never
// half-trusted. Dense landmarks ([vectors.Face.Landmarks]) are not kept;
// engines read the five alignment points. One process at a time should
// write a directory. A Cache is safe for concurrent use.
type Cache struct {
	dir    string
	mu     sync.Mutex
	stores map[string]*store
}

// store is one open cache file and its records by image hash.
type store struct {
	f   *os.File
	det map[[32]byte]Detections
	vec map[[32]byte]CachedVector
}

// Detections are the faces a detector found in one image.
type Detections struct {
	W, H  int // image size in pixels
	Faces []vectors.Face
	// NS is the detection's wall time in nanoseconds when it was computed
	// (0 if not measured).
	NS int64
}

// CachedVector is the vector of one image's subject.
type CachedVector struct {
	Values []float32
	// NS is the alignment + embedding wall time in nanoseconds when it was
	// computed (0 if not measured).
	NS int64
}

// OpenCache uses dir (created if missing) as a cache.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCache, err)
	}
	return &Cache{dir: dir, stores: map[string]*store{}}, nil
}

// Close closes the cache's files.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.stores {
		errs = append(errs, s.f.Close())
	}
	c.stores = map[string]*store{}
	return errors.Join(errs...)
}

var engineIDPattern = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,64}$`)

func detFile(det [32]byte) string { return "det-" + hex.EncodeToString(det[:16]) + ".jsonl" }

func vecFile(engine string, model [32]byte) string {
	return "vec-" + engine + "-" + hex.EncodeToString(model[:16]) + ".jsonl"
}

// detLine and vecLine are the JSON records.
type detLine struct {
	Image    string     `json:"image_sha256"`
	Detector string     `json:"detector"`
	W        int        `json:"w"`
	H        int        `json:"h"`
	Faces    []faceLine `json:"faces"`
	NS       int64      `json:"detect_ns"`
}

type faceLine struct {
	Box              vectors.Box      `json:"box"`
	Score            float32          `json:"score"`
	Five             [5]vectors.Point `json:"five"`
	Yaw, Pitch, Roll float32
	MouthOpen        float32 `json:"mouth_open"`
}

type vecLine struct {
	Image  string `json:"image_sha256"`
	Engine string `json:"engine"`
	Model  string `json:"model_sha256"`
	Dim    int    `json:"dim"`
	Vector string `json:"vector"` // base64 of little-endian float32
	NS     int64  `json:"embed_ns"`
}

// maxCacheDim and maxCacheFaces bound what one record may hold.
const (
	maxCacheDim   = 1 << 14
	maxCacheFaces = 64
	maxCacheSide  = 1 << 16
)

func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 64 {
		return h, fmt.Errorf("hash %q is not 64 hex digits", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %v", s, err)
	}
	return h, nil
}

func finite(fs ...float32) bool {
	for _, f := range fs {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	return true
}

// parseDetLine decodes one detections record written for detector det.
func parseDetLine(line []byte, det [32]byte) ([32]byte, Detections, error) {
	var l detLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return [32]byte{}, Detections{}, err
	}
	if dec.More() {
		return [32]byte{}, Detections{}, errors.New("trailing data")
	}
	img, err := decodeHash(l.Image)
	if err != nil {
		return img, Detections{}, err
	}
	if d, err := decodeHash(l.Detector); err != nil || d != det {
		return img, Detections{}, fmt.Errorf("detector %q does not match the file", l.Detector)
	}
	if l.W < 1 || l.H < 1 || l.W > maxCacheSide || l.H > maxCacheSide || l.NS < 0 || len(l.Faces) > maxCacheFaces {
		return img, Detections{}, fmt.Errorf("image %dx%d, %d faces, %d ns out of range", l.W, l.H, len(l.Faces), l.NS)
	}
	d := Detections{W: l.W, H: l.H, NS: l.NS, Faces: make([]vectors.Face, len(l.Faces))}
	for i, f := range l.Faces {
		vals := []float32{f.Box.X, f.Box.Y, f.Box.W, f.Box.H, f.Score, f.Yaw, f.Pitch, f.Roll, f.MouthOpen}
		for _, p := range f.Five {
			vals = append(vals, p.X, p.Y)
		}
		if !finite(vals...) {
			return img, Detections{}, fmt.Errorf("face %d has a value that is not finite", i)
		}
		d.Faces[i] = vectors.Face{Box: f.Box, Score: f.Score, Five: f.Five, Yaw: f.Yaw, Pitch: f.Pitch, Roll: f.Roll, MouthOpen: f.MouthOpen}
	}
	return img, d, nil
}

func marshalDetLine(img, det [32]byte, d Detections) ([]byte, error) {
	l := detLine{Image: hex.EncodeToString(img[:]), Detector: hex.EncodeToString(det[:]), W: d.W, H: d.H, NS: d.NS, Faces: []faceLine{}}
	for _, f := range d.Faces {
		l.Faces = append(l.Faces, faceLine{Box: f.Box, Score: f.Score, Five: f.Five, Yaw: f.Yaw, Pitch: f.Pitch, Roll: f.Roll, MouthOpen: f.MouthOpen})
	}
	return json.Marshal(l)
}

// parseVecLine decodes one vector record written for engine / model.
func parseVecLine(line []byte, engine string, model [32]byte) ([32]byte, CachedVector, error) {
	var l vecLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return [32]byte{}, CachedVector{}, err
	}
	if dec.More() {
		return [32]byte{}, CachedVector{}, errors.New("trailing data")
	}
	img, err := decodeHash(l.Image)
	if err != nil {
		return img, CachedVector{}, err
	}
	if m, err := decodeHash(l.Model); err != nil || m != model || l.Engine != engine {
		return img, CachedVector{}, fmt.Errorf("engine %q model %q do not match the file", l.Engine, l.Model)
	}
	if l.Dim < 1 || l.Dim > maxCacheDim || l.NS < 0 {
		return img, CachedVector{}, fmt.Errorf("dim %d or time %d out of range", l.Dim, l.NS)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(l.Vector)
	if err != nil {
		return img, CachedVector{}, fmt.Errorf("vector: %v", err)
	}
	if len(raw) != 4*l.Dim {
		return img, CachedVector{}, fmt.Errorf("vector has %d bytes, want %d", len(raw), 4*l.Dim)
	}
	v := make([]float32, l.Dim)
	var norm float64
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		norm += float64(v[i]) * float64(v[i])
	}
	if !finite(v...) || math.Abs(math.Sqrt(norm)-1) > vectors.UnitTolerance {
		return img, CachedVector{}, fmt.Errorf("vector is not finite and L2-normalised (norm %v)", math.Sqrt(norm))
	}
	return img, CachedVector{Values: v, NS: l.NS}, nil
}

func marshalVecLine(img [32]byte, engine string, model [32]byte, v CachedVector) ([]byte, error) {
	raw := make([]byte, 4*len(v.Values))
	for i, x := range v.Values {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return json.Marshal(vecLine{Image: hex.EncodeToString(img[:]), Engine: engine, Model: hex.EncodeToString(model[:]),
		Dim: len(v.Values), Vector: base64.StdEncoding.EncodeToString(raw), NS: v.NS})
}

// open returns the store of file name, reading it on first use; parse
// decodes one line into the store.
func (c *Cache) open(name string, parse func(s *store, line []byte) error) (*store, error) {
	if s, ok := c.stores[name]; ok {
		return s, nil
	}
	path := filepath.Join(c.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCache, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrCache, err)
	}
	s := &store{f: f, det: map[[32]byte]Detections{}, vec: map[[32]byte]CachedVector{}}
	whole := bytes.LastIndexByte(data, '\n') + 1
	for n, line := range bytes.Split(data[:whole], []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		if err := parse(s, line); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s line %d: %v (delete the file to rebuild it)", ErrCache, path, n+1, err)
		}
	}
	if whole < len(data) { // torn last record
		if err := f.Truncate(int64(whole)); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %w", ErrCache, err)
		}
	}
	if _, err := f.Seek(int64(whole), io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrCache, err)
	}
	c.stores[name] = s
	return s, nil
}

func (c *Cache) detStore(det [32]byte) (*store, error) {
	return c.open(detFile(det), func(s *store, line []byte) error {
		img, d, err := parseDetLine(line, det)
		if err != nil {
			return err
		}
		if _, dup := s.det[img]; !dup {
			s.det[img] = d
		}
		return nil
	})
}

func (c *Cache) vecStore(engine string, model [32]byte) (*store, error) {
	if !engineIDPattern.MatchString(engine) {
		return nil, fmt.Errorf("%w: engine ID %q cannot name a cache file", ErrCache, engine)
	}
	return c.open(vecFile(engine, model), func(s *store, line []byte) error {
		img, v, err := parseVecLine(line, engine, model)
		if err != nil {
			return err
		}
		if _, dup := s.vec[img]; !dup {
			s.vec[img] = v
		}
		return nil
	})
}

// Detections returns the cached detections of the image with hash img by
// detector det.
func (c *Cache) Detections(det, img [32]byte) (Detections, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.detStore(det)
	if err != nil {
		return Detections{}, false, err
	}
	d, ok := s.det[img]
	return d, ok, nil
}

// PutDetections records d for the image with hash img and detector det.
func (c *Cache) PutDetections(det, img [32]byte, d Detections) error {
	line, err := marshalDetLine(img, det, d)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	// Check the record as a reader will (and keep what it will see: no
	// dense landmarks) before it reaches the file.
	if _, d, err = parseDetLine(line, det); err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.detStore(det)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	s.det[img] = d
	return nil
}

// Vector returns the cached subject vector of the image with hash img by
// engine (ID and model hash).
func (c *Cache) Vector(engine string, model, img [32]byte) (CachedVector, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.vecStore(engine, model)
	if err != nil {
		return CachedVector{}, false, err
	}
	v, ok := s.vec[img]
	return v, ok, nil
}

// PutVector records v for the image with hash img and engine / model.
func (c *Cache) PutVector(engine string, model, img [32]byte, v CachedVector) error {
	line, err := marshalVecLine(img, engine, model, v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	if _, v, err = parseVecLine(line, engine, model); err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.vecStore(engine, model)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%w: %w", ErrCache, err)
	}
	s.vec[img] = v
	return nil
}
