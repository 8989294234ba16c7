package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
)

// Sentinel errors, one per failure class. Each returned error wraps exactly
// one of them.
var (
	// ErrUndecodable: the bytes claim a supported format but are corrupt.
	ErrUndecodable = errors.New("imageio: undecodable image")
	// ErrUnsupportedFormat: neither JPEG nor PNG.
	ErrUnsupportedFormat = errors.New("imageio: unsupported image format")
	// ErrTooLarge: the encoded image exceeds Limits.MaxBytes.
	ErrTooLarge = errors.New("imageio: image too large")
	// ErrTooManyPixels: the header declares more than Limits.MaxPixels pixels
	// (a decompression bomb, or simply too big a frame).
	ErrTooManyPixels = errors.New("imageio: too many pixels")
	// ErrBadAspect: width/height (or height/width) exceeds Limits.MaxAspect,
	// or a dimension is zero.
	ErrBadAspect = errors.New("imageio: bad aspect ratio")
)

// Format is a supported encoding.
type Format string

// Supported formats.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
)

// Limits bound what Decode accepts. A zero field takes the value from
// DefaultLimits.
type Limits struct {
	MaxBytes  int64   // encoded size
	MaxPixels int64   // width × height as declared in the header
	MaxAspect float64 // max(w/h, h/w)
}

// DefaultLimits suit selfie frames: 8 MiB, 16 megapixels (a 4K frame is
// 8.3 Mpx), aspect at most 4:1.
var DefaultLimits = Limits{MaxBytes: 8 << 20, MaxPixels: 16_000_000, MaxAspect: 4}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxAspect <= 0 {
		l.MaxAspect = DefaultLimits.MaxAspect
	}
	return l
}

// Info describes a decoded image.
type Info struct {
	Format Format
	// Orientation is the EXIF orientation that was applied (1..8; 1 when the
	// image had none).
	Orientation int
	// Width and Height of the returned (upright) image.
	Width, Height int
}

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// Sniff reports the format of data from its magic bytes.
func Sniff(data []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		return JPEG, nil
	case bytes.HasPrefix(data, magicPNG):
		return PNG, nil
	}
	return "", ErrUnsupportedFormat
}

// Check validates data against lim using only the header: size, format,
// pixel count and aspect ratio. It allocates no pixel buffer.
func Check(data []byte, lim Limits) (image.Config, Format, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return image.Config{}, "", fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	f, err := Sniff(data)
	if err != nil {
		return image.Config{}, "", err
	}
	var cfg image.Config
	switch f {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return image.Config{}, "", fmt.Errorf("%w: %s header: %v", ErrUndecodable, f, err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return image.Config{}, "", fmt.Errorf("%w: %d×%d", ErrBadAspect, w, h)
	}
	// Both are below 2^16 for JPEG and 2^31 for PNG, so w*h cannot overflow int64.
	if w*h > lim.MaxPixels {
		return image.Config{}, "", fmt.Errorf("%w: %d×%d declared, limit %d pixels", ErrTooManyPixels, w, h, lim.MaxPixels)
	}
	if a := aspect(w, h); a > lim.MaxAspect {
		return image.Config{}, "", fmt.Errorf("%w: %d×%d (%.2f:1, limit %.2f:1)", ErrBadAspect, w, h, a, lim.MaxAspect)
	}
	return cfg, f, nil
}

func aspect(w, h int64) float64 {
	if w > h {
		return float64(w) / float64(h)
	}
	return float64(h) / float64(w)
}

// Decode checks data against lim (see [Check]), decodes it, applies the EXIF
// orientation of a JPEG and returns an upright RGBA image whose bounds start
// at (0, 0).
func Decode(data []byte, lim Limits) (*image.RGBA, Info, error) {
	cfg, f, err := Check(data, lim)
	if err != nil {
		return nil, Info{}, err
	}
	var img image.Image
	orient := 1
	switch f {
	case JPEG:
		orient = jpegOrientation(data)
		img, err = jpeg.Decode(bytes.NewReader(data))
	case PNG:
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %s: %v", ErrUndecodable, f, err)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, Info{}, fmt.Errorf("%w: %s: header says %d×%d, pixels %d×%d", ErrUndecodable, f, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	rgba := toRGBA(img)
	rgba = Orient(rgba, orient)
	return rgba, Info{Format: f, Orientation: orient, Width: rgba.Rect.Dx(), Height: rgba.Rect.Dy()}, nil
}

// DecodeReader reads at most lim.MaxBytes+1 bytes from r and calls [Decode].
func DecodeReader(r io.Reader, lim Limits) (*image.RGBA, Info, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, Info{}, fmt.Errorf("imageio: read: %w", err)
	}
	return Decode(data, lim)
}

// toRGBA converts any decoded image to a zero-origin *image.RGBA.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if m, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return m
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}
