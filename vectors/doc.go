// Package vectors turns faces into vectors and finds them again among
// everyone enrolled.
//
// # Face vectors and engines
//
// A [FaceVector] is an L2-normalised float32 embedding of one face, tagged
// with the [Engine] that made it and the SHA-256 of that engine's weights.
// The metric is the cosine, which for unit vectors is the inner product
// ([Cosine]); scores lie in [-1, 1], higher is more alike. Vectors of
// different engines or weights never compare ([ErrEngineMismatch]).
//
// Engines register by name ([Register], [Engines], [Open]); the default
// pipeline (package vectors/faceengine) decodes with limits
// (vectors/imageio), detects faces and landmarks (vectors/detect: BlazeFace
// and FaceMesh), aligns with a 5-point similarity warp (vectors/align) and
// embeds with a CNN (default: dlib's ResNet, 128-d) run on the project's
// own kernels (vectors/internal/nn, vectors/internal/tfjs) — pure Go, no
// cgo, so the enclave image builds reproducibly. Every network is checked against its reference
// implementation (tfjs on node) in the tests.
//
// # Captures: several frames, one vector
//
// A capture's frames are fused into one vector by [Fuse]: the direction of
// the weighted sum of the frames' vectors, each weighted by [Quality] (the
// product of the detector's score, a pose factor that favours frontal
// faces, the sharpness of the face box and its size in pixels; [Factors]
// gives them apart). Weights are relative; equal weights give the plain
// mean. docs/templates.md measures what the weights do.
//
// # What a score means
//
// An engine that implements [Calibrated] ships [Thresholds]: Match (at or
// above: the same person) and New (below: a new person), measured on the
// genuine and impostor score distributions of labelled faces with
// `facesign eval` (docs/engine-pipeline.md gives the data, the figures and
// their limits). Scores between the two are ambiguous and the enclave
// refuses to decide. Margin is how far below Match the best other identity
// must stay before a match is accepted. Each engine's numbers are its own:
// cosines of different engines live on different scales (the default
// dlibresnet's different people average 0.84, mobilefacenet's 0.01).
// Open models cannot tell "already enrolled" among
// millions on their own: a gallery of N at a false-positive identification
// rate of 0.3 % needs a false-match rate near 0.003/N. Package
// vectors/calib therefore derives the thresholds from the gallery size and
// each engine's calibrated score curves, and reports the largest gallery
// (the capacity) at which they keep a stated policy.
//
// # The decision
//
// [Decide] is the match decision the enclave applies and the evaluation
// measures: existing only when one identity clears Match and every other
// stays below Match − Margin, new only when every identity is below New,
// ambiguous (refused) otherwise — never a pick among several matching
// identities.
//
// # 1:N search
//
// [Gallery] is exact 1:N search: every stored vector is visited, and the
// top match is the true top match under float32 arithmetic, whether the
// gallery stores float32 or int8 codes (int8 candidates are re-ranked from
// float32 copies with a proven error bound, so the answer equals the
// float32 one bit for bit). Memory per identity: 4·D bytes (float32), or
// 5·D+4 bytes for int8 (D rounded up to a multiple of 4), of which D+4 are
// scanned per search. Searches run in parallel over segments on all cores,
// each core reading four memory streams at once; beyond 16 MiB the scanned
// memory is mapped outside the Go heap and advised for transparent huge
// pages on Linux. [Gallery.SearchBatch] and
// [Coalescer] scan the gallery once for many queries. Slots are stable, so
// the enclave can map a slot to its sealed record. Design and measured
// figures: docs/search.md.
package vectors
