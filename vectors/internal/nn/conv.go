package nn

import (
	"fmt"
	"sync"
)

// scratch recycles im2col buffers between convolutions; every element is
// overwritten before it is read, so no clearing is needed.
var scratch sync.Pool

func getScratch(n int) *[]float32 {
	if p, ok := scratch.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]float32, n)
	return &b
}

func putScratch(p *[]float32) { scratch.Put(p) }

// PadMode selects how a convolution or pooling window is padded.
type PadMode uint8

// Padding modes, with TensorFlow's semantics.
const (
	// PadValid uses no padding: windows lie fully inside the input.
	PadValid PadMode = iota
	// PadSame pads so that out = ceil(in/stride), the odd pixel going to
	// the bottom/right, exactly as TensorFlow does.
	PadSame
	// PadExplicit uses the Top, Bottom, Left and Right amounts.
	PadExplicit
)

// Padding is a padding mode with explicit amounts for [PadExplicit].
type Padding struct {
	Mode                     PadMode
	Top, Bottom, Left, Right int
}

// Window describes a sliding window: strides, dilations and padding.
// A zero stride or dilation means 1.
type Window struct {
	StrideH, StrideW     int
	DilationH, DilationW int
	Pad                  Padding
}

func one(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// geometry is a resolved window over one spatial axis pair.
type geometry struct {
	kh, kw, sh, sw, dh, dw int
	oh, ow                 int
	padTop, padLeft        int
}

// resolve computes the output size and leading padding of a kh×kw window
// over an h×w input.
func (p Window) resolve(h, w, kh, kw int) (geometry, error) {
	g := geometry{kh: kh, kw: kw, sh: one(p.StrideH), sw: one(p.StrideW), dh: one(p.DilationH), dw: one(p.DilationW)}
	if g.sh < 0 || g.sw < 0 || g.dh < 0 || g.dw < 0 {
		return g, fmt.Errorf("%w: negative stride or dilation", ErrArgument)
	}
	if kh <= 0 || kw <= 0 {
		return g, fmt.Errorf("%w: window %dx%d", ErrArgument, kh, kw)
	}
	var err error
	g.oh, g.padTop, err = axis(h, kh, g.sh, g.dh, p.Pad.Mode, p.Pad.Top, p.Pad.Bottom)
	if err != nil {
		return g, err
	}
	g.ow, g.padLeft, err = axis(w, kw, g.sw, g.dw, p.Pad.Mode, p.Pad.Left, p.Pad.Right)
	return g, err
}

func axis(in, k, stride, dil int, mode PadMode, before, after int) (out, padBefore int, err error) {
	eff := (k-1)*dil + 1
	switch mode {
	case PadValid:
		if in >= eff {
			out = (in-eff)/stride + 1
		}
	case PadSame:
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+eff-in, 0)
		padBefore = total / 2
	case PadExplicit:
		if before < 0 || after < 0 {
			return 0, 0, fmt.Errorf("%w: negative padding", ErrArgument)
		}
		padBefore = before
		if in+before+after >= eff {
			out = (in+before+after-eff)/stride + 1
		}
	default:
		return 0, 0, fmt.Errorf("%w: padding mode %d", ErrArgument, mode)
	}
	if out <= 0 {
		return 0, 0, fmt.Errorf("%w: window %d (dilated %d) does not fit input %d", ErrShape, k, eff, in)
	}
	return out, padBefore, nil
}

// Conv2D convolves x (NHWC) with filter w (HWIO: kh, kw, in, out), adds
// bias (one value per output channel, or nil) and applies act, in one pass.
// It lowers the convolution to a matrix product (im2col, skipped for 1×1
// windows) computed by gonum's blas32 GEMM.
func Conv2D(x, w *Tensor, bias []float32, p Window, act Activation) (*Tensor, error) {
	n, h, wd, c, err := dims4(x, "conv input")
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 4 || w.Shape[2] != c {
		return nil, fmt.Errorf("%w: conv filter %v for input %v", ErrShape, w.Shape, x.Shape)
	}
	kh, kw, co := w.Shape[0], w.Shape[1], w.Shape[3]
	if bias != nil && len(bias) != co {
		return nil, fmt.Errorf("%w: %d biases for %d channels", ErrShape, len(bias), co)
	}
	if err := act.check(co); err != nil {
		return nil, err
	}
	g, err := p.resolve(h, wd, kh, kw)
	if err != nil {
		return nil, err
	}
	if _, err := CheckShape([]int{n, g.oh, g.ow, co}); err != nil {
		return nil, err
	}
	kdim := kh * kw * c
	if _, err := CheckShape([]int{g.oh * g.ow, kdim}); err != nil {
		return nil, err
	}
	var out *Tensor
	if packsFilter(g.oh*g.ow, co, kdim) {
		out = newUnwritten(n, g.oh, g.ow, co) // the packed kernel writes it all
	} else {
		out = New(n, g.oh, g.ow, co)
	}
	direct := kh == 1 && kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0
	var cols []float32
	if !direct {
		buf := getScratch(g.oh * g.ow * kdim)
		defer putScratch(buf)
		cols = *buf
	}
	rows := g.oh * g.ow
	for b := range n {
		img := x.Data[b*h*wd*c : (b+1)*h*wd*c]
		a := img
		if !direct {
			im2col(img, h, wd, c, g, cols)
			a = cols
		}
		o := out.Data[b*rows*co : (b+1)*rows*co]
		var epi func(lo, hi int)
		if act.Kind != Linear {
			epi = func(lo, hi int) {
				for r := lo; r < hi; r++ {
					act.applyRow(o[r*co:(r+1)*co], nil)
				}
			}
		}
		if !gemmFilter(rows, co, kdim, a, w, o, bias, epi) && (bias != nil || epi != nil) {
			parallelFor(rows, rows*co, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					act.applyRow(o[r*co:(r+1)*co], bias)
				}
			})
		}
	}
	return out, nil
}

// im2col writes, for every output pixel, the kh·kw·c input values under its
// window (zero where the window hangs over the edge), in filter order.
func im2col(img []float32, h, w, c int, g geometry, cols []float32) {
	kdim := g.kh * g.kw * c
	parallelFor(g.oh, g.oh*g.ow*kdim/8, func(lo, hi int) {
		for oy := lo; oy < hi; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				dst := cols[(oy*g.ow+ox)*kdim : (oy*g.ow+ox+1)*kdim]
				i := 0
				for ky := 0; ky < g.kh; ky++ {
					iy := oy*g.sh - g.padTop + ky*g.dh
					// A window row wholly inside the image, taps adjacent:
					// one copy of its kw·c values.
					if ix := ox*g.sw - g.padLeft; g.dw == 1 && iy >= 0 && iy < h && ix >= 0 && ix+g.kw <= w {
						copy(dst[i:i+g.kw*c], img[(iy*w+ix)*c:(iy*w+ix+g.kw)*c])
						i += g.kw * c
						continue
					}
					for kx := 0; kx < g.kw; kx++ {
						ix := ox*g.sw - g.padLeft + kx*g.dw
						seg := dst[i : i+c]
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							clear(seg)
						} else {
							copy(seg, img[(iy*w+ix)*c:(iy*w+ix+1)*c])
						}
						i += c
					}
				}
			}
		}
	})
}

// DepthwiseConv2D convolves each input channel of x (NHWC) with its own
// filters from w (kh, kw, in, multiplier), giving in·multiplier output
// channels ordered channel-major (output c·m+j is input channel c, filter
// j), then adds bias and applies act — TensorFlow's DepthwiseConv2dNative.
func DepthwiseConv2D(x, w *Tensor, bias []float32, p Window, act Activation) (*Tensor, error) {
	n, h, wd, c, err := dims4(x, "depthwise input")
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 4 || w.Shape[2] != c {
		return nil, fmt.Errorf("%w: depthwise filter %v for input %v", ErrShape, w.Shape, x.Shape)
	}
	kh, kw, m := w.Shape[0], w.Shape[1], w.Shape[3]
	co := c * m
	if bias != nil && len(bias) != co {
		return nil, fmt.Errorf("%w: %d biases for %d channels", ErrShape, len(bias), co)
	}
	if err := act.check(co); err != nil {
		return nil, err
	}
	g, err := p.resolve(h, wd, kh, kw)
	if err != nil {
		return nil, err
	}
	if _, err := CheckShape([]int{n, g.oh, g.ow, co}); err != nil {
		return nil, err
	}
	out := New(n, g.oh, g.ow, co)
	vec := hasPackedGEMM && m == 1 && c >= 8
	c8 := c &^ 7
	var biasp *float32
	if bias != nil {
		biasp = &bias[0]
	}
	parallelFor(n*g.oh, n*g.oh*g.ow*co*kh*kw, func(lo, hi int) {
		var tmp []float32
		if m != 1 {
			tmp = make([]float32, co)
		}
		for r := lo; r < hi; r++ {
			b, oy := r/g.oh, r%g.oh
			img := x.Data[b*h*wd*c : (b+1)*h*wd*c]
			iy0 := oy*g.sh - g.padTop
			ky0, ky1 := tapRange(iy0, kh, g.dh, h)
			for ox := 0; ox < g.ow; ox++ {
				acc := out.Data[((b*g.oh+oy)*g.ow+ox)*co : ((b*g.oh+oy)*g.ow+ox+1)*co]
				if vec {
					// The taps inside the input form a rectangle: all its
					// channel vectors in registers, the same FMAs in the same
					// order as the loop below, bias added last. The last c%8
					// channels are the top of an overlapping 8-channel run.
					ix0 := ox*g.sw - g.padLeft
					kx0, kx1 := tapRange(ix0, kw, g.dw, wd)
					if ky0 < ky1 && kx0 < kx1 {
						src := ((iy0+ky0*g.dh)*wd + ix0 + kx0*g.dw) * c
						fo := (ky0*kw + kx0) * c
						th, tw := ky1-ky0, kx1-kx0
						if hasAVX512 {
							depthwisePixelZ(&acc[0], &img[src], &w.Data[fo], biasp, c, c, th, tw, g.dh*wd*c, g.dw*c, (kw-tw)*c)
						} else {
							depthwisePixel(&acc[0], &img[src], &w.Data[fo], biasp, c8, c, th, tw, g.dh*wd*c, g.dw*c, (kw-tw)*c)
						}
						if c8 < c && !hasAVX512 {
							var tail [8]float32
							var tb *float32
							if bias != nil {
								tb = &bias[c-8]
							}
							depthwisePixel(&tail[0], &img[src+c-8], &w.Data[fo+c-8], tb, 8, c, th, tw, g.dh*wd*c, g.dw*c, (kw-tw)*c)
							copy(acc[c8:], tail[8-(c-c8):])
						}
						if act.Kind != Linear {
							act.applyRow(acc, nil)
						}
					} else {
						act.applyRow(acc, bias)
					}
					continue
				}
				for ky := 0; ky < kh; ky++ {
					iy := oy*g.sh - g.padTop + ky*g.dh
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix := ox*g.sw - g.padLeft + kx*g.dw
						if ix < 0 || ix >= wd {
							continue
						}
						in := img[(iy*wd+ix)*c : (iy*wd+ix+1)*c]
						f := w.Data[(ky*kw+kx)*co : (ky*kw+kx+1)*co]
						if m == 1 {
							mulAdd(acc, in, f)
							continue
						}
						for i, v := range in {
							for j := range m {
								tmp[i*m+j] = v * f[i*m+j]
							}
						}
						for i := range acc {
							acc[i] += tmp[i]
						}
					}
				}
				act.applyRow(acc, bias)
			}
		}
	})
	return out, nil
}

// tapRange returns the taps [lo, hi) of a k-tap window with dilation d,
// starting at input position start, that fall inside [0, size).
func tapRange(start, k, d, size int) (lo, hi int) {
	if start < 0 {
		lo = (-start + d - 1) / d
	}
	hi = k
	if start+(k-1)*d >= size {
		if size-1-start < 0 {
			return 0, 0
		}
		hi = (size-1-start)/d + 1
	}
	return min(lo, hi), hi
}
