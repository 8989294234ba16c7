package imageio

import (
	"encoding/binary"
	"image"
)

// Bounds on the EXIF walk, so hostile input costs a fixed amount of work.
const (
	maxSegments   = 64  // JPEG markers examined before giving up
	maxIFDEntries = 512 // IFD0 entries examined
)

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG, or 1 when
// there is none or the EXIF block is malformed.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	p := 2
	for seg := 0; seg < maxSegments; seg++ {
		// Skip fill bytes before a marker.
		for p < len(data) && data[p] == 0xFF && p+1 < len(data) && data[p+1] == 0xFF {
			p++
		}
		if p+4 > len(data) || data[p] != 0xFF {
			return 1
		}
		marker := data[p+1]
		switch {
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			p += 2 // standalone markers
			continue
		case marker == 0xDA || marker == 0xD9:
			return 1 // start of scan / end of image: no EXIF before the pixels
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		body := data[p+4 : p+2+n]
		if marker == 0xE1 && len(body) >= 6 && string(body[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(body[6:]); o != 0 {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure, returning 0
// when absent or malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 0
	}
	count := int(bo.Uint16(t[off:]))
	if count > maxIFDEntries {
		count = maxIFDEntries
	}
	e := off + 2
	for i := 0; i < count; i++ {
		if e+12 > uint64(len(t)) {
			return 0
		}
		tag := bo.Uint16(t[e:])
		typ := bo.Uint16(t[e+2:])
		n := bo.Uint32(t[e+4:])
		if tag == 0x0112 {
			// SHORT, count 1, value left-justified in the 4-byte field.
			if typ != 3 || n != 1 {
				return 0
			}
			v := int(bo.Uint16(t[e+8:]))
			if v < 1 || v > 8 {
				return 0
			}
			return v
		}
		e += 12
	}
	return 0
}

// Orient returns src turned upright according to EXIF orientation o (1..8).
// Orientation 1 and out-of-range values return src unchanged.
func Orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2: // mirror horizontally
				sx, sy = w-1-x, y
			case 3: // rotate 180
				sx, sy = w-1-x, h-1-y
			case 4: // mirror vertically
				sx, sy = x, h-1-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90 clockwise
				sx, sy = y, h-1-x
			case 7: // transverse
				sx, sy = w-1-y, h-1-x
			case 8: // rotate 90 counter-clockwise
				sx, sy = w-1-y, x
			}
			si := src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy)
			di := dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
