package vectors

// Thresholds are an engine's calibrated decision thresholds on the cosine
// score: Match or above is the same person; a best score below New is a new
// person; anything between is ambiguous. Margin is how far below Match the
// best OTHER identity must score before a match is accepted (zero when the
// engine does not calibrate one). The numbers only mean something for the
// engine (and weights) that measured them: cosines of different engines live
// on different scales.
type Thresholds struct {
	Match, New float32
	Margin     float32
}

// Calibrated is implemented by engines that ship measured thresholds.
type Calibrated interface {
	Thresholds() Thresholds
}
