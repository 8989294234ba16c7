// Package eval measures a face engine on a labelled dataset (one folder per
// person) the way the service will use it: it builds genuine pairs (two
// images of one person) and impostor pairs (images of two people), turns
// their cosine scores into the numbers an operator needs to pick
// thresholds, and runs the service's own decision rule on an open-set
// de-duplication protocol.
//
// # What is measured
//
// [Analyze] (score slices) and [Dist.Report] (the all-pairs distribution of
// [AllPairs]) report, from the empirical score distributions:
//
//   - FMR(t) = share of impostor scores ≥ t, FNMR(t) = share of genuine
//     scores < t, the equal error rate (EER) where they cross;
//   - TAR (= 1 − FNMR) at FAR (= FMR) targets 1e-2 … 1e-6, each flagged as
//     measurable only when the impostor pair count reaches 1/FAR (one false
//     match is then the resolution), and as low-confidence when it is below
//     10/FAR (such a TAR is not reported in JSON);
//   - the recommended thresholds for the enclave's decision policy: a match
//     threshold (lowest score with empirical FMR ≤ the chosen target, never
//     below the highest impostor score when the target is finer than the data
//     can resolve) and a new-person threshold (the genuine score that 99 % of
//     genuine pairs reach);
//   - the largest gallery for a false-positive identification rate of 0.3 %.
//
// [KFold] runs the LFW View 2 protocol on a pairs file ([ParsePairs]): for
// each fold the threshold that is best on the other folds ([BestThreshold])
// is applied to it; a pair with an image that gave no vector counts as an
// error. [OpenSet] runs issue 12's open-set protocol through an exact
// [vectors.Gallery] and [vectors.Decide]: the first image of every person
// with several images enrols and the second searches (returning people);
// people with one image alternate between enrolling and searching (new
// people); the outcome rates are new / existing / ambiguous / wrong person.
// [Evaluate] puts it all together for `facesign eval`, with the thresholds
// of a [calib.Curve] built from a calibration part of the dataset.
//
// # All pairs without keeping them
//
// [AllPairs] scores every pair of a dataset with blocked matrix products on
// the project's GEMM kernel (13,233 LFW images: 87 M impostor pairs) and
// keeps a [Dist]: every genuine score, the impostor count, sums and
// extremes, the top 1 % of impostor scores exactly (all of them up to
// 65,536), and a 65,536-bin histogram. Thresholds and TAR at FAR ≤ 1e-2
// and the gallery figures read the exact parts and are exact; the EER and
// impostor p1/median read the histogram (±1 bin, 3·10⁻⁵) and the report
// says so. [AllPairsReference], [Analyze] and [OpenSetReference] are the
// plain twins the tests compare against.
//
// # Calibrate on one part, report on another
//
// [PartOf] splits people by a hash of their folder name into a calibration
// half and a report half (identity-disjoint, the same on every machine and
// for every engine). [Evaluate] reports on the part it is asked for and
// builds the curve from the calibration half when that is the report half;
// every figure names its part. Figures with calibration and report on the
// same part are optimistic, and labelled so.
//
// # Gallery extrapolation
//
// For a gallery of N different people, FPIR ≈ N·FMR(t) when FMR is small, so
// N ≈ 0.003 / FMR(t). A dataset with M impostor pairs cannot measure an FMR
// below about 1/M; when no impostor clears t, [Analyze] uses the 95 % upper
// bound 3/M (the "rule of three"), which gives a conservative, data-backed
// N. It also reports a model-based extrapolation that fits a normal
// distribution to the impostor scores and reads its upper tail at t. That
// figure is an extrapolation far beyond the data (real impostor tails are
// often heavier than normal), stated as such, never a measurement. The
// capacity of the service's policy comes from [calib.Curve.Capacity] (its
// own tail model), not from this estimate.
//
// # Speed: the cache
//
// [EmbedImages] runs detection and embedding on a bounded pool of workers
// and keeps what it computed in a [Cache]: detections keyed by the image
// file's SHA-256 and the detector (weights and options, shared by every
// engine built on it), vectors by the image's SHA-256, the engine ID and
// its model hash. A malformed cache file is an error, never half-read.
//
// # Caller duties
//
// Scores must come from one engine (the package checks engine ID, model
// hash and length of every vector). Genuine and impostor pairs must be
// independent images; near-duplicates inflate the numbers. Timings are wall
// times on whatever else the machine is doing: name the machine and its load
// with any figure.
package eval
