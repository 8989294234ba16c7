package scan

import "math/big"

// fma32Slow computes x·y + z exactly with math/big and rounds once; it
// handles the results near the float32 subnormal range that FMA32's fast
// path does not.
func fma32Slow(x, y, z float32) float32 {
	var p, s big.Float
	p.SetPrec(200)
	p.Mul(new(big.Float).SetPrec(200).SetFloat64(float64(x)), new(big.Float).SetPrec(200).SetFloat64(float64(y)))
	s.SetPrec(200).Add(&p, new(big.Float).SetPrec(200).SetFloat64(float64(z)))
	f, _ := s.Float32()
	return f
}
