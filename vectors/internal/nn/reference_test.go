package nn

// Plain, obviously-correct reference twins of the kernels. Each one computes
// every output element straight from its definition with float64
// accumulation, trading all speed for clarity; the tests compare the fast
// kernels against them on random shapes.

import "math"

func refPadAmount(in, k, stride, dil int, p Padding, before bool) (out, pad int) {
	eff := (k-1)*dil + 1
	switch p.Mode {
	case PadValid:
		return (in-eff)/stride + 1, 0
	case PadSame:
		out = int(math.Ceil(float64(in) / float64(stride)))
		total := (out-1)*stride + eff - in
		if total < 0 {
			total = 0
		}
		return out, total / 2
	default:
		b, a := p.Left, p.Right
		if before {
			b, a = p.Top, p.Bottom
		}
		return (in+b+a-eff)/stride + 1, b
	}
}

func refAct(v float64, act Activation, ch int) float64 {
	switch act.Kind {
	case ReLU:
		return math.Max(v, 0)
	case ReLU6:
		return math.Min(math.Max(v, 0), 6)
	case LeakyReLU:
		if v < 0 {
			return v * float64(act.Alpha)
		}
	case PReLU:
		if v < 0 {
			s := act.Slopes[0]
			if len(act.Slopes) > 1 {
				s = act.Slopes[ch]
			}
			return v * float64(s)
		}
	case Sigmoid:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

func refConv2D(x, w *Tensor, bias []float32, p Window, act Activation, depthwise bool) *Tensor {
	n, h, wd, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	kh, kw := w.Shape[0], w.Shape[1]
	sh, sw, dh, dw := one(p.StrideH), one(p.StrideW), one(p.DilationH), one(p.DilationW)
	oh, pt := refPadAmount(h, kh, sh, dh, p.Pad, true)
	ow, pl := refPadAmount(wd, kw, sw, dw, p.Pad, false)
	co := w.Shape[3]
	if depthwise {
		co = c * w.Shape[3]
	}
	out := New(n, oh, ow, co)
	in := func(b, y, xx, ch int) float64 {
		if y < 0 || y >= h || xx < 0 || xx >= wd {
			return 0
		}
		return float64(x.Data[((b*h+y)*wd+xx)*c+ch])
	}
	for b := 0; b < n; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for o := 0; o < co; o++ {
					var s float64
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							y, xx := oy*sh-pt+ky*dh, ox*sw-pl+kx*dw
							if depthwise {
								m := w.Shape[3]
								ch, j := o/m, o%m
								s += in(b, y, xx, ch) * float64(w.Data[((ky*kw+kx)*c+ch)*m+j])
								continue
							}
							for ch := 0; ch < c; ch++ {
								s += in(b, y, xx, ch) * float64(w.Data[((ky*kw+kx)*c+ch)*co+o])
							}
						}
					}
					if bias != nil {
						s += float64(bias[o])
					}
					out.Data[((b*oh+oy)*ow+ox)*co+o] = float32(refAct(s, act, o))
				}
			}
		}
	}
	return out
}

func refPool(x *Tensor, kh, kw int, p Window, isMax bool) *Tensor {
	n, h, wd, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	sh, sw := one(p.StrideH), one(p.StrideW)
	oh, pt := refPadAmount(h, kh, sh, 1, p.Pad, true)
	ow, pl := refPadAmount(wd, kw, sw, 1, p.Pad, false)
	out := New(n, oh, ow, c)
	for b := 0; b < n; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for ch := 0; ch < c; ch++ {
					best, sum, cnt := math.Inf(-1), 0.0, 0
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							y, xx := oy*sh-pt+ky, ox*sw-pl+kx
							if y < 0 || y >= h || xx < 0 || xx >= wd {
								continue
							}
							v := float64(x.Data[((b*h+y)*wd+xx)*c+ch])
							best = math.Max(best, v)
							sum += v
							cnt++
						}
					}
					r := best
					if !isMax {
						r = sum / float64(cnt)
					}
					out.Data[((b*oh+oy)*ow+ox)*c+ch] = float32(r)
				}
			}
		}
	}
	return out
}

// unravel turns a flat index into a multi-index for shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

// ravel turns a multi-index into a flat index for shape, clamping to 0 on
// size-1 (broadcast) axes and right-aligning shorter shapes.
func ravel(idx, shape []int) int {
	off := len(idx) - len(shape)
	flat := 0
	for d, n := range shape {
		i := idx[off+d]
		if n == 1 {
			i = 0
		}
		flat = flat*n + i
	}
	return flat
}

func refBinary(op BinaryOp, a, b *Tensor) *Tensor {
	shape, err := BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		panic(err)
	}
	f, _ := op.fn()
	out := New(shape...)
	for i := range out.Data {
		idx := unravel(i, shape)
		out.Data[i] = f(a.Data[ravel(idx, a.Shape)], b.Data[ravel(idx, b.Shape)])
	}
	return out
}

func refTranspose(x *Tensor, perm []int) *Tensor {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := New(shape...)
	for i := range out.Data {
		oi := unravel(i, shape)
		ii := make([]int, len(perm))
		for d, p := range perm {
			ii[p] = oi[d]
		}
		out.Data[i] = x.Data[ravel(ii, x.Shape)]
	}
	return out
}

func refPad(x *Tensor, pads [][2]int, value float32) *Tensor {
	shape := make([]int, len(x.Shape))
	for i := range shape {
		shape[i] = x.Shape[i] + pads[i][0] + pads[i][1]
	}
	out := New(shape...)
	for i := range out.Data {
		oi := unravel(i, shape)
		inside := true
		for d := range oi {
			oi[d] -= pads[d][0]
			if oi[d] < 0 || oi[d] >= x.Shape[d] {
				inside = false
			}
		}
		if inside {
			out.Data[i] = x.Data[ravel(oi, x.Shape)]
		} else {
			out.Data[i] = value
		}
	}
	return out
}

func refConcat(axis int, ts []*Tensor) *Tensor {
	shape := append([]int(nil), ts[0].Shape...)
	shape[axis] = 0
	for _, t := range ts {
		shape[axis] += t.Shape[axis]
	}
	out := New(shape...)
	for i := range out.Data {
		oi := unravel(i, shape)
		k := oi[axis]
		for _, t := range ts {
			if k < t.Shape[axis] {
				oi[axis] = k
				out.Data[i] = t.Data[ravel(oi, t.Shape)]
				break
			}
			k -= t.Shape[axis]
		}
	}
	return out
}

func refMatMul(a, b *Tensor, bias []float32, act Activation) *Tensor {
	m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
	out := New(m, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += float64(a.Data[i*k+l]) * float64(b.Data[l*n+j])
			}
			if bias != nil {
				s += float64(bias[j])
			}
			out.Data[i*n+j] = float32(refAct(s, act, j))
		}
	}
	return out
}

// refResize computes TensorFlow's bilinear resize from its definition:
// source coordinate, clamped neighbours, two-step interpolation.
func refResize(x *Tensor, oh, ow int, align, half bool) *Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	scale := func(in, out int) float64 {
		if align && out > 1 {
			return float64(in-1) / float64(out-1)
		}
		return float64(in) / float64(out)
	}
	src := func(i int, s float64) float64 {
		if half {
			return math.Max((float64(i)+0.5)*s-0.5, 0)
		}
		return float64(i) * s
	}
	out := New(n, oh, ow, c)
	for b := 0; b < n; b++ {
		for oy := 0; oy < oh; oy++ {
			fy := src(oy, scale(h, oh))
			y0 := min(int(math.Floor(fy)), h-1)
			y1 := min(y0+1, h-1)
			dy := fy - math.Floor(fy)
			for ox := 0; ox < ow; ox++ {
				fx := src(ox, scale(w, ow))
				x0 := min(int(math.Floor(fx)), w-1)
				x1 := min(x0+1, w-1)
				dx := fx - math.Floor(fx)
				for ch := 0; ch < c; ch++ {
					p := func(y, xx int) float64 { return float64(x.Data[((b*h+y)*w+xx)*c+ch]) }
					top := p(y0, x0)*(1-dx) + p(y0, x1)*dx
					bot := p(y1, x0)*(1-dx) + p(y1, x1)*dx
					out.Data[((b*oh+oy)*ow+ox)*c+ch] = float32(top*(1-dy) + bot*dy)
				}
			}
		}
	}
	return out
}

func refReduce(x *Tensor, r Reduce, axes []int) *Tensor {
	red := make([]bool, len(x.Shape))
	for _, a := range axes {
		if a < 0 {
			a += len(x.Shape)
		}
		red[a] = true
	}
	var shape []int
	for i, d := range x.Shape {
		if red[i] {
			shape = append(shape, 1)
		} else {
			shape = append(shape, d)
		}
	}
	out := New(shape...)
	sum := make([]float64, len(out.Data))
	cnt := make([]int, len(out.Data))
	best := make([]float64, len(out.Data))
	for i := range best {
		best[i] = math.Inf(-1)
	}
	for i, v := range x.Data {
		idx := unravel(i, x.Shape)
		o := ravel(idx, shape)
		sum[o] += float64(v)
		cnt[o]++
		best[o] = math.Max(best[o], float64(v))
	}
	for i := range out.Data {
		switch r {
		case ReduceSum:
			out.Data[i] = float32(sum[i])
		case ReduceMean:
			out.Data[i] = float32(sum[i] / float64(cnt[i]))
		case ReduceMax:
			out.Data[i] = float32(best[i])
		}
	}
	return out
}
