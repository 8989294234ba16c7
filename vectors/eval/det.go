package eval

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DETPoint is one point of a detection error trade-off curve.
type DETPoint struct {
	Threshold float64
	FMR, FNMR float64
}

// DET returns the DET curve of d from the strictest threshold to the most
// lenient: just above the highest impostor score (FMR 0), one point per
// kept top impostor score (exact), then one per
// histogram bin below the kept top (FMR read from the histogram), at most
// about maxPoints points (thinned evenly in log FMR).
func (d Dist) DET(maxPoints int) []DETPoint {
	var pts []DETPoint
	add := func(t float64) {
		fm, _ := d.FMR(t)
		pts = append(pts, DETPoint{Threshold: t, FMR: fm, FNMR: d.FNMR(t)})
	}
	if len(d.Top) > 0 {
		add(math.Nextafter(float64(d.Top[0]), math.Inf(1))) // no impostor accepted
	}
	for i, s := range d.Top {
		if i == 0 || s != d.Top[i-1] {
			add(float64(s))
		}
	}
	if !d.Exact() && len(d.Top) > 0 {
		for b := binOf(d.Top[len(d.Top)-1]); b >= 0; b-- {
			if d.Hist[b] > 0 {
				add(binLow(b))
			}
		}
	}
	if maxPoints <= 0 || len(pts) <= maxPoints {
		return pts
	}
	// Keep a point whenever log10 FMR or FNMR moved by a step.
	step := 8.0 / float64(maxPoints)
	out := []DETPoint{pts[0]}
	for _, p := range pts[1 : len(pts)-1] {
		last := out[len(out)-1]
		if math.Abs(logOr(p.FMR)-logOr(last.FMR)) >= step || math.Abs(logOr(p.FNMR)-logOr(last.FNMR)) >= step {
			out = append(out, p)
		}
	}
	return append(out, pts[len(pts)-1])
}

func logOr(x float64) float64 {
	if x <= 0 {
		return -12
	}
	return math.Log10(x)
}

// Marker is a threshold to mark on a plot.
type Marker struct {
	Name      string
	Threshold float64
}

// WriteDET draws a PNG with two panels: the genuine and impostor score
// densities of d with the marked thresholds, and the DET curve (FNMR
// against FMR, both on log axes; a rate of 0 is drawn at half the
// resolution, 1/(2·pairs)), with the marked thresholds as points.
func WriteDET(w io.Writer, d Dist, title string, marks []Marker) error {
	if len(d.Genuine) == 0 || d.N == 0 {
		return ErrTooFewPairs
	}
	hist := plot.New()
	hist.Title.Text = title + ": score distributions"
	hist.X.Label.Text = "cosine score"
	hist.Y.Label.Text = "density"
	const bins = 200
	lo, hi := math.Min(float64(d.Min), float64(d.Genuine[0])), math.Max(float64(d.Max), float64(d.Genuine[len(d.Genuine)-1]))
	if hi <= lo {
		hi = lo + 1e-3
	}
	width := (hi - lo) / bins
	gen := make([]float64, bins)
	for _, s := range d.Genuine {
		gen[min(bins-1, int((float64(s)-lo)/width))]++
	}
	imp := make([]float64, bins)
	for b, c := range d.Hist {
		if c > 0 {
			x := binLow(b) + 1.0/HistBins
			imp[min(bins-1, max(0, int((x-lo)/width)))] += float64(c)
		}
	}
	top := 0.0
	for _, s := range []struct {
		name  string
		count []float64
		total float64
		c     color.NRGBA
	}{{"genuine", gen, float64(len(d.Genuine)), color.NRGBA{0, 130, 0, 255}}, {"impostor", imp, float64(d.N), color.NRGBA{200, 0, 0, 255}}} {
		var xy plotter.XYs
		for b, c := range s.count {
			y := c / s.total / width
			top = math.Max(top, y)
			x0 := lo + float64(b)*width
			xy = append(xy, plotter.XY{X: x0, Y: y}, plotter.XY{X: x0 + width, Y: y})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("eval: histogram: %w", err)
		}
		l.Color = s.c
		fill := s.c
		fill.A = 80
		l.FillColor = fill
		hist.Add(l)
		hist.Legend.Add(fmt.Sprintf("%s (%d pairs)", s.name, int64(s.total)), l)
	}
	palette := []color.RGBA{{0, 0, 0, 255}, {180, 90, 0, 255}, {120, 0, 160, 255}, {0, 120, 160, 255}}
	for i, m := range marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.Threshold, Y: 0}, {X: m.Threshold, Y: top}})
		if err != nil {
			return err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = palette[i%len(palette)]
		hist.Add(l)
		hist.Legend.Add(fmt.Sprintf("%s %.4f", m.Name, m.Threshold), l)
	}
	hist.Legend.Top = true
	hist.Legend.Left = true

	det := plot.New()
	eer, _ := d.Report()
	det.Title.Text = fmt.Sprintf("DET (EER %.2f%%)", 100*eer.EER)
	det.X.Label.Text = "FMR (false match rate)"
	det.Y.Label.Text = "FNMR (false non-match rate)"
	det.X.Scale, det.Y.Scale = plot.LogScale{}, plot.LogScale{}
	det.X.Tick.Marker, det.Y.Tick.Marker = decades{}, decades{}
	fFloor, gFloor := 0.5/float64(d.N), 0.5/float64(len(d.Genuine))
	var pts plotter.XYs
	for _, p := range d.DET(4000) {
		pts = append(pts, plotter.XY{X: math.Max(p.FMR, fFloor), Y: math.Max(p.FNMR, gFloor)})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	line.Color = color.RGBA{0, 0, 180, 255}
	det.Add(line, plotter.NewGrid())
	det.Legend.Add(title, line)
	for i, m := range marks {
		fm, _ := d.FMR(m.Threshold)
		sc, err := plotter.NewScatter(plotter.XYs{{X: math.Max(fm, fFloor), Y: math.Max(d.FNMR(m.Threshold), gFloor)}})
		if err != nil {
			return err
		}
		sc.Color = palette[i%len(palette)]
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(4)
		det.Add(sc)
		det.Legend.Add(m.Name, sc)
	}
	det.Legend.Left = true // the empty corner: low FMR and low FNMR
	det.X.Min, det.X.Max = fFloor, 1
	det.Y.Min, det.Y.Max = gFloor, 1

	const wd, ht = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(wd, ht)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{hist, det}}, tiles, dc)
	hist.Draw(canvases[0][0])
	det.Draw(canvases[0][1])
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("eval: write png: %w", err)
	}
	return nil
}

// decades marks every power of ten on a log axis, labelled 1, 0.1, 0.01,
// 1e-3, 1e-4 … (plot.LogTicks prints 10⁻⁶ as 9.999999e-07).
type decades struct{}

// Ticks returns the powers of ten in [lo, hi].
func (decades) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
		v := math.Pow(10, float64(e))
		if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
			continue
		}
		label := fmt.Sprintf("1e%d", e)
		if e >= -2 {
			label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	return ts
}
