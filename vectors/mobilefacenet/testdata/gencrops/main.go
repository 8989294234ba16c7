// Command gencrops regenerates the aligned test crops in ../crops from the
// source photos and the five landmarks recorded in ../crops/landmarks.json
// (and, with -template dlib -out vectors/dlibresnet/testdata/crops, the
// dlib ResNet's 150×150 chips).
//
//	go run ./vectors/mobilefacenet/testdata/gencrops -facesdir DIR -samplesdir DIR
//
// -samplesdir is @vladmandic/face-api@1.7.15's demo/ folder (MIT), -facesdir
// the LFW slice in shared/testdata/faces. The landmarks were measured once
// with face-api's ssd_mobilenetv1 + face_landmark_68 (eye centres = mean of
// points 36–41 and 42–47, nose tip 30, mouth corners 48 and 54); this tool
// only warps. Each face is mapped onto the ArcFace 112×112 five-point
// template with the least-squares similarity transform (Umeyama, no
// reflection) and sampled bilinearly, edges clamped.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// arcface is the ArcFace 112×112 alignment template.
var arcface = [5][2]float64{{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041}}

// dlibChip returns the five points in dlib's 150×150 face chip: eye centres
// (means of mean-face points 36–41 and 42–47), nose tip 30, mouth corners
// 48 and 54 of dlib's mean face, mapped by (0.25 + p)/1.5 · 150.
func dlibChip() [5][2]float64 {
	lx := []float64{0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743}
	ly := []float64{0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077}
	rx := []float64{0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335}
	ry := []float64{0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	m := [5][2]float64{{mean(lx), mean(ly)}, {mean(rx), mean(ry)}, {0.490127, 0.515625}, {0.254149, 0.780233}, {0.726104, 0.780233}}
	for i := range m {
		for k := range m[i] {
			m[i][k] = (0.25 + m[i][k]) / 1.5 * 150
		}
	}
	return m
}

type entry struct {
	Crop   string        `json:"crop"`
	Source string        `json:"source"` // "samples/sample1.jpg" or "faces/Person/Person_0001.jpg"
	Five   [5][2]float64 `json:"five"`
}

func main() {
	faces := flag.String("facesdir", "../shared/testdata/faces", "LFW slice")
	samples := flag.String("samplesdir", "", "@vladmandic/face-api demo folder")
	out := flag.String("out", "vectors/mobilefacenet/testdata/crops", "crops folder (holds landmarks.json)")
	tmpl := flag.String("template", "arcface", "arcface (112×112) or dlib (150×150)")
	flag.Parse()
	template, size := arcface, 112
	switch *tmpl {
	case "arcface":
	case "dlib":
		template, size = dlibChip(), 150
	default:
		fail(fmt.Errorf("unknown template %q", *tmpl))
	}
	raw, err := os.ReadFile(filepath.Join(*out, "landmarks.json"))
	if err != nil {
		fail(err)
	}
	var entries []entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		fail(err)
	}
	for _, e := range entries {
		dir, rel := *faces, e.Source[len("faces/"):]
		if e.Source[:8] == "samples/" {
			dir, rel = *samples, e.Source[len("samples/"):]
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			fail(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			fail(err)
		}
		crop := warp(img, similarity(e.Five, template), size)
		w, err := os.Create(filepath.Join(*out, e.Crop))
		if err != nil {
			fail(err)
		}
		if err := png.Encode(w, crop); err != nil {
			fail(err)
		}
		if err := w.Close(); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencrops:", err)
	os.Exit(1)
}

// similarity returns [a, -b, tx; b, a, ty] mapping src onto dst in the
// least-squares sense.
func similarity(src, dst [5][2]float64) [6]float64 {
	var ms, md [2]float64
	for i := range src {
		ms[0] += src[i][0] / 5
		ms[1] += src[i][1] / 5
		md[0] += dst[i][0] / 5
		md[1] += dst[i][1] / 5
	}
	var sxx, sxy, ss float64 // Σ dst·src, Σ dst×src, Σ |src|²
	for i := range src {
		x, y := src[i][0]-ms[0], src[i][1]-ms[1]
		u, v := dst[i][0]-md[0], dst[i][1]-md[1]
		sxx += x*u + y*v
		sxy += x*v - y*u
		ss += x*x + y*y
	}
	a, b := sxx/ss, sxy/ss
	return [6]float64{a, -b, md[0] - a*ms[0] + b*ms[1], b, a, md[1] - b*ms[0] - a*ms[1]}
}

// warp samples the size×size crop: each output pixel centre is mapped back
// through the inverse transform into img.
func warp(img image.Image, m [6]float64, size int) *image.RGBA {
	det := m[0]*m[4] - m[1]*m[3]
	inv := [6]float64{m[4] / det, -m[1] / det, 0, -m[3] / det, m[0] / det, 0}
	inv[2] = -(inv[0]*m[2] + inv[1]*m[5])
	inv[5] = -(inv[3]*m[2] + inv[4]*m[5])
	b := img.Bounds()
	at := func(x, y int) [3]float64 {
		x = min(max(x, b.Min.X), b.Max.X-1)
		y = min(max(y, b.Min.Y), b.Max.Y-1)
		r, g, bl, _ := img.At(x, y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}
	}
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			sx := inv[0]*float64(x) + inv[1]*float64(y) + inv[2] + float64(b.Min.X)
			sy := inv[3]*float64(x) + inv[4]*float64(y) + inv[5] + float64(b.Min.Y)
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			var c [3]uint8
			for k := range c {
				v := (p00[k]*(1-fx)+p10[k]*fx)*(1-fy) + (p01[k]*(1-fx)+p11[k]*fx)*fy
				c[k] = uint8(math.Round(min(max(v, 0), 255)))
			}
			out.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return out
}
