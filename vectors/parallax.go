package vectors

import "math"

// Parallax is how far the nose of face b lies from where the plane of
// face a's eyes and mouth corners puts it, in b's eye distances: the
// homography mapping a's four nearly coplanar points (eyes, mouth corners)
// onto b's is applied to a's nose tip, and the distance to b's nose tip is
// divided by b's eye distance. A photograph, flat or tilted, moves as one
// plane, so the result stays at the landmark noise; a head turning moves
// its nose out of that plane. It is 0 when the four points are degenerate
// (no homography) or b's eyes are less than a pixel apart.
//
// The enclave's liveness check asks for a largest Parallax over the frames
// of a challenge with a turn (enclave.LivenessConfig.Parallax); a device
// applies the same measurement to its kept frames before it sends them.
func Parallax(a, b [5]Point) float64 {
	src := [4]Point{a[LeftEye], a[RightEye], a[LeftMouth], a[RightMouth]}
	dst := [4]Point{b[LeftEye], b[RightEye], b[LeftMouth], b[RightMouth]}
	h, ok := homography(src, dst)
	if !ok {
		return 0
	}
	px, py, ok := h.apply(float64(a[Nose].X), float64(a[Nose].Y))
	if !ok {
		return 0
	}
	eye := math.Hypot(float64(b[RightEye].X-b[LeftEye].X), float64(b[RightEye].Y-b[LeftEye].Y))
	if eye < 1 {
		return 0
	}
	return math.Hypot(px-float64(b[Nose].X), py-float64(b[Nose].Y)) / eye
}

type homog [9]float64

func (h homog) apply(x, y float64) (float64, float64, bool) {
	w := h[6]*x + h[7]*y + h[8]
	if math.Abs(w) < 1e-9 {
		return 0, 0, false
	}
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w, true
}

// homography solves the 8×8 direct linear system for the projective map of
// four point pairs (h33 = 1) by Gaussian elimination with partial pivoting.
func homography(src, dst [4]Point) (homog, bool) {
	var m [8][9]float64
	for i := 0; i < 4; i++ {
		x, y := float64(src[i].X), float64(src[i].Y)
		u, v := float64(dst[i].X), float64(dst[i].Y)
		m[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		m[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for col := 0; col < 8; col++ {
		p := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[p][col]) {
				p = r
			}
		}
		if math.Abs(m[p][col]) < 1e-12 {
			return homog{}, false
		}
		m[col], m[p] = m[p], m[col]
		for r := 0; r < 8; r++ {
			if r == col {
				continue
			}
			f := m[r][col] / m[col][col]
			for k := col; k < 9; k++ {
				m[r][k] -= f * m[col][k]
			}
		}
	}
	var h homog
	for i := 0; i < 8; i++ {
		h[i] = m[i][8] / m[i][i]
	}
	h[8] = 1
	return h, true
}

// MaxParallax is the largest [Parallax] over every pair of faces, the
// earlier face first, as the enclave measures a capture (0 for fewer than
// two faces).
func MaxParallax(faces [][5]Point) float64 {
	best := 0.0
	for i, a := range faces {
		for _, b := range faces[i+1:] {
			best = max(best, Parallax(a, b))
		}
	}
	return best
}
