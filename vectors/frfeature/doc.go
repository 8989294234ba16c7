// Package frfeature is the fr-feature engine's face embedding network: the
// 512-d MobileFaceNet-style fr_feature.onnx of the npm package
// faceplugin-face-recognition-js, run in pure Go by the [onnx] front-end on
// the [nn] kernels, with its weights embedded in the binary.
//
// # Use
//
//	net, err := frfeature.New()             // shared, loaded once
//	v, err := net.Embed(crop)               // crop: *image.RGBA, 112×112, aligned
//	id := net.ModelSHA256()                 // goes into vectors.FaceVector
//
// The detector and the alignment live elsewhere in vectors/; this package
// only embeds an already aligned crop. The full vectors.Engine
// ("fr-feature") is assembled in package faceengine.
//
// # The crop it expects
//
// A 112×112 RGB face aligned with a five-point similarity transform onto
// the ArcFace template (align.ArcFace112: eye centres, nose tip, mouth
// corners at (38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366),
// (41.5493, 92.3655), (70.7299, 92.2041)), bilinear sampling; alpha is
// ignored. [Preprocess] builds the network input exactly as the npm
// package's lib/fr_feature.js does: float32 [1, 3, 112, 112] (NCHW),
// channels R, G, B, each value (v − 127) / 128. (The package itself aligns
// with a three-point affine warp onto the same template; we use our own
// detector's five points.)
//
// # Guarantees
//
//   - [Net.Embed] returns a 512-d vector of unit L2 norm (the network's
//     raw output, normalised here in float64), or an error and no vector:
//     [ErrCropSize] for a crop that is not 112×112, [ErrNotFinite] if the
//     forward pass produced NaN, ±Inf or zero.
//   - The same crop always gives the same vector on the same build; the
//     forward pass agrees with onnxruntime-node (CPU) on the same file and
//     crops to a cosine ≥ 0.9999, checked by TestConformanceWithORT.
//   - [Net] is immutable and safe for concurrent use.
//   - [Net.ModelSHA256] is SHA-256 of fr_feature.onnx, the exact bytes that
//     define the network; vectors carrying another hash must never be
//     compared with these.
//
// # Weights
//
// Copied unchanged from faceplugin-face-recognition-js@0.0.1, whose
// package.json says MIT. Who trained the network, on which data and under
// which terms is not known: read model/PROVENANCE.md (and what an operator
// must check before production) before relying on it.
package frfeature
