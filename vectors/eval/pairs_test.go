package eval

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const smallPairs = "2\t2\n" +
	"Ann\t1\t2\n" +
	"Bob\t1\t3\n" +
	"Ann\t1\tBob\t2\n" +
	"Cy\t4\tAnn\t2\n" +
	"Cy\t1\t2\n" +
	"Di_Eve\t2\t10\n" +
	"Bob\t3\tCy\t1\n" +
	"Di_Eve\t1\tAnn\t1\n"

func TestParsePairs(t *testing.T) {
	p, err := ParsePairs(strings.NewReader(smallPairs))
	if err != nil {
		t.Fatal(err)
	}
	if p.Folds != 2 || p.PerFold != 2 || len(p.Pairs) != 8 {
		t.Fatalf("%+v", p)
	}
	want := []Pair{
		{0, true, ImageRef{"Ann", 1}, ImageRef{"Ann", 2}},
		{0, true, ImageRef{"Bob", 1}, ImageRef{"Bob", 3}},
		{0, false, ImageRef{"Ann", 1}, ImageRef{"Bob", 2}},
		{0, false, ImageRef{"Cy", 4}, ImageRef{"Ann", 2}},
		{1, true, ImageRef{"Cy", 1}, ImageRef{"Cy", 2}},
		{1, true, ImageRef{"Di_Eve", 2}, ImageRef{"Di_Eve", 10}},
		{1, false, ImageRef{"Bob", 3}, ImageRef{"Cy", 1}},
		{1, false, ImageRef{"Di_Eve", 1}, ImageRef{"Ann", 1}},
	}
	if !reflect.DeepEqual(p.Pairs, want) {
		t.Fatalf("pairs\n%+v\nwant\n%+v", p.Pairs, want)
	}
	if got := p.Pairs[5].B.Rel(); got != "Di_Eve/Di_Eve_0010.jpg" {
		t.Fatalf("Rel %q", got)
	}
	if got := string(p.Format()); got != smallPairs {
		t.Fatalf("Format:\n%s", got)
	}
	// Spaces, CRLF and blank lines are accepted.
	loose := strings.ReplaceAll(strings.ReplaceAll(smallPairs, "\t", "  "), "\n", "\r\n\r\n")
	if q, err := ParsePairs(strings.NewReader(loose)); err != nil || !reflect.DeepEqual(q, p) {
		t.Fatalf("loose: %v", err)
	}
}

func TestParsePairsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, msg string
	}{
		{"empty", "", "line 0: empty"},
		{"header fields", "10\n", "header has 1 fields"},
		{"header zero", "0\t3\n", "want two positive counts"},
		{"header text", "ten\t3\n", "want two positive counts"},
		{"genuine fields", "1\t1\nAnn\t1\nAnn\t1\tBob\t1\n", "genuine pair has 2 fields, want 3"},
		{"impostor fields", "1\t1\nAnn\t1\t2\nAnn\t1\tBob\n", "impostor pair has 3 fields, want 4"},
		{"number", "1\t1\nAnn\t1\tx\nAnn\t1\tBob\t1\n", `image number "x"`},
		{"number zero", "1\t1\nAnn\t0\t1\nAnn\t1\tBob\t1\n", `image number "0"`},
		{"number large", "1\t1\nAnn\t1\t10000\nAnn\t1\tBob\t1\n", `image number "10000"`},
		{"dot dot", "1\t1\n..\t1\t2\nAnn\t1\tBob\t1\n", `person name ".."`},
		{"slash", "1\t1\nAnn\t1\t2\nAnn\t1\tx/y\t1\n", `person name "x/y"`},
		{"itself", "1\t1\nAnn\t1\t1\nAnn\t1\tBob\t1\n", "pair of an image with itself"},
		{"impostor one person", "1\t1\nAnn\t1\t2\nAnn\t1\tAnn\t3\n", "impostor pair of one person"},
		{"short", "2\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\n", "file ends after 2 pairs, header promises 4"},
		{"trailing", "1\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\nBob\t1\t2\n", "after the last fold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePairs(strings.NewReader(tc.in))
			if !errors.Is(err, ErrPairs) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
			if p.Pairs != nil || p.Folds != 0 {
				t.Fatalf("result with an error: %+v", p)
			}
		})
	}
	big := bytes.Repeat([]byte{' '}, MaxPairsFileSize+1)
	if _, err := ParsePairs(bytes.NewReader(big)); !errors.Is(err, ErrPairs) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("large: %v", err)
	}
}

// FuzzParsePairs: no panics, only ErrPairs, and what parses formats back
// to something that parses to the same pairs.
func FuzzParsePairs(f *testing.F) {
	f.Add([]byte(smallPairs))
	f.Add([]byte("1\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\n"))
	f.Add([]byte("10\t300\nAbel_Pacheco\t1\t4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePairs(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrPairs) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(p.Pairs) != 2*p.Folds*p.PerFold {
			t.Fatalf("%d pairs for %d×%d", len(p.Pairs), p.Folds, p.PerFold)
		}
		q, err := ParsePairs(bytes.NewReader(p.Format()))
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
