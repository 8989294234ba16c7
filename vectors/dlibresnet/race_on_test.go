//go:build race

package dlibresnet

// raceEnabled shortens the Go side of the conformance test under -race,
// where a forward pass is several times slower.
const raceEnabled = true
