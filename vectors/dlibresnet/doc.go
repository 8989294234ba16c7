// Package dlibresnet is the second face embedding network: dlib's ResNet
// face descriptor (128-d, the model behind dlib_face_recognition_resnet_model_v1)
// as shipped in face-api, run in pure Go on the [nn] kernels with its
// weights embedded in the binary.
//
// # Use
//
//	net, err := dlibresnet.New()  // shared, loaded once
//	v, err := net.Embed(chip)     // chip: *image.RGBA, 150×150, aligned
//	id := net.ModelSHA256()
//
// # The network
//
// face-api defines the network in code (FaceRecognitionNet); its weights
// come as a tfjs weights manifest with uint8-quantised tensors, read with
// [tfjs.LoadWeights]. The layer structure, as facts: a 7×7 stride-2 VALID
// convolution (32) and a 3×3 stride-2 max pool; residual blocks of two 3×3
// convolutions — 3 at 32 channels, then a down block and 3 more at 64, a
// down block and 2 at 128, a down block and 2 at 256, and a final down
// block at 256; a down block's first convolution is stride 2 VALID and its
// shortcut a 2×2 average pool, zero-padded in channels (and the block
// output zero-padded at the bottom/right when the pool is one pixel
// larger); every convolution is followed by a per-channel scale layer
// ((x+bias)·w + b, folded into the filter at load time) and ReLU except a
// block's second; then a global average pool and a 256×128 fully connected
// layer. Input: (v − mean)/255 with the means (122.782, 117.001, 104.298)
// for R, G, B.
//
// # The chip it expects
//
// 150×150 RGB, aligned as dlib's get_face_chip_details(shape, 150, 0.25)
// does. With five points, map the eye centres, nose tip and mouth corners
// onto the same points of dlib's mean face, [Template].
//
// # Guarantees
//
//   - [Net.Embed] returns a 128-d vector of unit L2 norm (face-api returns
//     the raw descriptor; dlib compares raw descriptors by Euclidean
//     distance, we normalise so every engine scores by cosine), or an
//     error and no vector ([ErrCropSize], [ErrNotFinite]).
//   - The forward pass agrees with face-api 1.7.15 on tfjs (same weight
//     files from npm) to cosine ≥ 0.999 — measured 1 − cos < 10⁻¹² —
//     checked in CI by TestConformanceWithFaceAPI.
//   - [Net] is immutable and safe for concurrent use.
//   - [Net.ModelSHA256] is SHA-256 over the weights manifest followed by
//     face_recognition_model.bin.
//
// # Weights
//
// From the MIT-licensed npm package @vladmandic/face-api@1.7.15
// (model/face_recognition_model-weights_manifest.json + .bin), copied
// unchanged; see model/PROVENANCE.md. dlib's original model is public
// domain / CC0 (Davis King).
package dlibresnet
