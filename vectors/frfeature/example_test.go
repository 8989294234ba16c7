package frfeature_test

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"

	"github.com/facesign/facesign/vectors/frfeature"
)

func ExampleNet_Embed() {
	net, err := frfeature.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	// An aligned 112×112 crop (made by testdata/gencrops with the detector
	// and align.Crop).
	f, err := os.Open("testdata/crops/lfw_Cesar_Gaviria_0001.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	crop := image.NewRGBA(img.Bounds())
	draw.Draw(crop, crop.Bounds(), img, img.Bounds().Min, draw.Src)

	v, err := net.Embed(crop)
	if err != nil {
		fmt.Println(err)
		return
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	fmt.Printf("%d values, norm %.4f\n", len(v), math.Sqrt(norm))
	// Output: 512 values, norm 1.0000
}
