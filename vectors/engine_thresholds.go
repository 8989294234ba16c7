package vectors

// Thresholds are an engine's calibrated decision thresholds on the cosine
// score: Match or above is the same person; a best score below New is a new
// person; anything between is ambiguous.
type Thresholds struct {
	Match, New float32
}

// Calibrated is implemented by engines that ship measured thresholds.
type Calibrated interface {
	Thresholds() Thresholds
}
