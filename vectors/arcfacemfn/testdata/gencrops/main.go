// Command gencrops regenerates the aligned test crops in ../crops with
// this project's own pipeline: the detector (vectors/detect, default
// options) finds the single face of each photo, and align.Crop warps it
// onto the ArcFace 112×112 template — exactly the crop the arcface-mfn
// engine embeds.
//
//	go run ./vectors/arcfacemfn/testdata/gencrops -facesdir ../shared/testdata/faces
//
// It takes photos 0001 and 0002 of every person in the LFW slice and
// writes lfw_<Person>_<n>.png.
package main

import (
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/facesign/facesign/vectors/align"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

func main() {
	faces := flag.String("facesdir", "../shared/testdata/faces", "LFW slice (one folder per person)")
	out := flag.String("out", "vectors/arcfacemfn/testdata/crops", "output folder")
	flag.Parse()
	det, err := detect.New(detect.Options{})
	if err != nil {
		fail(err)
	}
	files, err := filepath.Glob(filepath.Join(*faces, "*", "*_000[12].jpg"))
	if err != nil || len(files) == 0 {
		fail(fmt.Errorf("no photos under %s: %v", *faces, err))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		img, _, err := imageio.Decode(raw, imageio.Limits{})
		if err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		face, err := det.One(img)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", f, err)
			continue
		}
		crop, _, err := align.Crop(img, face.Five, 112)
		if err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		name := "lfw_" + strings.TrimSuffix(filepath.Base(f), ".jpg") + ".png"
		w, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			fail(err)
		}
		if err := png.Encode(w, crop); err != nil {
			fail(err)
		}
		if err := w.Close(); err != nil {
			fail(err)
		}
		fmt.Println(name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencrops:", err)
	os.Exit(1)
}
