package align_test

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/align"
)

func ExampleSimilarity() {
	// Landmarks found at twice the template's size, shifted by (10, 20).
	var found []vectors.Point
	for _, p := range align.ArcFace112 {
		found = append(found, vectors.Point{X: 2*p.X + 10, Y: 2*p.Y + 20})
	}
	m, _ := align.Similarity(found, align.ArcFace112[:])
	fmt.Printf("scale %.3f, shift (%.2f, %.2f)\n", m.Scale(), m.C, m.F)
	// Output: scale 0.500, shift (-5.00, -10.00)
}
