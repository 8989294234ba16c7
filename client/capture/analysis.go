package capture

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// Measurement is what an engine sees in one frame.
type Measurement struct {
	Faces     int     `json:"faces"`
	Yaw       float32 `json:"yaw"`
	MouthOpen float32 `json:"mouth_open"`
	// Vector is the face's embedding (float32 little-endian, base64) when
	// the frame holds exactly one face.
	Vector string `json:"vector,omitempty"`
}

// Analysis caches measurements of recorded frames, keyed by the SHA-256 of
// each frame's bytes, made with one engine. The face engine is slow on a
// CPU; recordings used again and again (the demo, the end-to-end tests) are
// measured once with "facesign analyze" and the cache is committed beside
// them. A cache is only valid for the exact engine weights it names.
type Analysis struct {
	Engine      string                 `json:"engine"`
	ModelSHA256 string                 `json:"model_sha256"` // hex
	Frames      map[string]Measurement `json:"frames"`       // hex SHA-256 of the frame → measurement
}

// ErrStaleAnalysis reports a cache made with other engine weights.
var ErrStaleAnalysis = errors.New("capture: frame analysis was made with another engine")

// Measure runs e over one encoded frame.
func Measure(e vectors.Engine, data []byte) (Measurement, error) {
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return Measurement{}, err
	}
	faces, err := e.Detect(img)
	if err != nil || len(faces) == 0 {
		return Measurement{}, nil // no face: the engine's own error says why
	}
	m := Measurement{Faces: len(faces)}
	if len(faces) == 1 {
		m.Yaw, m.MouthOpen = faces[0].Yaw, faces[0].MouthOpen
		v, err := e.Embed(img, faces[0])
		if err != nil {
			return Measurement{}, err
		}
		m.Vector = base64.StdEncoding.EncodeToString(FloatsLE(v.Values))
	}
	return m, nil
}

// FloatsLE encodes v as little-endian float32s (how the enclave stores vectors).
func FloatsLE(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// VectorOf decodes m's vector.
func (m Measurement) VectorOf() ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(m.Vector)
	if err != nil || len(b)%4 != 0 {
		return nil, fmt.Errorf("capture: bad cached vector")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Key is the cache key of a frame.
func Key(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// NewAnalysis measures frames with e.
func NewAnalysis(e vectors.Engine, frames [][]byte) (*Analysis, error) {
	sum := e.ModelSHA256()
	a := &Analysis{Engine: e.ID(), ModelSHA256: hex.EncodeToString(sum[:]), Frames: map[string]Measurement{}}
	for _, f := range frames {
		m, err := Measure(e, f)
		if err != nil {
			return nil, err
		}
		a.Frames[Key(f)] = m
	}
	return a, nil
}

// LoadAnalysis reads a cache written by [Analysis.Save].
func LoadAnalysis(path string) (*Analysis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Analysis
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	return &a, nil
}

// Save writes the cache as JSON.
func (a *Analysis) Save(path string) error {
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// For checks the cache was made with the engine a policy names.
func (a *Analysis) For(engine string, modelSHA256 []byte) error {
	if a.Engine != engine || a.ModelSHA256 != hex.EncodeToString(modelSHA256) {
		return fmt.Errorf("%w: cache %s %s, enclave %s %x (regenerate with facesign analyze)", ErrStaleAnalysis, a.Engine, a.ModelSHA256, engine, modelSHA256)
	}
	return nil
}

// Analyzer answers from the cache, and for frames it does not hold from
// fallback (nil: such a frame is an error).
func (a *Analysis) Analyzer(fallback Analyzer) Analyzer { return cached{a, fallback} }

type cached struct {
	a        *Analysis
	fallback Analyzer
}

var _ Analyzer = cached{}

func (c cached) Analyze(data []byte) (int, float32, float32, error) {
	if m, ok := c.a.Frames[Key(data)]; ok {
		return m.Faces, m.Yaw, m.MouthOpen, nil
	}
	if c.fallback == nil {
		return 0, 0, 0, errors.New("capture: frame not in the analysis cache")
	}
	return c.fallback.Analyze(data)
}
