package align

import (
	"image"
	"image/draw"
	"math"
)

// rgba returns img as a zero-copy *image.RGBA when it already is one, or a
// converted copy.
func rgba(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(b)
	draw.Draw(m, b, img, b.Min, draw.Src)
	return m
}

// sampler reads bilinear samples from an RGBA image with a zero border.
type sampler struct {
	pix    []uint8
	stride int
	w, h   int
	x0, y0 int
}

func newSampler(img image.Image) sampler {
	m := rgba(img)
	return sampler{pix: m.Pix, stride: m.Stride, w: m.Rect.Dx(), h: m.Rect.Dy(), x0: m.Rect.Min.X, y0: m.Rect.Min.Y}
}

// at writes the bilinear RGB sample at (x, y) (coordinates relative to the
// image's bounds origin) into out.
func (s *sampler) at(x, y float64, out *[3]float32) {
	out[0], out[1], out[2] = 0, 0, 0
	if math.IsNaN(x) || math.IsNaN(y) || x <= -1 || y <= -1 || x >= float64(s.w) || y >= float64(s.h) {
		return
	}
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	ax, ay := float32(x-fx), float32(y-fy)
	ws := [4]float32{(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay}
	if ix >= 0 && iy >= 0 && ix+1 < s.w && iy+1 < s.h {
		// All four neighbours inside (nearly every sample): the loop below
		// without its per-neighbour checks, in the same order of the same
		// operations. Where it would skip a zero weight, this adds 0·p = +0
		// to a sum of non-negative terms, which changes no bit.
		o := iy*s.stride + ix*4
		p := s.pix[o : o+s.stride+7 : o+s.stride+7]
		q := p[s.stride:]
		// The first products are rounded on their own (the conversions):
		// where the compiler fuses a·b + c (arm64), it must fuse the next
		// product into them, as the loop does, not them into the next.
		r, g, b := float32(ws[0]*float32(p[0])), float32(ws[0]*float32(p[1])), float32(ws[0]*float32(p[2]))
		r += ws[1] * float32(p[4])
		g += ws[1] * float32(p[5])
		b += ws[1] * float32(p[6])
		r += ws[2] * float32(q[0])
		g += ws[2] * float32(q[1])
		b += ws[2] * float32(q[2])
		r += ws[3] * float32(q[4])
		g += ws[3] * float32(q[5])
		b += ws[3] * float32(q[6])
		out[0], out[1], out[2] = r, g, b
		return
	}
	for k, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		px, py := ix+d[0], iy+d[1]
		if px < 0 || py < 0 || px >= s.w || py >= s.h || ws[k] == 0 {
			continue
		}
		o := py*s.stride + px*4
		out[0] += ws[k] * float32(s.pix[o])
		out[1] += ws[k] * float32(s.pix[o+1])
		out[2] += ws[k] * float32(s.pix[o+2])
	}
}

// Warp returns the w×h image whose pixel (x, y) is img sampled bilinearly at
// inv(x, y); inv maps output coordinates to input coordinates relative to
// img.Bounds().Min. Samples outside img are black; alpha is opaque.
func Warp(img image.Image, inv Affine, w, h int) *image.RGBA {
	s := newSampler(img)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var px [3]float32
	for y := 0; y < h; y++ {
		row := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			sx, sy := inv.Apply(float64(x), float64(y))
			s.at(sx, sy, &px)
			o := 4 * x
			row[o] = clamp8(px[0])
			row[o+1] = clamp8(px[1])
			row[o+2] = clamp8(px[2])
			row[o+3] = 255
		}
	}
	return dst
}

// WarpFloat samples like [Warp] but writes the RGB values, mapped by
// v·scale + offset, as float32 into dst in HWC order (len(dst) must be
// w·h·3). This is how network inputs are made without rounding to bytes.
func WarpFloat(dst []float32, img image.Image, inv Affine, w, h int, scale, offset float32) {
	if len(dst) != w*h*3 {
		panic("align: WarpFloat destination has the wrong length")
	}
	s := newSampler(img)
	var px [3]float32
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := inv.Apply(float64(x), float64(y))
			s.at(sx, sy, &px)
			o := 3 * (y*w + x)
			dst[o] = px[0]*scale + offset
			dst[o+1] = px[1]*scale + offset
			dst[o+2] = px[2]*scale + offset
		}
	}
}

func clamp8(v float32) uint8 {
	v += 0.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
