// Package eval measures a face engine on a labelled dataset: it builds
// genuine pairs (two images of one person) and impostor pairs (images of
// two people), and turns their cosine scores into the numbers an operator
// needs to pick thresholds and to know how large a gallery the engine
// supports.
//
// # What is measured
//
// [Analyze] reports, from the empirical score distributions:
//
//   - FMR(t) = share of impostor scores ≥ t, FNMR(t) = share of genuine
//     scores < t, the equal error rate (EER) where they cross;
//   - TAR (= 1 − FNMR) at FAR (= FMR) targets 1e-2, 1e-3, 1e-4, each
//     flagged as measurable only when the impostor pair count reaches 1/FAR
//     (one false match is then the resolution), and as low-confidence when it
//     is below 10/FAR;
//   - the recommended thresholds for the enclave's decision policy: a match
//     threshold (lowest score with empirical FMR ≤ the chosen target, never
//     below the highest impostor score when the target is finer than the data
//     can resolve) and a new-person threshold (the genuine score that 99 % of
//     genuine pairs reach);
//   - the largest gallery for a false-positive identification rate of 0.3 %.
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
// often heavier than normal), stated as such, never a measurement.
//
// # Caller duties
//
// Scores must come from one engine (the package does not see vectors).
// Genuine and impostor pairs must be independent images; near-duplicates
// inflate the numbers.
package eval
