//go:build !race

package dlibresnet

const raceEnabled = false
