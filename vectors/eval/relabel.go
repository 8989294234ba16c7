package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ErrRelabel reports a label-corrections file that cannot be used.
var ErrRelabel = errors.New("eval: bad label corrections")

// MaxRelabelFileSize bounds what [ParseRelabel] reads.
const MaxRelabelFileSize = 1 << 20

// Relabel holds corrections to a dataset's labels (the LFW errata,
// vectors/eval/lfw/errata.txt): images filed under the wrong person and
// people filed under two names.
type Relabel struct {
	// Images maps an image, as "person folder/file name", to the identity
	// it really shows.
	Images map[string]string
	// Same lists people filed under two names: Same[i][0]'s images belong
	// to Same[i][1].
	Same [][2]string
}

// ParseRelabel reads corrections, one per line ("#" starts a comment):
//
//	image <person folder>/<file name> <identity>
//	same <person> <person>
//
// Names follow the rules of person folders (no separators, not "." or
// ".."); an image or a person may be corrected once; a person merged into
// another may not itself be merged into. Errors wrap [ErrRelabel] and name
// the line.
func ParseRelabel(r io.Reader) (Relabel, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRelabelFileSize+1))
	if err != nil {
		return Relabel{}, fmt.Errorf("%w: %v", ErrRelabel, err)
	}
	if len(data) > MaxRelabelFileSize {
		return Relabel{}, fmt.Errorf("%w: larger than %d bytes", ErrRelabel, MaxRelabelFileSize)
	}
	rl := Relabel{Images: map[string]string{}}
	merged := map[string]bool{}
	targets := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxRelabelFileSize)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(format string, a ...any) (Relabel, error) {
			return Relabel{}, fmt.Errorf("%w: line %d: %s", ErrRelabel, n, fmt.Sprintf(format, a...))
		}
		if len(f) != 3 {
			return bad("%d fields, want 3 (image FOLDER/FILE IDENTITY, or same PERSON PERSON)", len(f))
		}
		switch f[0] {
		case "image":
			dir, file := path.Split(f[1])
			dir = strings.TrimSuffix(dir, "/")
			if !validName(dir) || !validName(file) || strings.Contains(dir, "/") {
				return bad("image %q: want PERSON/FILE", f[1])
			}
			if !validName(f[2]) {
				return bad("identity %q", f[2])
			}
			if _, dup := rl.Images[f[1]]; dup {
				return bad("image %s corrected twice", f[1])
			}
			rl.Images[f[1]] = f[2]
		case "same":
			a, b := f[1], f[2]
			if !validName(a) || !validName(b) || a == b {
				return bad("same %q %q: want two different person names", a, b)
			}
			if merged[a] || targets[a] || merged[b] {
				return bad("%s or %s is already merged", a, b)
			}
			merged[a], targets[b] = true, true
			rl.Same = append(rl.Same, [2]string{a, b})
		default:
			return bad("unknown correction %q (want image or same)", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return Relabel{}, fmt.Errorf("%w: %v", ErrRelabel, err)
	}
	return rl, nil
}

// RelabelStats says what [Relabel.Apply] did.
type RelabelStats struct {
	// Moved images and Merged people; Missing corrections name images or
	// people the dataset does not have (a subset of LFW lacks most).
	Moved, Merged, Missing int
}

// Apply returns people (as [LoadDataset] gives them, from folder dir) with
// the corrections made: a corrected image moves to its identity (a new
// person when the dataset has no folder of that name), a merged person's
// images join the other. People stay sorted by name and each person's
// files by path; people left without images are dropped. people is not
// modified.
func (rl Relabel) Apply(people []Person, dir string) ([]Person, RelabelStats) {
	var st RelabelStats
	owner := map[string]string{} // file path → identity
	have := map[string]bool{}
	for _, p := range people {
		have[p.Name] = true
		for _, f := range p.Files {
			owner[f] = p.Name
		}
	}
	for _, s := range rl.Same {
		if !have[s[0]] {
			st.Missing++
			continue
		}
		st.Merged++
		for f, who := range owner {
			if who == s[0] {
				owner[f] = s[1]
			}
		}
	}
	for img, who := range rl.Images {
		f := filepath.Join(dir, filepath.FromSlash(img))
		if _, ok := owner[f]; !ok {
			st.Missing++
			continue
		}
		owner[f] = who
		st.Moved++
	}
	byName := map[string]*Person{}
	for f, who := range owner {
		p := byName[who]
		if p == nil {
			p = &Person{Name: who}
			byName[who] = p
		}
		p.Files = append(p.Files, f)
	}
	out := make([]Person, 0, len(byName))
	for _, p := range byName {
		slices.Sort(p.Files)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.Name, b.Name) })
	return out, st
}
