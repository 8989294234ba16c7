//go:build !race

package mobilefacenet

const raceEnabled = false
