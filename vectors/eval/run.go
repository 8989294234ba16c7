package eval

import (
	"fmt"
	"os"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// EmbedFile decodes the image at path under lim and returns every face with
// its vector, best detector score first.
func EmbedFile(e vectors.Engine, path string, lim imageio.Limits) ([]vectors.Face, []vectors.FaceVector, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	img, _, err := imageio.Decode(data, lim)
	if err != nil {
		return nil, nil, err
	}
	faces, err := e.Detect(img)
	if err != nil {
		return nil, nil, err
	}
	vecs := make([]vectors.FaceVector, len(faces))
	for i, f := range faces {
		if vecs[i], err = e.Embed(img, f); err != nil {
			return nil, nil, err
		}
	}
	return faces, vecs, nil
}

// Largest returns the index of the face with the largest box: the subject
// of a portrait or a dataset photo (LFW centres its subject and frames it
// largest), where the best-scoring face may be a bystander.
func Largest(faces []vectors.Face) int {
	best := 0
	for i, f := range faces {
		if f.Box.W*f.Box.H > faces[best].Box.W*faces[best].Box.H {
			best = i
		}
	}
	return best
}

// Failure is an image of a dataset that gave no vector.
type Failure struct {
	File string
	Err  error
}

// EmbedDataset embeds the largest face of every image. vecs[i] holds the
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
			faces, vs, err := EmbedFile(e, f, lim)
			if err != nil {
				failures = append(failures, Failure{File: f, Err: fmt.Errorf("%s: %w", f, err)})
			} else {
				vecs[i] = append(vecs[i], vs[Largest(faces)])
			}
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return vecs, failures
}
