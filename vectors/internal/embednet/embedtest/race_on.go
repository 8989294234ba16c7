//go:build race

package embedtest

// RaceEnabled tells tests to do less work under -race, where a forward
// pass is several times slower.
const RaceEnabled = true
