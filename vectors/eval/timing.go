package eval

import (
	"errors"
	"fmt"
	"image"
	"os"
	"slices"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// TimingRow is one engine's time per face in [TimeSideBySide].
type TimingRow struct {
	Engine string `json:"engine"`
	Faces  int    `json:"faces"`
	// Medians of the wall time per face, in ms: detection, alignment +
	// embedding of the subject, and the two together (the pipeline).
	DetectMS float64 `json:"detect_ms"`
	EmbedMS  float64 `json:"embed_ms"`
	TotalMS  float64 `json:"total_ms"`
}

// ErrTiming reports a timing run that cannot be made.
var ErrTiming = errors.New("eval: cannot time")

// TimeSideBySide times the engines on the same images in one run: each
// image is decoded once, then every engine in turn (the order rotating
// from image to image, so that neither always runs first) detects the faces
// and embeds the subject, one image at a time on one goroutine (the
// kernels use their own goroutines, as in the service). now is the clock.
// Images where an engine finds no face are skipped for all engines. Wall
// times on a shared machine carry its load: compare engines within one run.
func TimeSideBySide(engines []vectors.Engine, files []string, lim imageio.Limits, now func() time.Time) ([]TimingRow, error) {
	if len(engines) == 0 || now == nil {
		return nil, fmt.Errorf("%w: need engines and a clock", ErrTiming)
	}
	det := make([][]float64, len(engines))
	emb := make([][]float64, len(engines))
	type sample struct{ d, e float64 }
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTiming, err)
		}
		img, _, err := imageio.Decode(data, lim)
		if err != nil {
			continue
		}
		got := make([]sample, len(engines))
		ok := true
		for k := range engines {
			j := (i + k) % len(engines)
			s, found, err := timeOne(engines[j], img, now)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrTiming, f, err)
			}
			if !found {
				ok = false
				break
			}
			got[j] = sample{s[0], s[1]}
		}
		if !ok {
			continue
		}
		for j, s := range got {
			det[j] = append(det[j], s.d)
			emb[j] = append(emb[j], s.e)
		}
	}
	rows := make([]TimingRow, len(engines))
	for j, e := range engines {
		tot := make([]float64, len(det[j]))
		for i := range tot {
			tot[i] = det[j][i] + emb[j][i]
		}
		rows[j] = TimingRow{Engine: e.ID(), Faces: len(tot), DetectMS: median(det[j]), EmbedMS: median(emb[j]), TotalMS: median(tot)}
	}
	return rows, nil
}

// timeOne detects and embeds img's subject, returning the two wall times in
// ms; found is false when there is no face.
func timeOne(e vectors.Engine, img image.Image, now func() time.Time) ([2]float64, bool, error) {
	t0 := now()
	faces, err := e.Detect(img)
	t1 := now()
	if errors.Is(err, vectors.ErrNoFace) || err == nil && len(faces) == 0 {
		return [2]float64{}, false, nil
	}
	if err != nil {
		return [2]float64{}, false, err
	}
	f := faces[Subject(faces, img.Bounds())]
	t2 := now()
	if _, err := e.Embed(img, f); err != nil {
		return [2]float64{}, false, err
	}
	t3 := now()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return [2]float64{ms(t1.Sub(t0)), ms(t3.Sub(t2))}, true, nil
}

func median(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return quantile(c, 0.5)
}

// Spread picks n files spread evenly over the dataset (every k-th image in
// people/file order), or all of them when there are fewer.
func Spread(people []Person, n int) []string {
	var all []string
	for _, p := range people {
		all = append(all, p.Files...)
	}
	if n <= 0 || n >= len(all) {
		return all
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, all[i*len(all)/n])
	}
	return out
}
