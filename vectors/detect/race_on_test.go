//go:build race

package detect

// raceEnabled shortens the image lists under -race, where a forward pass is
// many times slower; the full lists run in a plain `go test`.
const raceEnabled = true
