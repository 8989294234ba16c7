// Command gencrops regenerates the aligned test crops in ../crops from the
// LFW slice in shared/testdata/faces, through this project's own pipeline:
// the detector (vectors/detect) finds the faces and their five landmarks,
// the face nearest the photo's centre is taken (LFW centres its subject),
// and align.Crop warps it onto the ArcFace 112×112 five-point template —
// exactly the crop the fr-feature engine embeds.
//
//	go run ./vectors/frfeature/testdata/gencrops -facesdir ../shared/testdata/faces
package main

import (
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
)

// people: two photos each (the first two in file order the detector finds
// a face in) of six people.
var people = []string{"Carolyn_Dawn_Johnson", "Cesar_Gaviria", "Dean_Barkley", "Fernando_Vargas", "George_Clooney", "Jennifer_Garner"}

func main() {
	faces := flag.String("facesdir", "../shared/testdata/faces", "LFW slice (one folder per person)")
	out := flag.String("out", "vectors/frfeature/testdata/crops", "output folder")
	flag.Parse()
	d, err := detect.New(detect.Options{})
	if err != nil {
		fail(err)
	}
	for _, p := range people {
		done := 0
		for _, k := range []string{"0001", "0002", "0003", "0004"} {
			name := p + "_" + k
			err := crop(d, filepath.Join(*faces, p, name+".jpg"), filepath.Join(*out, "lfw_"+name+".png"))
			if err != nil {
				fmt.Fprintf(os.Stderr, "gencrops: %s skipped: %v\n", name, err)
				continue
			}
			if done++; done == 2 {
				break
			}
		}
		if done < 2 {
			fail(fmt.Errorf("%s: fewer than two usable photos", p))
		}
	}
}

func crop(d *detect.Detector, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	found, err := d.Detect(img)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("no face")
	}
	b := img.Bounds()
	cx, cy := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2
	best, bestD := 0, math.Inf(1)
	for i, fc := range found {
		x := float64(fc.Box.X) + float64(fc.Box.W)/2
		y := float64(fc.Box.Y) + float64(fc.Box.H)/2
		if dd := math.Hypot(x-cx, y-cy); dd < bestD {
			best, bestD = i, dd
		}
	}
	c, _, err := align.Crop(img, found[best].Five, 112)
	if err != nil {
		return err
	}
	o, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := png.Encode(o, c); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencrops:", err)
	os.Exit(1)
}
