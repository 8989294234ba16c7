package mobilefacenet

import (
	"embed"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"sync"

	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/tfjs"
)

// Model files, copied unchanged from the npm package (see
// model/PROVENANCE.md).
//
//go:embed model/mobileface.json model/mobileface.bin
var modelFS embed.FS

const modelJSON = "model/mobileface.json"

const (
	// InputSize is the side of the square RGB crop the network reads.
	InputSize = 112
	// Dim is the length of the embedding.
	Dim = 256
)

const (
	inputName  = "data"
	outputName = "batchnorm0/add_1"
)

var (
	// ErrCropSize reports a crop that is not InputSize×InputSize.
	ErrCropSize = errors.New("mobilefacenet: crop must be 112x112")
	// ErrNotFinite reports a forward pass that produced NaN, ±Inf or an
	// all-zero vector; the crop cannot be embedded.
	ErrNotFinite = errors.New("mobilefacenet: embedding is not finite")
	// ErrModel reports embedded weights that fail to load (a build defect).
	ErrModel = errors.New("mobilefacenet: cannot load model")
)

// Net is the loaded MobileFaceNet. It is immutable and safe for concurrent
// use; [New] returns the same shared instance every time.
type Net struct {
	model *tfjs.Model
	sha   [32]byte
}

var shared = sync.OnceValues(load)

// New returns the network, loading and validating the embedded weights on
// first use.
func New() (*Net, error) { return shared() }

func load() (*Net, error) {
	sha, err := modelHash(modelFS, modelJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	m, err := tfjs.Load(modelFS, modelJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	in, out := m.Inputs(), m.Outputs()
	if len(in) != 1 || in[0].Name != inputName || len(out) != 1 || out[0].Name != outputName {
		return nil, fmt.Errorf("%w: unexpected signature %v -> %v", ErrModel, in, out)
	}
	return &Net{model: m, sha: sha}, nil
}

// modelHash is SHA-256 over model.json followed by its weight shards in
// manifest order — the bytes that define the network.
func modelHash(fsys fs.FS, name string) ([32]byte, error) {
	return embednet.HashFiles(fsys, name, "model/mobileface.bin")
}

// ModelSHA256 identifies the weights: SHA-256 over mobileface.json followed
// by mobileface.bin.
func (n *Net) ModelSHA256() [32]byte { return n.sha }

// InputSize returns the crop side the network reads (112).
func (n *Net) InputSize() int { return InputSize }

// Dim returns the embedding length (256).
func (n *Net) Dim() int { return Dim }

// Preprocess turns a crop into the network's input tensor, shape
// [1, 112, 112, 3]: the R, G and B bytes as floats in [0, 255], alpha
// ignored. The graph itself then maps v to (v − 127.5)/128, the
// normalisation the network was trained with.
func Preprocess(crop *image.RGBA) (*nn.Tensor, error) {
	t, ok := embednet.Input(crop, InputSize, [3]float32{}, [3]float32{1, 1, 1})
	if !ok {
		b := crop.Bounds()
		return nil, fmt.Errorf("%w: got %dx%d", ErrCropSize, b.Dx(), b.Dy())
	}
	return t, nil
}

// Embed runs the network on an aligned crop (InputSize×InputSize, RGB,
// opaque; see the package documentation for the alignment it expects) and
// returns the L2-normalised 192-d embedding.
func (n *Net) Embed(crop *image.RGBA) ([]float32, error) {
	x, err := Preprocess(crop)
	if err != nil {
		return nil, err
	}
	out, err := n.model.Run(map[string]*nn.Tensor{inputName: x})
	if err != nil {
		return nil, fmt.Errorf("mobilefacenet: %w", err)
	}
	e := out[outputName]
	if e == nil || len(e.Data) != Dim {
		return nil, fmt.Errorf("%w: output %v", ErrModel, e)
	}
	v := append([]float32(nil), e.Data...)
	if !embednet.UnitNorm(v) {
		return nil, ErrNotFinite
	}
	return v, nil
}
