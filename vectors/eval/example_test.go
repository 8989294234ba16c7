package eval_test

import (
	"fmt"

	"github.com/facesign/facesign/vectors/eval"
)

func ExampleAnalyze() {
	genuine := []float64{0.62, 0.71, 0.55, 0.80}
	impostor := []float64{0.05, -0.10, 0.21, 0.12, 0.30, 0.02}
	r, _ := eval.Analyze(genuine, impostor)
	fmt.Printf("EER %.2f, match threshold above %.2f\n", r.EER, r.MatchThreshold)
	// Output: EER 0.00, match threshold above 0.30
}
