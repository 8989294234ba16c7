package vectors

import (
	"math"
	"testing"
)

func TestParallax(t *testing.T) {
	// A frontal face: eyes 40 px apart, nose between them, mouth below.
	front := [5]Point{LeftEye: {100, 100}, RightEye: {140, 100}, Nose: {120, 120}, LeftMouth: {105, 140}, RightMouth: {135, 140}}
	move := func(f [5]Point, m func(Point) Point) [5]Point {
		for i := range f {
			f[i] = m(f[i])
		}
		return f
	}
	noseAt := func(f [5]Point, dx float32) [5]Point { f[Nose].X += dx; return f }
	tests := []struct {
		name string
		b    [5]Point
		want float64
	}{
		{"the same face", front, 0},
		{"moved and scaled as a plane (a photo)", move(front, func(p Point) Point { return Point{X: 2*p.X + 30, Y: 2*p.Y - 10} }), 0},
		{"nose out of the plane by 0.2 eye distances", noseAt(front, 8), 0.2},
		{"nose out of the plane by 0.1 eye distances", noseAt(front, -4), 0.1},
		{"degenerate: every point at one place", [5]Point{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Parallax(front, tc.b); math.Abs(got-tc.want) > 1e-6 {
				t.Fatalf("Parallax = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMaxParallax(t *testing.T) {
	front := [5]Point{LeftEye: {100, 100}, RightEye: {140, 100}, Nose: {120, 120}, LeftMouth: {105, 140}, RightMouth: {135, 140}}
	noseAt := func(dx float32) [5]Point { f := front; f[Nose].X += dx; return f }
	for _, tc := range []struct {
		name  string
		faces [][5]Point
		want  float64
	}{
		{"none", nil, 0},
		{"one face", [][5]Point{noseAt(8)}, 0},
		{"the widest pair, not neighbours", [][5]Point{noseAt(-4), front, noseAt(8)}, 0.3},
		{"all flat", [][5]Point{front, front, front}, 0},
	} {
		if got := MaxParallax(tc.faces); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: MaxParallax = %v, want %v", tc.name, got, tc.want)
		}
	}
}
