package detect_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/detect"
	"github.com/facesign/facesign/vectors/imageio"
)

func ExampleDetector_One() {
	d, err := detect.New(detect.Options{})
	if err != nil {
		panic(err)
	}
	data, _ := os.ReadFile("testdata/images/three-people-0001.jpg")
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		panic(err)
	}
	_, err = d.One(img) // a selfie frame must hold exactly one face
	fmt.Println(errors.Is(err, vectors.ErrSeveralFaces))
	// Output: true
}
