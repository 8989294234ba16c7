package eval

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
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

// LoadDataset lists dir as one sub-folder per person holding JPEG/PNG files
// (symbolic links to folders and files are followed, so a subset can be
// made of links).
// People and files are sorted by name so runs are reproducible.
func LoadDataset(dir string) ([]Person, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDataset, err)
	}
	var people []Person
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !isKind(dir, e, fs.ModeDir) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDataset, err)
		}
		p := Person{Name: e.Name()}
		for _, f := range files {
			if imageExt[strings.ToLower(filepath.Ext(f.Name()))] && isKind(filepath.Join(dir, e.Name()), f, 0) {
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

// isKind reports whether entry e of folder dir is a directory (kind
// fs.ModeDir) or a regular file (kind 0), following a symbolic link.
func isKind(dir string, e fs.DirEntry, kind fs.FileMode) bool {
	t := e.Type()
	if t&fs.ModeSymlink != 0 {
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return false
		}
		t = info.Mode().Type()
	}
	return t == kind
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

// Part selects people of a dataset by an identity-disjoint split into a
// calibration half and a report half.
type Part int

// The parts. [PartAll] is every person (calibration and report on the same
// data: optimistic, and labelled so).
const (
	PartAll Part = iota
	PartCalibrate
	PartReport
)

func (p Part) String() string {
	switch p {
	case PartAll:
		return "all"
	case PartCalibrate:
		return "calibrate"
	case PartReport:
		return "report"
	}
	return fmt.Sprintf("Part(%d)", int(p))
}

// ErrPart reports an unknown part name.
var ErrPart = errors.New("eval: unknown split part")

// ParsePart maps "all", "calibrate" and "report" to a Part.
func ParsePart(s string) (Part, error) {
	for _, p := range []Part{PartAll, PartCalibrate, PartReport} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want all, calibrate or report)", ErrPart, s)
}

// splitSalt domain-separates the split hash.
const splitSalt = "facesign eval split v1\x00"

// PartOf returns the half a person belongs to: [PartCalibrate] when the
// first byte of SHA-256(salt ‖ folder name) is even, [PartReport] when odd.
// It depends on the name alone, so the split is the same on every machine,
// for every engine, and for any subset of a dataset.
func PartOf(name string) Part {
	h := sha256.Sum256([]byte(splitSalt + name))
	if h[0]&1 == 0 {
		return PartCalibrate
	}
	return PartReport
}

// Select returns the people of part p, in their order ([PartAll]: all).
func Select(people []Person, p Part) []Person {
	if p == PartAll {
		return people
	}
	var out []Person
	for _, q := range people {
		if PartOf(q.Name) == p {
			out = append(out, q)
		}
	}
	return out
}
