// Package calib holds each face engine's calibrated score curves and turns
// them, with the number of people enrolled, into the decision thresholds of
// [vectors.Decide].
//
// # Curves
//
// A [Curve] is measured on a calibration set of labelled faces (one engine,
// one set of weights): FMR(t), the share of impostor pairs (two different
// people) scoring ≥ t, and FNMR(t), the share of genuine pairs (one person
// twice) scoring < t, over all pairs of the set. [Build] takes the scores
// the way an all-pairs run over tens of millions of pairs can hold them
// ([Scores]: every genuine score, an impostor histogram of [Bins] bins and
// the highest impostor scores exactly) and keeps the [TopKeep] highest
// impostor scores, so that FMR is exact wherever fewer than TopKeep pairs
// lie above t. Curves are canonical JSON files ([Curve.MarshalJSON],
// [Parse]) naming the engine, the SHA-256 of its weights, the engine's
// margin and the dataset, split and command that made them; one ships per
// engine in curves/<engine-id>.json ([ForEngine]). An attested policy names
// its curve by [Curve.SHA256].
//
// # Beyond what the data measures: the tail model
//
// A set with m impostor pairs measures FMR down to about 10/m: where fewer
// than [MinCount] impostor pairs score ≥ t (above [Tail.From]), [Curve.FMR]
// reads a tail model and says so (extrapolated = true). The model is a
// generalised Pareto distribution of the excesses over the k-th highest
// impostor score, k = max([MinFit], ⌈√m⌉) (capped by the kept scores): the
// peaks-over-threshold law that any well-behaved tail approaches above a
// high enough threshold. Its shape ξ is estimated by probability-weighted
// moments; the tail is never taken to be lighter than exponential (ξ = 0),
// and is taken to be heavier only when the estimate lies more than
// [ShapeSignificance] standard errors above 0 (then ξ ≤ [MaxShape]): on a
// truly exponential tail the estimate scatters by ±0.05 at k = 600, and a
// spurious ξ = 0.1 would overstate FMR at 10⁻¹² a thousandfold.
//
// Why not the fitted shape, or a normal fit? Cosines are bounded by 1 and
// CNN impostor scores look normal in the bulk, so the true tail is probably
// lighter than exponential (ξ < 0, which the fits on our data do report).
// But a negative ξ puts a hard end point just above the highest impostor
// the set happened to contain, and a normal fit is driven by the bulk, not
// by the tail that matters; both turn a few dozen points into a claim that
// no stranger can ever score above some value. An exponential tail over
// the measured top decays by a fixed score step per decade of FMR, which
// overstates FMR far out when the truth is lighter. Overstating FMR errs
// the safe way for every use here: the match threshold comes out higher
// (fewer strangers handed a wallet), the new threshold higher and the
// capacity lower (the service refuses sooner, and reports FNMR at the
// threshold it really uses). The cost is capacity, and a better curve (more
// impostor pairs, so less extrapolation) buys it back. The tests check the
// fit on synthetic data with known tails: an exponential tail is recovered,
// and a normal tail is overstated, never understated; `facesign eval
// --split report` checks it on real faces it was not fitted on
// (docs/engine-lfw.md).
//
// # Thresholds at gallery size N
//
// [Curve.At] and [Curve.ThresholdsAt] derive the thresholds for a search
// against N enrolled vectors under a [Policy]:
//
//   - match: the lowest t with N × FMR(t) ≤ Epsilon (default 10⁻⁶: a
//     stranger is handed someone's wallet with probability at most one in a
//     million per attempt, whatever N);
//   - new: the LOWEST t at which the expected share of new people refused as
//     ambiguous, 1 − (1 − FMR(t))^N, is at most MaxNewRefused (default 1 %);
//   - margin: the engine's calibrated margin, kept as measured;
//
// and they hold only when new < match − margin and FNMR(new) ≤ MaxDuplicate
// (default 1 %). Past that, there are no thresholds: [ErrOverCapacity].
//
// Why the lowest new threshold, where issue 12 asked for the highest? The
// new threshold guards two groups and pulls in opposite directions. A new
// person is refused when any of the N enrolled people scores ≥ new: a
// HIGHER threshold refuses fewer of them, so MaxNewRefused only sets a
// floor, and "the highest threshold that meets it" would be the match
// threshold itself. A returning person whose own score falls below new —
// while nobody else scores above it — is answered `new` and minted a second
// identity: a LOWER threshold protects them. That second identity is the
// worse harm: a person with two identities and two wallets is what "one
// person, one identity" forbids, and their later captures tend to score
// close to both, which the rule refuses as ambiguous — they can lose the
// use of both wallets (and cannot delete either). Scores between new and
// match are refused with a retry, which costs a retry, not a wallet. So the
// threshold is set as low as the refusal budget allows, and MaxDuplicate
// bounds what remains.
//
// [Curve.TemplateLevelsAt] gives, for a policy that keeps templates, the
// level a capture must reach to become a template of the identity it
// matched: the lowest t with N × FMR(t) ≤ TemplateEpsilon (default
// Epsilon/100, so at or above the match threshold), and the near-copy level
// halfway from it to 1 (docs/templates.md).
//
// [Curve.Capacity] is the largest N at which thresholds exist. The
// conditions tighten with N (both thresholds rise, FNMR at the new one with
// them); past the capacity a service must not guess. What it may still do:
// [Curve.MatchAt] gives the match threshold alone, which keeps the
// one-in-a-million bound at any N where some threshold ≤ 1 does, so a
// service can keep answering returning people while refusing to enrol.
//
// # Caller duties
//
// N is the number of enrolled vectors one search compares against: a
// service that keeps several templates per identity exposes a stranger to
// every template, so it passes the number of templates (conservative; the
// templates of one person are not independent chances). The curve must be
// the one measured for the engine's weights ([Curve.ModelSHA256]). A curve
// measured on single photos (LFW) predicts single-photo scores; a service
// that fuses several frames per capture sees higher genuine scores, so FNMR
// figures are pessimistic for it while FMR figures are not known to be.
package calib
