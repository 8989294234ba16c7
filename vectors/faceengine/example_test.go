package faceengine_test

import (
	"fmt"
	"os"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/vectors/imageio"
)

func Example() {
	e, err := vectors.Open(faceengine.Name) // registered by importing faceengine
	if err != nil {
		panic(err)
	}
	embed := func(path string) vectors.FaceVector {
		data, _ := os.ReadFile(path)
		img, _, err := imageio.Decode(data, imageio.DefaultLimits) // limits first
		if err != nil {
			panic(err)
		}
		faces, err := e.Detect(img)
		if err != nil {
			panic(err)
		}
		v, err := e.Embed(img, faces[0])
		if err != nil {
			panic(err)
		}
		return v
	}
	a := embed("testdata/talking-b-take1-0005.jpg")
	b := embed("testdata/talking-b-take2-0010.jpg") // the same man, another day
	s, _ := vectors.Cosine(a, b)
	fmt.Println(len(a.Values), s >= faceengine.DefaultMatchThreshold)
	// Output: 704 true
}
