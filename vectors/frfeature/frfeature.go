package frfeature

import (
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"

	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/onnx"
)

// The model file, copied unchanged from the npm package (see
// model/PROVENANCE.md).
//
//go:embed model/fr_feature.onnx
var modelFS embed.FS

const modelFile = "model/fr_feature.onnx"

const (
	// InputSize is the side of the square RGB crop the network reads.
	InputSize = 112
	// Dim is the length of the embedding.
	Dim = 512
)

const (
	inputName  = "input"
	outputName = "output"
)

var (
	// ErrCropSize reports a crop that is not InputSize×InputSize.
	ErrCropSize = errors.New("frfeature: crop must be 112x112")
	// ErrNotFinite reports a forward pass that produced NaN, ±Inf or an
	// all-zero vector; the crop cannot be embedded.
	ErrNotFinite = errors.New("frfeature: embedding is not finite")
	// ErrModel reports embedded weights that fail to load (a build defect).
	ErrModel = errors.New("frfeature: cannot load model")
)

// Net is the loaded network. It is immutable and safe for concurrent use;
// [New] returns the same shared instance every time.
type Net struct {
	model *onnx.Model
	sha   [32]byte
}

var shared = sync.OnceValues(load)

// New returns the network, loading and validating the embedded weights on
// first use.
func New() (*Net, error) { return shared() }

func load() (*Net, error) {
	raw, err := modelFS.ReadFile(modelFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	m, err := onnx.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	in, out := m.Inputs(), m.Outputs()
	if len(in) != 1 || in[0].Name != inputName || len(out) != 1 || out[0].Name != outputName ||
		!slices.Equal(in[0].Shape, []int{1, 3, InputSize, InputSize}) || !slices.Equal(out[0].Shape, []int{1, Dim}) {
		return nil, fmt.Errorf("%w: unexpected signature %v -> %v", ErrModel, in, out)
	}
	return &Net{model: m, sha: sha256.Sum256(raw)}, nil
}

// ModelSHA256 identifies the weights: SHA-256 of fr_feature.onnx.
func (n *Net) ModelSHA256() [32]byte { return n.sha }

// InputSize returns the crop side the network reads (112).
func (n *Net) InputSize() int { return InputSize }

// Dim returns the embedding length (512).
func (n *Net) Dim() int { return Dim }

// Preprocess turns a crop into the network's input: float32 [1, 3, 112,
// 112] (NCHW), channels R, G, B, each value (v − 127) / 128, alpha ignored
// — what faceplugin-face-recognition-js feeds the model.
func Preprocess(crop *image.RGBA) (*nn.Tensor, error) {
	b := crop.Bounds()
	if b.Dx() != InputSize || b.Dy() != InputSize {
		return nil, fmt.Errorf("%w: got %dx%d", ErrCropSize, b.Dx(), b.Dy())
	}
	const plane = InputSize * InputSize
	t := nn.New(1, 3, InputSize, InputSize)
	for y := range InputSize {
		row := crop.Pix[crop.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range InputSize {
			p := y*InputSize + x
			for c := range 3 {
				t.Data[c*plane+p] = (float32(row[4*x+c]) - 127) / 128
			}
		}
	}
	return t, nil
}

// Embed runs the network on an aligned crop (InputSize×InputSize, RGB; see
// the package documentation for the alignment it expects) and returns the
// L2-normalised 512-d embedding.
func (n *Net) Embed(crop *image.RGBA) ([]float32, error) {
	return embednet.Embed(n.raw, crop, ErrNotFinite)
}

// EmbedFlip embeds crop and its mirror image and returns the sum of the two
// raw outputs, L2-normalised: test-time flip augmentation, at twice the
// cost of [Net.Embed]. Its vectors must not be compared with Embed's.
//
// The fr-feature engine does not use it: measured with facesign eval
// through our detector and aligner, on the LFW slice (57 images) EER 1.38 %
// and TAR at FAR 1e-3 97.2 % with and without it; on 527 images of 210 LFW
// people (424 genuine, 138,177 impostor pairs) EER 0.47 % both, TAR at FAR
// 1e-3 98.8 % → 98.6 %, at 1e-4 97.4 % both, at 1e-5 95.1 % → 95.8 % (from
// a handful of impostor pairs) — no reliable gain for 2.3× the embedding
// time (33.8 → 77.3 ms per face).
func (n *Net) EmbedFlip(crop *image.RGBA) ([]float32, error) {
	return embednet.EmbedFlip(n.raw, crop, ErrNotFinite)
}

// raw returns the network's output for crop, not normalised.
func (n *Net) raw(crop *image.RGBA) ([]float32, error) {
	x, err := Preprocess(crop)
	if err != nil {
		return nil, err
	}
	defer clear(x.Data)
	out, err := n.model.Run(map[string]*nn.Tensor{inputName: x})
	if err != nil {
		return nil, fmt.Errorf("frfeature: %w", err)
	}
	v := out[outputName].Data
	if len(v) != Dim {
		return nil, fmt.Errorf("%w: output of %d values", ErrModel, len(v))
	}
	return v, nil
}
