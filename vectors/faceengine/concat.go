package faceengine

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
)

// concat is an embedder made of several networks that read the same aligned
// crop: it embeds the crop with each, scales each part's unit vector by
// sqrt(w_i) (weights summing to 1) and concatenates them. The result has
// unit length, and its cosine with another such vector is the weighted mean
// of the parts' cosines, Σ w_i·cos_i: feature-level concatenation and
// score-level fusion are the same thing here, so one search over the
// concatenated gallery decides on the fused score.
type concat struct {
	parts   []embedder
	scale   []float32 // sqrt of each part's weight
	size    int
	dim     int
	sha     [32]byte
	weights []float64
}

var _ embedder = (*concat)(nil)

// errConcat reports parts that cannot be concatenated.
var errConcat = errors.New("faceengine: networks cannot be concatenated")

// newConcat joins parts with the given weights (nil: equal weights). Every
// part must read the same crop size; the weights must be positive and are
// normalised to sum to 1.
func newConcat(parts []embedder, weights []float64) (*concat, error) {
	if len(parts) < 2 {
		return nil, fmt.Errorf("%w: need two or more networks, got %d", errConcat, len(parts))
	}
	if weights == nil {
		weights = make([]float64, len(parts))
		for i := range weights {
			weights[i] = 1
		}
	}
	if len(weights) != len(parts) {
		return nil, fmt.Errorf("%w: %d weights for %d networks", errConcat, len(weights), len(parts))
	}
	var total float64
	for _, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%w: weight %v is not a positive number", errConcat, w)
		}
		total += w
	}
	c := &concat{parts: parts, size: parts[0].InputSize()}
	h := sha256.New()
	for i, p := range parts {
		if p.InputSize() != c.size {
			return nil, fmt.Errorf("%w: crop sizes %d and %d differ", errConcat, c.size, p.InputSize())
		}
		c.dim += p.Dim()
		c.weights = append(c.weights, weights[i]/total)
		c.scale = append(c.scale, float32(math.Sqrt(weights[i]/total)))
		s := p.ModelSHA256()
		h.Write(s[:])
	}
	// The weights are part of the model: other weights, other scores.
	fmt.Fprintf(h, "%v", c.weights)
	h.Sum(c.sha[:0])
	return c, nil
}

// Embed runs every part on crop and returns the weighted concatenation.
// The parts run at once, each on its own goroutine: they share nothing
// but the crop, which they only read, and a network's small late layers
// leave cores idle that the other network's can use.
func (c *concat) Embed(crop *image.RGBA) ([]float32, error) {
	vs := make([][]float32, len(c.parts))
	errs := make([]error, len(c.parts))
	var wg sync.WaitGroup
	for i, p := range c.parts {
		wg.Go(func() { vs[i], errs[i] = p.Embed(crop) })
	}
	wg.Wait()
	out := make([]float32, 0, c.dim)
	for i, p := range c.parts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if len(vs[i]) != p.Dim() {
			return nil, fmt.Errorf("%w: network %d returned %d values, want %d", errConcat, i, len(vs[i]), p.Dim())
		}
		for _, x := range vs[i] {
			out = append(out, x*c.scale[i])
		}
	}
	return out, nil
}

// ModelSHA256 is SHA-256 over the parts' hashes, in order, and the weights.
func (c *concat) ModelSHA256() [32]byte { return c.sha }

// InputSize is the crop side every part reads.
func (c *concat) InputSize() int { return c.size }

// Dim is the sum of the parts' dimensions.
func (c *concat) Dim() int { return c.dim }
