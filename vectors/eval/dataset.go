package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/facesign/facesign/vectors"
)

// ErrDataset reports a dataset folder that cannot be used.
var ErrDataset = errors.New("eval: bad dataset")

// Person is one identity of a dataset: its folder name and image files.
type Person struct {
	Name  string
	Files []string
}

// imageExt are the file name extensions LoadDataset picks up.
var imageExt = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// LoadDataset lists dir as one sub-folder per person holding JPEG/PNG files.
// People and files are sorted by name so runs are reproducible.
func LoadDataset(dir string) ([]Person, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDataset, err)
	}
	var people []Person
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDataset, err)
		}
		p := Person{Name: e.Name()}
		for _, f := range files {
			if f.Type().IsRegular() && imageExt[strings.ToLower(filepath.Ext(f.Name()))] {
				p.Files = append(p.Files, filepath.Join(dir, e.Name(), f.Name()))
			}
		}
		if len(p.Files) > 0 {
			sort.Strings(p.Files)
			people = append(people, p)
		}
	}
	sort.Slice(people, func(i, j int) bool { return people[i].Name < people[j].Name })
	if len(people) < 2 {
		return nil, fmt.Errorf("%w: %s has %d person folders with images, need at least 2", ErrDataset, dir, len(people))
	}
	return people, nil
}

// Scores returns the cosine scores of all genuine pairs (two vectors of one
// person) and all impostor pairs (vectors of two people). vecs[i] holds the
// vectors of person i; a person may have none (failed detections).
func Scores(vecs [][]vectors.FaceVector) (genuine, impostor []float64, err error) {
	type item struct {
		person int
		v      vectors.FaceVector
	}
	var all []item
	for p, vs := range vecs {
		for _, v := range vs {
			all = append(all, item{p, v})
		}
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			s, err := vectors.Cosine(all[i].v, all[j].v)
			if err != nil {
				return nil, nil, err
			}
			if all[i].person == all[j].person {
				genuine = append(genuine, float64(s))
			} else {
				impostor = append(impostor, float64(s))
			}
		}
	}
	return genuine, impostor, nil
}
