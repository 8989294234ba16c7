// Package embednet holds what the embedding networks ([vectors/mobilefacenet],
// [vectors/dlibresnet]) share around their forward passes: turning an
// aligned crop into an input tensor ([Input]), L2-normalising the raw
// output ([UnitNorm]) and hashing the embedded weight files ([HashFiles]).
//
// # Contract
//
//   - [Input] reads exactly size×size pixels from any *image.RGBA (a
//     sub-image with a non-zero origin included) and never modifies it; a
//     crop of another size is refused (the caller returns its own typed
//     error).
//   - [UnitNorm] refuses NaN, ±Inf and the all-zero vector instead of
//     returning a vector that is not unit length; it normalises in float64.
//   - [HashFiles] is SHA-256 over the files' bytes in the order given, so a
//     change to any weight file, or to which files are used, changes it.
//
// Test helpers shared by the networks' tests (crops, the node reference
// runner, CPU time) are in [embedtest].
package embednet
