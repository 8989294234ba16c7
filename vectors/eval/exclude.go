package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrExclude reports an exclusion list that cannot be used.
var ErrExclude = errors.New("eval: bad exclusion list")

// MaxExcludeFileSize bounds what [ParseExclude] reads.
const MaxExcludeFileSize = 1 << 20

// Exclude lists images and whole person folders to leave out of a dataset
// (docs/engine-lfw-errata.txt: the LFW maintainers' errata).
type Exclude struct {
	// Images holds "person folder/file name" entries, People folder names.
	Images, People map[string]bool
}

// ParseExclude reads an exclusion list: one entry per line, "PERSON/FILE"
// for an image or "PERSON/" for a whole folder; blank lines and lines
// starting with "#" are skipped. Names follow the rules of person folders
// (no further separators, not "." or ".."), and an entry may appear once.
// Errors wrap [ErrExclude] and name the line.
func ParseExclude(r io.Reader) (Exclude, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxExcludeFileSize+1))
	if err != nil {
		return Exclude{}, fmt.Errorf("%w: %v", ErrExclude, err)
	}
	if len(data) > MaxExcludeFileSize {
		return Exclude{}, fmt.Errorf("%w: larger than %d bytes", ErrExclude, MaxExcludeFileSize)
	}
	ex := Exclude{Images: map[string]bool{}, People: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxExcludeFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		person, file, ok := strings.Cut(line, "/")
		switch {
		case !ok || !validName(person) || file != "" && !validName(file):
			return Exclude{}, fmt.Errorf("%w: line %d: %q: want PERSON/FILE or PERSON/", ErrExclude, n, line)
		case file == "" && ex.People[person] || file != "" && ex.Images[line]:
			return Exclude{}, fmt.Errorf("%w: line %d: %s listed twice", ErrExclude, n, line)
		case file == "":
			ex.People[person] = true
		default:
			ex.Images[line] = true
		}
	}
	if err := sc.Err(); err != nil {
		return Exclude{}, fmt.Errorf("%w: %v", ErrExclude, err)
	}
	return ex, nil
}

// ExcludeStats says what [Exclude.Apply] left out.
type ExcludeStats struct {
	// Images and People left out (people whose every image was left out
	// count as people); Missing entries name nothing in the dataset (a
	// subset of LFW lacks most).
	Images, People, Missing int
}

// Apply returns people (as [LoadDataset] gives them, from folder dir)
// without the listed images and folders; people left without images are
// dropped. people is not modified.
func (ex Exclude) Apply(people []Person, dir string) ([]Person, ExcludeStats) {
	var st ExcludeStats
	seen := map[string]bool{}
	var out []Person
	for _, p := range people {
		if ex.People[p.Name] {
			seen[p.Name+"/"] = true
			st.People++
			st.Images += len(p.Files)
			continue
		}
		q := Person{Name: p.Name}
		for _, f := range p.Files {
			key := p.Name + "/" + filepath.Base(f)
			if rel, err := filepath.Rel(dir, f); err == nil {
				key = filepath.ToSlash(rel)
			}
			if ex.Images[key] {
				seen[key] = true
				st.Images++
				continue
			}
			q.Files = append(q.Files, f)
		}
		if len(q.Files) == 0 {
			st.People++
			continue
		}
		out = append(out, q)
	}
	st.Missing = len(ex.Images) + len(ex.People) - len(seen)
	return out, st
}
