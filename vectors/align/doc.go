// Package align maps a face onto the canonical crop an embedding network was
// trained on: a least-squares similarity transform from five landmarks to a
// template ([Similarity], [ArcFace112]) and a bilinear warp ([Warp],
// [WarpFloat]).
//
// # Coordinates
//
// Points are in pixel coordinates with pixel centres on integers: pixel
// (0, 0) covers [-0.5, 0.5)². An [Affine] maps (x, y) to
// (A·x + B·y + C, D·x + E·y + F). The warps take the OUTPUT→INPUT map, the
// convention of OpenCV's warpAffine with WARP_INVERSE_MAP and of
// tf.image.transform, so that the same matrix gives the same pixels in Go
// and in the tfjs reference: output pixel (x, y) samples the input at M(x, y)
// by bilinear interpolation, and each of the four neighbours that lies
// outside the image contributes 0 (black).
//
// # Similarity
//
// [Similarity] is the closed-form least-squares solution of Umeyama (1991)
// restricted to proper rotations: it never returns a reflection, so a mirror
// image of a face is not silently "aligned" into its twin. The tests check it
// against a plain SVD implementation of Umeyama's algorithm (gonum) and
// recover known transforms exactly.
//
// # Caller duties
//
// The landmarks must be in the same image the warp reads. Five points in
// [vectors.LeftEye]..[vectors.RightMouth] order (image-left eye first) match
// [ArcFace112]. The returned crops hold biometric data.
package align
