package nn

import (
	"fmt"
	"math"
)

// MaxPool takes the maximum over each kh×kw window of x (NHWC). Padded
// positions never win.
func MaxPool(x *Tensor, kh, kw int, p Window) (*Tensor, error) {
	return pool(x, kh, kw, p, true)
}

// AvgPool averages each kh×kw window of x (NHWC) over the positions inside
// the input (padding is not counted), as TensorFlow does.
func AvgPool(x *Tensor, kh, kw int, p Window) (*Tensor, error) {
	return pool(x, kh, kw, p, false)
}

func pool(x *Tensor, kh, kw int, p Window, isMax bool) (*Tensor, error) {
	n, h, w, c, err := dims4(x, "pool input")
	if err != nil {
		return nil, err
	}
	g, err := p.resolve(h, w, kh, kw)
	if err != nil {
		return nil, err
	}
	if _, err := CheckShape([]int{n, g.oh, g.ow, c}); err != nil {
		return nil, err
	}
	out := New(n, g.oh, g.ow, c)
	parallelFor(n*g.oh, n*g.oh*g.ow*c*kh*kw, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/g.oh, r%g.oh
			for ox := 0; ox < g.ow; ox++ {
				dst := out.Data[((b*g.oh+oy)*g.ow+ox)*c : ((b*g.oh+oy)*g.ow+ox+1)*c]
				if isMax {
					for i := range dst {
						dst[i] = float32(math.Inf(-1))
					}
				}
				count := 0
				for ky := 0; ky < kh; ky++ {
					iy := oy*g.sh - g.padTop + ky*g.dh
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix := ox*g.sw - g.padLeft + kx*g.dw
						if ix < 0 || ix >= w {
							continue
						}
						count++
						src := x.Data[((b*h+iy)*w+ix)*c : ((b*h+iy)*w+ix+1)*c]
						src = src[:len(dst)]
						if isMax {
							for i, v := range src {
								dst[i] = max(dst[i], v)
							}
						} else {
							for i, v := range src {
								dst[i] += v
							}
						}
					}
				}
				if !isMax && count > 0 {
					inv := 1 / float32(count)
					for i := range dst {
						dst[i] *= inv
					}
				}
			}
		}
	})
	return out, nil
}

// ResizeBilinear resizes x (NHWC) to oh×ow with bilinear interpolation,
// following TensorFlow's ResizeBilinear: with alignCorners the corner
// pixels map onto each other; with halfPixelCenters pixel centres sit at
// +0.5 (the two flags are exclusive).
func ResizeBilinear(x *Tensor, oh, ow int, alignCorners, halfPixelCenters bool) (*Tensor, error) {
	n, h, w, c, err := dims4(x, "resize input")
	if err != nil {
		return nil, err
	}
	if alignCorners && halfPixelCenters {
		return nil, fmt.Errorf("%w: alignCorners and halfPixelCenters together", ErrArgument)
	}
	if oh <= 0 || ow <= 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("%w: resize %dx%d to %dx%d", ErrArgument, h, w, oh, ow)
	}
	if _, err := CheckShape([]int{n, oh, ow, c}); err != nil {
		return nil, err
	}
	ys := resizeAxis(h, oh, alignCorners, halfPixelCenters)
	xs := resizeAxis(w, ow, alignCorners, halfPixelCenters)
	out := New(n, oh, ow, c)
	for b := range n {
		img := x.Data[b*h*w*c : (b+1)*h*w*c]
		for oy, sy := range ys {
			for ox, sx := range xs {
				dst := out.Data[((b*oh+oy)*ow+ox)*c : ((b*oh+oy)*ow+ox+1)*c]
				tl := img[(sy.lo*w+sx.lo)*c:]
				tr := img[(sy.lo*w+sx.hi)*c:]
				bl := img[(sy.hi*w+sx.lo)*c:]
				br := img[(sy.hi*w+sx.hi)*c:]
				for i := range dst {
					top := tl[i] + (tr[i]-tl[i])*sx.frac
					bot := bl[i] + (br[i]-bl[i])*sx.frac
					dst[i] = top + (bot-top)*sy.frac
				}
			}
		}
	}
	return out, nil
}

type lerp struct {
	lo, hi int
	frac   float32
}

func resizeAxis(in, out int, alignCorners, half bool) []lerp {
	scale := float32(in) / float32(out)
	if alignCorners && out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	r := make([]lerp, out)
	for i := range r {
		var src float32
		if half {
			src = (float32(i)+0.5)*scale - 0.5
		} else {
			src = float32(i) * scale
		}
		lo := int(math.Floor(float64(src)))
		frac := src - float32(lo)
		if half && src < 0 {
			lo, frac = 0, 0
		}
		lo = min(max(lo, 0), in-1)
		r[i] = lerp{lo: lo, hi: min(lo+1, in-1), frac: frac}
	}
	return r
}
