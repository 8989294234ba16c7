package eval

import (
	"fmt"
	"image"
	"math"
	"os"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// EmbedFile decodes the image at path under lim and returns every face with
// its vector, best detector score first, and the image bounds.
func EmbedFile(e vectors.Engine, path string, lim imageio.Limits) ([]vectors.Face, []vectors.FaceVector, image.Rectangle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	img, _, err := imageio.Decode(data, lim)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	faces, err := e.Detect(img)
	if err != nil {
		return nil, nil, image.Rectangle{}, err
	}
	vecs := make([]vectors.FaceVector, len(faces))
	for i, f := range faces {
		if vecs[i], err = e.Embed(img, f); err != nil {
			return nil, nil, image.Rectangle{}, err
		}
	}
	return faces, vecs, img.Bounds(), nil
}

// Subject returns the index of the photo's subject: the face whose box
// centre is nearest the image centre (ties: the larger box). Portraits and
// dataset photos (LFW centres its subject) frame the subject there, while
// the largest or best-scoring face may be a bystander cut by the border.
func Subject(faces []vectors.Face, b image.Rectangle) int {
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	best, bestD := 0, math.Inf(1)
	for i, f := range faces {
		dx := float64(f.Box.X+f.Box.W/2) - cx
		dy := float64(f.Box.Y+f.Box.H/2) - cy
		d := dx*dx + dy*dy
		if d < bestD || d == bestD && f.Box.W*f.Box.H > faces[best].Box.W*faces[best].Box.H {
			best, bestD = i, d
		}
	}
	return best
}

// Failure is an image of a dataset that gave no vector.
type Failure struct {
	File string
	Err  error
}

// EmbedDataset embeds the subject (see [Subject]) of every image. vecs[i] holds the
// vectors of people[i]. progress, if not nil, is called after each image.
func EmbedDataset(e vectors.Engine, people []Person, lim imageio.Limits, progress func(done, total int)) (vecs [][]vectors.FaceVector, failures []Failure) {
	total := 0
	for _, p := range people {
		total += len(p.Files)
	}
	done := 0
	vecs = make([][]vectors.FaceVector, len(people))
	for i, p := range people {
		for _, f := range p.Files {
			faces, vs, b, err := EmbedFile(e, f, lim)
			if err != nil {
				failures = append(failures, Failure{File: f, Err: fmt.Errorf("%s: %w", f, err)})
			} else {
				vecs[i] = append(vecs[i], vs[Subject(faces, b)])
			}
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return vecs, failures
}
