package eval

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Curve returns the ROC as (FAR, TAR) points, one per distinct threshold,
// from the strictest to the most lenient.
func Curve(genuine, impostor []float64) (far, tar, thr []float64) {
	g := append([]float64(nil), genuine...)
	im := append([]float64(nil), impostor...)
	sort.Float64s(g)
	sort.Float64s(im)
	ts := append(append([]float64{}, g...), im...)
	sort.Sort(sort.Reverse(sort.Float64Slice(ts)))
	last := math.NaN()
	for _, t := range ts {
		if t == last {
			continue
		}
		last = t
		far = append(far, FMR(im, t))
		tar = append(tar, 1-FNMR(g, t))
		thr = append(thr, t)
	}
	return far, tar, thr
}

// WritePlot draws a PNG with two panels: the genuine and impostor score
// histograms with the recommended thresholds, and the ROC (TAR against FAR
// on a log axis; FAR 0 is drawn at half the resolution 1/(2M)).
func WritePlot(w io.Writer, r Report, genuine, impostor []float64, title string) error {
	hist := plot.New()
	hist.Title.Text = title + ": score distributions"
	hist.X.Label.Text = "cosine score"
	hist.Y.Label.Text = "density"
	top := 0.0
	for _, d := range []struct {
		name string
		s    []float64
		c    color.NRGBA
	}{{"genuine", genuine, color.NRGBA{0, 130, 0, 255}}, {"impostor", impostor, color.NRGBA{200, 0, 0, 255}}} {
		h, err := plotter.NewHist(plotter.Values(d.s), 40)
		if err != nil {
			return fmt.Errorf("eval: histogram: %w", err)
		}
		h.Normalize(1)
		for _, b := range h.Bins {
			top = math.Max(top, b.Weight)
		}
		h.LineStyle.Color = d.c
		fill := d.c
		fill.A = 80
		h.FillColor = fill
		hist.Add(h)
		hist.Legend.Add(fmt.Sprintf("%s (%d)", d.name, len(d.s)), h)
	}
	for _, t := range []struct {
		name string
		v    float64
	}{{"match", r.MatchThreshold}, {"new", r.NewThreshold}} {
		l, err := plotter.NewLine(plotter.XYs{{X: t.v, Y: 0}, {X: t.v, Y: top}})
		if err != nil {
			return err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		hist.Add(l)
		hist.Legend.Add(fmt.Sprintf("%s threshold %.3f", t.name, t.v), l)
	}
	hist.Legend.Top = true

	roc := plot.New()
	roc.Title.Text = fmt.Sprintf("ROC (EER %.2f%%)", 100*r.EER)
	roc.X.Label.Text = "FAR (false match rate)"
	roc.Y.Label.Text = "TAR (1 - FNMR)"
	roc.X.Scale = plot.LogScale{}
	roc.X.Tick.Marker = plot.LogTicks{Prec: -1}
	floor := 0.5 / float64(len(impostor))
	far, tar, _ := Curve(genuine, impostor)
	var pts plotter.XYs
	for i := range far {
		pts = append(pts, plotter.XY{X: math.Max(far[i], floor), Y: tar[i]})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	line.Color = color.RGBA{0, 0, 180, 255}
	roc.Add(line, plotter.NewGrid())
	roc.X.Min, roc.X.Max = floor, 1
	roc.Y.Min, roc.Y.Max = 0, 1

	const width, height = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{hist, roc}}, tiles, dc)
	hist.Draw(canvases[0][0])
	roc.Draw(canvases[0][1])
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("eval: write png: %w", err)
	}
	return nil
}
