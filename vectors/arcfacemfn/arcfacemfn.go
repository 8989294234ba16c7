package arcfacemfn

import (
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/tflite"
)

// The model file, copied unchanged from the npm package (see
// model/PROVENANCE.md).
//
//go:embed model/MobileFaceNet.tflite
var modelFile []byte

const (
	// InputSize is the side of the square RGB crop the network reads.
	InputSize = 112
	// Dim is the length of the embedding.
	Dim = 192
)

const (
	inputName  = "input"
	outputName = "embeddings"
)

var (
	// ErrCropSize reports a crop that is not InputSize×InputSize.
	ErrCropSize = errors.New("arcfacemfn: crop must be 112x112")
	// ErrNotFinite reports a forward pass that produced NaN, ±Inf or an
	// all-zero vector; the crop cannot be embedded.
	ErrNotFinite = errors.New("arcfacemfn: embedding is not finite")
	// ErrModel reports embedded weights that fail to load (a build defect).
	ErrModel = errors.New("arcfacemfn: cannot load model")
)

// Net is the loaded network. It is immutable and safe for concurrent use;
// [New] returns the same shared instance every time.
type Net struct {
	model *tflite.Model
	sha   [32]byte
}

var shared = sync.OnceValues(func() (*Net, error) { return load(modelFile) })

// New returns the network, loading and validating the embedded weights on
// first use.
func New() (*Net, error) { return shared() }

func load(file []byte) (*Net, error) {
	m, err := tflite.Read(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	in, out := m.Inputs(), m.Outputs()
	if len(in) != 1 || in[0].Name != inputName || len(in[0].Shape) != 4 || in[0].Shape[0] != 1 ||
		len(out) != 1 || out[0].Name != outputName {
		return nil, fmt.Errorf("%w: unexpected signature %v -> %v", ErrModel, in, out)
	}
	return &Net{model: m, sha: sha256.Sum256(file)}, nil
}

// ModelSHA256 identifies the weights: SHA-256 of MobileFaceNet.tflite.
func (n *Net) ModelSHA256() [32]byte { return n.sha }

// InputSize returns the crop side the network reads (112).
func (n *Net) InputSize() int { return InputSize }

// Dim returns the embedding length (192).
func (n *Net) Dim() int { return Dim }

// Preprocess turns a crop into the network's input tensor, shape
// [1, 112, 112, 3]: per R, G, B byte v the value (v − 127.5)/128 in
// float32, alpha ignored.
func Preprocess(crop *image.RGBA) (*nn.Tensor, error) {
	t, ok := embednet.Input(crop, InputSize, [3]float32{127.5, 127.5, 127.5}, [3]float32{128, 128, 128})
	if !ok {
		b := crop.Bounds()
		return nil, fmt.Errorf("%w: got %dx%d", ErrCropSize, b.Dx(), b.Dy())
	}
	return t, nil
}

// raw runs the network and returns its output, not normalised.
func (n *Net) raw(crop *image.RGBA) ([]float32, error) {
	x, err := Preprocess(crop)
	if err != nil {
		return nil, err
	}
	out, err := n.model.Run(map[string]*nn.Tensor{inputName: x})
	if err != nil {
		return nil, fmt.Errorf("arcfacemfn: %w", err)
	}
	e := out[outputName]
	if e == nil || len(e.Data) != Dim {
		return nil, fmt.Errorf("%w: output %v", ErrModel, e)
	}
	return e.Data, nil
}

// Embed runs the network on an aligned crop (InputSize×InputSize, RGB;
// see the package documentation for the alignment it expects) and
// returns the L2-normalised 192-d embedding.
func (n *Net) Embed(crop *image.RGBA) ([]float32, error) {
	return embednet.Embed(n.raw, crop, ErrNotFinite)
}

// EmbedFlip embeds crop and its mirror image and returns their sum,
// L2-normalised: test-time flip augmentation. It costs two forward
// passes and is not what [Net.Embed] (and the arcface-mfn engine) does;
// its vectors must not be compared with Embed's. Measured with facesign
// eval on 572 images of 200 LFW people (608 genuine, 162,127 impostor
// pairs): the same EER (0.49 %), TAR at FAR 1e-4 96.9 % against 96.7 %,
// at 1e-5 94.9 % against 92.6 % (from a handful of impostor pairs) — a
// small gain at twice the embedding time, so the engine does not use it.
func (n *Net) EmbedFlip(crop *image.RGBA) ([]float32, error) {
	return embednet.EmbedFlip(n.raw, crop, ErrNotFinite)
}
