package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// quadrants draws a w×h image whose quadrants are TL red, TR green, BL blue,
// BR white.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = white
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif inserts an APP1 Exif segment carrying orientation o right after SOI.
func withExif(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	w := func(v any) { _ = binary.Write(&tiff, bo, v) }
	w(uint16(42))
	w(uint32(8))
	w(uint16(2)) // two entries: an unrelated one first
	w(uint16(0x010F))
	w(uint16(2))
	w(uint32(4))
	tiff.WriteString("Cam\x00")
	w(uint16(0x0112))
	w(uint16(3))
	w(uint32(1))
	w(o)
	w(uint16(0))
	w(uint32(0))
	body := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	seg = append(seg, body...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) < 40 && d(a.G, b.G) < 40 && d(a.B, b.B) < 40
}

func TestOrientation(t *testing.T) {
	// Where the stored corners must appear once upright, from the EXIF 2.3
	// definition of tag 0x0112 ("0th row" / "0th column" sides).
	type corners struct{ tl, tr, bl, br color.RGBA }
	want := map[uint16]corners{
		1: {red, green, blue, white},
		2: {green, red, white, blue},
		3: {white, blue, green, red},
		4: {blue, white, red, green},
		5: {red, blue, green, white},
		6: {blue, red, white, green},
		7: {white, green, blue, red},
		8: {green, white, red, blue},
	}
	const w, h = 64, 32
	base := encodeJPEG(t, quadrants(w, h))
	for o := uint16(1); o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(bo.String()+"/"+string(rune('0'+o)), func(t *testing.T) {
				m, info, err := Decode(withExif(base, o, bo), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if info.Orientation != int(o) || info.Format != JPEG {
					t.Fatalf("info %+v", info)
				}
				dw, dh := w, h
				if o >= 5 {
					dw, dh = h, w
				}
				if m.Rect.Dx() != dw || m.Rect.Dy() != dh {
					t.Fatalf("size %v, want %dx%d", m.Rect, dw, dh)
				}
				c := want[o]
				got := corners{m.RGBAAt(dw/4, dh/4), m.RGBAAt(3*dw/4, dh/4), m.RGBAAt(dw/4, 3*dh/4), m.RGBAAt(3*dw/4, 3*dh/4)}
				if !near(got.tl, c.tl) || !near(got.tr, c.tr) || !near(got.bl, c.bl) || !near(got.br, c.br) {
					t.Fatalf("corners %v, want %v", got, c)
				}
			})
		}
	}
}

// pngHeader returns a PNG signature plus an IHDR chunk declaring w×h, with a
// valid CRC, and nothing else: a decompression bomb's header.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.Write(magicPNG)
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestErrors(t *testing.T) {
	okPNG := encodePNG(t, quadrants(40, 30))
	okJPEG := encodeJPEG(t, quadrants(40, 30))
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, quadrants(8, 8), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrUnsupportedFormat},
		{"gif", gifBuf.Bytes(), Limits{}, ErrUnsupportedFormat},
		{"text", []byte("hello, world"), Limits{}, ErrUnsupportedFormat},
		{"too many bytes", okPNG, Limits{MaxBytes: 100}, ErrTooLarge},
		{"png bomb", pngHeader(60000, 60000), Limits{}, ErrTooManyPixels},
		{"png absurd dims", pngHeader(1<<31-1, 1<<31-1), Limits{}, ErrUndecodable},
		{"png zero width", pngHeader(0, 10), Limits{}, ErrUndecodable},
		{"png too wide", pngHeader(4000, 100), Limits{}, ErrBadAspect},
		{"png too tall", pngHeader(10, 100), Limits{MaxAspect: 2}, ErrBadAspect},
		{"png header only", pngHeader(100, 100), Limits{}, ErrUndecodable},
		{"png truncated", okPNG[:len(okPNG)/2], Limits{}, ErrUndecodable},
		{"jpeg magic only", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0}, Limits{}, ErrUndecodable},
		{"jpeg truncated", okJPEG[:len(okJPEG)/2], Limits{}, ErrUndecodable},
		{"jpeg pixel limit", okJPEG, Limits{MaxPixels: 40*30 - 1}, ErrTooManyPixels},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, info, err := Decode(tc.data, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if m != nil || info != (Info{}) {
				t.Fatalf("result %v %+v returned with error", m != nil, info)
			}
		})
	}
}

func TestDecodeFormats(t *testing.T) {
	src := quadrants(40, 30)
	// A paletted and a 16-bit PNG take other decoder paths.
	pal := image.NewPaletted(src.Rect, color.Palette{red, green, blue, white})
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			pal.Set(x, y, src.At(x, y))
		}
	}
	deep := image.NewRGBA64(src.Rect)
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			deep.Set(x, y, src.At(x, y))
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		f    Format
	}{
		{"jpeg", encodeJPEG(t, src), JPEG},
		{"png", encodePNG(t, src), PNG},
		{"png paletted", encodePNG(t, pal), PNG},
		{"png 16-bit", encodePNG(t, deep), PNG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, info, err := DecodeReader(bytes.NewReader(tc.data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tc.f || info.Width != 40 || info.Height != 30 || info.Orientation != 1 {
				t.Fatalf("info %+v", info)
			}
			if !near(m.RGBAAt(5, 5), red) || !near(m.RGBAAt(35, 25), white) {
				t.Fatalf("pixels %v %v", m.RGBAAt(5, 5), m.RGBAAt(35, 25))
			}
		})
	}
}

func TestMalformedExifIgnored(t *testing.T) {
	base := encodeJPEG(t, quadrants(16, 8))
	good := withExif(base, 6, binary.BigEndian)
	// Layout: SOI(2) APP1 marker(2) length(2) "Exif\0\0"(6), TIFF from 12:
	// byte order 12, IFD0 offset 16..19, entry count 20, entries 22 and 34,
	// the orientation value at 42..43.
	for _, tc := range []struct {
		name string
		off  int
		val  byte
	}{
		{"ifd offset", 16, 0xFF},
		{"byte order", 12, 'X'},
		{"orientation value", 43, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := append([]byte{}, good...)
			d[tc.off] = tc.val
			_, info, err := Decode(d, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != 1 {
				t.Fatalf("orientation %d from malformed EXIF", info.Orientation)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	base := encodeJPEG(f, quadrants(24, 16))
	f.Add(base)
	f.Add(withExif(base, 6, binary.LittleEndian))
	f.Add(withExif(base, 8, binary.BigEndian))
	f.Add(encodePNG(f, quadrants(24, 16)))
	f.Add(pngHeader(60000, 60000))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0})
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxAspect: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, info, err := Decode(data, lim)
		if err != nil {
			if m != nil {
				t.Fatal("image returned with error")
			}
			for _, e := range []error{ErrUndecodable, ErrUnsupportedFormat, ErrTooLarge, ErrTooManyPixels, ErrBadAspect} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		if int64(info.Width)*int64(info.Height) > lim.MaxPixels || m.Rect.Dx() != info.Width {
			t.Fatalf("limits broken: %+v", info)
		}
	})
}
