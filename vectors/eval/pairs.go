package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrPairs reports a pairs file that is not in the LFW pairs.txt format.
var ErrPairs = errors.New("eval: bad pairs file")

// MaxPairsFileSize bounds what [ParsePairs] reads (LFW's pairs.txt is
// 0.15 MB).
const MaxPairsFileSize = 16 << 20

// ImageRef names one image of an LFW-style dataset: person Person's image
// number Num, stored as Person/Person_NNNN.jpg.
type ImageRef struct {
	Person string
	Num    int
}

// Rel is the image's path relative to the dataset folder.
func (r ImageRef) Rel() string {
	return filepath.Join(r.Person, fmt.Sprintf("%s_%04d.jpg", r.Person, r.Num))
}

// Pair is one line of a pairs file: two images and whether they show the
// same person. Fold counts from 0.
type Pair struct {
	Fold int
	Same bool
	A, B ImageRef
}

// Pairs is a parsed pairs file: Folds folds of PerFold genuine pairs
// followed by PerFold impostor pairs each, in file order.
type Pairs struct {
	Folds, PerFold int
	Pairs          []Pair
}

// ParsePairs reads the LFW View 2 pairs format (pairs.txt): a header line
// "folds pairs-per-class", then for every fold that many genuine lines
// "name n1 n2" followed by as many impostor lines "name1 n1 name2 n2",
// fields separated by white space. Everything is checked: the header, the
// field count and kind of every line, image numbers in 1..9999, person
// names that stay inside the dataset folder, and the line count. Errors wrap
// [ErrPairs] and name the line.
func ParsePairs(r io.Reader) (Pairs, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPairsFileSize+1))
	if err != nil {
		return Pairs{}, fmt.Errorf("%w: %v", ErrPairs, err)
	}
	if len(data) > MaxPairsFileSize {
		return Pairs{}, fmt.Errorf("%w: larger than %d bytes", ErrPairs, MaxPairsFileSize)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxPairsFileSize)
	line := 0
	next := func() ([]string, bool) {
		for sc.Scan() {
			line++
			if f := strings.Fields(sc.Text()); len(f) > 0 {
				return f, true
			}
		}
		return nil, false
	}
	bad := func(format string, a ...any) (Pairs, error) {
		return Pairs{}, fmt.Errorf("%w: line %d: %s", ErrPairs, line, fmt.Sprintf(format, a...))
	}
	head, ok := next()
	if !ok {
		return bad("empty")
	}
	if len(head) != 2 {
		return bad("header has %d fields, want 2 (folds, pairs per class)", len(head))
	}
	folds, err1 := strconv.Atoi(head[0])
	per, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil || folds < 1 || per < 1 || folds > 1000 || per > 1_000_000 || folds*per > 1_000_000 {
		return bad("header %q %q: want two positive counts", head[0], head[1])
	}
	p := Pairs{Folds: folds, PerFold: per, Pairs: make([]Pair, 0, 2*folds*per)}
	for fold := range folds {
		for k := range 2 * per {
			f, ok := next()
			if !ok {
				return bad("file ends after %d pairs, header promises %d", len(p.Pairs), 2*folds*per)
			}
			pr := Pair{Fold: fold, Same: k < per}
			want := 4
			if pr.Same {
				want = 3
			}
			if len(f) != want {
				kind := "impostor"
				if pr.Same {
					kind = "genuine"
				}
				return bad("%s pair has %d fields, want %d", kind, len(f), want)
			}
			if pr.Same {
				f = []string{f[0], f[1], f[0], f[2]}
			}
			for i, ref := range []*ImageRef{&pr.A, &pr.B} {
				name, num := f[2*i], f[2*i+1]
				if !validName(name) {
					return bad("person name %q", name)
				}
				n, err := strconv.Atoi(num)
				if err != nil || n < 1 || n > 9999 {
					return bad("image number %q: want 1..9999", num)
				}
				*ref = ImageRef{Person: name, Num: n}
			}
			if pr.A == pr.B {
				return bad("pair of an image with itself")
			}
			if !pr.Same && pr.A.Person == pr.B.Person {
				return bad("impostor pair of one person")
			}
			p.Pairs = append(p.Pairs, pr)
		}
	}
	if f, ok := next(); ok {
		return bad("unexpected %q after the last fold", strings.Join(f, " "))
	}
	if err := sc.Err(); err != nil {
		return Pairs{}, fmt.Errorf("%w: %v", ErrPairs, err)
	}
	return p, nil
}

// validName accepts a person folder name that cannot leave the dataset
// folder: no separators, not "." or "..", printable.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// Format writes p in the pairs.txt format [ParsePairs] reads (tab
// separated, LFW's layout); parsing the result gives p back.
func (p Pairs) Format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\t%d\n", p.Folds, p.PerFold)
	for _, q := range p.Pairs {
		if q.Same {
			fmt.Fprintf(&b, "%s\t%d\t%d\n", q.A.Person, q.A.Num, q.B.Num)
		} else {
			fmt.Fprintf(&b, "%s\t%d\t%s\t%d\n", q.A.Person, q.A.Num, q.B.Person, q.B.Num)
		}
	}
	return b.Bytes()
}
