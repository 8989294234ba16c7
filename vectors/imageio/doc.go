// Package imageio is the front door for untrusted images: it decodes JPEG and
// PNG frames into [*image.RGBA] under explicit [Limits], and turns JPEG EXIF
// orientation into upright pixels.
//
// # Guarantees
//
//   - The byte size is checked first, then the header alone
//     ([image.DecodeConfig]) is parsed and the pixel count and aspect ratio are
//     checked BEFORE any pixel buffer is allocated. A small file that claims a
//     huge canvas (a decompression bomb) is refused with [ErrTooManyPixels]
//     having cost a few hundred bytes of parsing.
//   - Only JPEG and PNG are accepted, recognised by their magic bytes, never by
//     a file name or a caller's claim; anything else is [ErrUnsupportedFormat].
//   - EXIF orientation (tag 0x0112 in the APP1 "Exif" segment of a JPEG) is
//     parsed by a bounded reader written for this package: at most
//     [maxSegments] markers are walked, at most [maxIFDEntries] IFD entries
//     read, and every offset is bounds-checked. A malformed EXIF block is
//     ignored (orientation 1), never an error: cameras write broken EXIF.
//   - Every failure is one of the sentinel errors below, wrapped with detail,
//     so callers can map them to stable client error codes with [errors.Is].
//     No result is returned together with an error.
//
// # Memory
//
// After the header check, decoding allocates at most about 12 bytes per
// declared pixel (a 16-bit PNG decodes to 8 bytes per pixel, then converts to
// 4-byte RGBA): about 200 MB at the default 16-megapixel limit. The enclave
// should set MaxPixels to what its frames need (a 1280×720 frame is
// 0.9 Mpx).
//
// # Caller duties
//
// Pick [Limits] that match the product's configured frame limits (the
// defaults are [DefaultLimits]); zero fields mean "use the default", never
// "unlimited". The returned image holds biometric data: drop (and, where
// practical, zero) it as soon as the face vector exists.
package imageio
