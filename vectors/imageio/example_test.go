package imageio_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/facesign/facesign/vectors/imageio"
)

func ExampleDecode() {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 640, 480)))

	img, info, err := imageio.Decode(buf.Bytes(), imageio.DefaultLimits)
	fmt.Println(img.Rect.Dx(), img.Rect.Dy(), info.Format, err)

	_, _, err = imageio.Decode(buf.Bytes(), imageio.Limits{MaxPixels: 100_000})
	fmt.Println(errors.Is(err, imageio.ErrTooManyPixels))
	// Output:
	// 640 480 png <nil>
	// true
}
