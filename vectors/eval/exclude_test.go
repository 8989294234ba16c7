package eval

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseExclude(t *testing.T) {
	ex, err := ParseExclude(strings.NewReader("# errata\nann/ann_0002.jpg\n\n  bob/  \ncy/cy_0001.jpg\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Exclude{Images: map[string]bool{"ann/ann_0002.jpg": true, "cy/cy_0001.jpg": true}, People: map[string]bool{"bob": true}}
	if !reflect.DeepEqual(ex, want) {
		t.Fatalf("%+v", ex)
	}
	for _, tc := range []struct{ name, in, msg string }{
		{"no folder", "ann_0001.jpg\n", `line 1: "ann_0001.jpg": want PERSON/FILE or PERSON/`},
		{"deep", "a/b/c.jpg\n", `"a/b/c.jpg"`},
		{"dot dot", "../x.jpg\n", `"../x.jpg"`},
		{"dot dot file", "ann/..\n", `"ann/.."`},
		{"twice", "ann/1.jpg\n# x\nann/1.jpg\n", "line 3: ann/1.jpg listed twice"},
		{"folder twice", "ann/\nann/\n", "line 2: ann/ listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := ParseExclude(strings.NewReader(tc.in))
			if !errors.Is(err, ErrExclude) || !strings.Contains(err.Error(), tc.msg) || ex.Images != nil {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := ParseExclude(bytes.NewReader(bytes.Repeat([]byte{'#'}, MaxExcludeFileSize+1))); !errors.Is(err, ErrExclude) {
		t.Fatalf("large: %v", err)
	}
}

// TestLFWErrataList: the project's transcription of the LFW errata
// (docs/engine-lfw-errata.txt) parses.
func TestLFWErrataList(t *testing.T) {
	data, err := os.ReadFile("../../docs/engine-lfw-errata.txt")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseExclude(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !ex.Images["Carlos_Beltran/Carlos_Beltran_0001.jpg"] || !ex.People["Nan_Wang"] {
		t.Fatalf("%d images, %d folders", len(ex.Images), len(ex.People))
	}
}

func TestExcludeApply(t *testing.T) {
	dir := "ds"
	f := func(p, n string) string { return filepath.Join(dir, p, n) }
	people := []Person{
		{Name: "ann", Files: []string{f("ann", "1.jpg"), f("ann", "2.jpg")}},
		{Name: "bob", Files: []string{f("bob", "1.jpg")}},
		{Name: "cy", Files: []string{f("cy", "1.jpg"), f("cy", "2.jpg")}},
		{Name: "dee", Files: []string{f("dee", "1.jpg")}},
	}
	orig := make([]Person, len(people))
	for i, p := range people {
		orig[i] = Person{Name: p.Name, Files: append([]string(nil), p.Files...)}
	}
	none, st := Exclude{}.Apply(people, dir)
	if !reflect.DeepEqual(none, people) || st != (ExcludeStats{}) {
		t.Fatalf("an empty list changed %+v", none)
	}
	ex := Exclude{Images: map[string]bool{"ann/2.jpg": true, "dee/1.jpg": true, "nobody/1.jpg": true}, People: map[string]bool{"cy": true, "zed": true}}
	got, st := ex.Apply(people, dir)
	want := []Person{{Name: "ann", Files: []string{f("ann", "1.jpg")}}, {Name: "bob", Files: []string{f("bob", "1.jpg")}}}
	if !reflect.DeepEqual(got, want) || st != (ExcludeStats{Images: 4, People: 2, Missing: 2}) {
		t.Fatalf("got %+v %+v", got, st)
	}
	if !reflect.DeepEqual(people, orig) {
		t.Fatal("input modified")
	}
}

// FuzzParseExclude: no panics, only ErrExclude, and every accepted entry
// stays inside the dataset folder.
func FuzzParseExclude(f *testing.F) {
	f.Add([]byte("ann/1.jpg\nbob/\n# c\n"))
	if data, err := os.ReadFile("../../docs/engine-lfw-errata.txt"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := ParseExclude(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrExclude) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for img := range ex.Images {
			p, file, ok := strings.Cut(img, "/")
			if !ok || !validName(p) || !validName(file) {
				t.Fatalf("accepted %q", img)
			}
		}
		for p := range ex.People {
			if !validName(p) {
				t.Fatalf("accepted folder %q", p)
			}
		}
	})
}
