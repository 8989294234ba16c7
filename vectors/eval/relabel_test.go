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

func TestParseRelabel(t *testing.T) {
	rl, err := ParseRelabel(strings.NewReader("# corrections\nimage ann/ann_0002.jpg bob  # a comment\n\nsame cy dee\nimage cy/cy_0001.jpg errata:someone\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Relabel{Images: map[string]string{"ann/ann_0002.jpg": "bob", "cy/cy_0001.jpg": "errata:someone"}, Same: [][2]string{{"cy", "dee"}}}
	if !reflect.DeepEqual(rl, want) {
		t.Fatalf("%+v", rl)
	}
	for _, tc := range []struct{ name, in, msg string }{
		{"fields", "image ann/1.jpg\n", "line 1: 2 fields"},
		{"kind", "move ann/1.jpg bob\n", `unknown correction "move"`},
		{"no folder", "image 1.jpg bob\n", `image "1.jpg"`},
		{"deep path", "image a/b/1.jpg bob\n", `image "a/b/1.jpg"`},
		{"dot dot", "image ../1.jpg bob\n", `image "../1.jpg"`},
		{"identity", "image ann/1.jpg ..\n", `identity ".."`},
		{"twice", "image ann/1.jpg bob\nimage ann/1.jpg cy\n", "line 2: image ann/1.jpg corrected twice"},
		{"same self", "same ann ann\n", "two different person names"},
		{"chain", "same ann bob\nsame bob cy\n", "line 2: bob or cy is already merged"},
		{"twice merged", "same ann bob\nsame ann cy\n", "already merged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rl, err := ParseRelabel(strings.NewReader(tc.in))
			if !errors.Is(err, ErrRelabel) || !strings.Contains(err.Error(), tc.msg) || rl.Images != nil {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := ParseRelabel(bytes.NewReader(bytes.Repeat([]byte{'#'}, MaxRelabelFileSize+1))); !errors.Is(err, ErrRelabel) {
		t.Fatalf("large: %v", err)
	}
}

// TestLFWErrata: the committed errata parse, and name what the LFW page
// lists (21 images, 3 people under two names).
func TestLFWErrata(t *testing.T) {
	data, err := os.ReadFile("lfw/errata.txt")
	if err != nil {
		t.Fatal(err)
	}
	rl, err := ParseRelabel(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Images) != 21 || len(rl.Same) != 3 || rl.Images["Carlos_Beltran/Carlos_Beltran_0001.jpg"] != "Raul_Ibanez" {
		t.Fatalf("%d images, %d merges", len(rl.Images), len(rl.Same))
	}
}

func TestRelabelApply(t *testing.T) {
	dir := "ds"
	f := func(p, n string) string { return filepath.Join(dir, p, n) }
	people := []Person{
		{Name: "ann", Files: []string{f("ann", "1.jpg"), f("ann", "2.jpg")}},
		{Name: "bob", Files: []string{f("bob", "1.jpg")}},
		{Name: "cy", Files: []string{f("cy", "1.jpg")}},
		{Name: "dee", Files: []string{f("dee", "1.jpg")}},
	}
	orig := make([]Person, len(people))
	for i, p := range people {
		orig[i] = Person{Name: p.Name, Files: append([]string(nil), p.Files...)}
	}
	same, st := Relabel{}.Apply(people, dir)
	if !reflect.DeepEqual(same, people) || st != (RelabelStats{}) {
		t.Fatalf("no corrections changed %+v", same)
	}
	rl := Relabel{
		Images: map[string]string{"ann/2.jpg": "bob", "bob/1.jpg": "errata:zed", "nobody/1.jpg": "ann"},
		Same:   [][2]string{{"cy", "dee"}, {"xavier", "ann"}},
	}
	got, st := rl.Apply(people, dir)
	want := []Person{
		{Name: "ann", Files: []string{f("ann", "1.jpg")}},
		{Name: "bob", Files: []string{f("ann", "2.jpg")}},
		{Name: "dee", Files: []string{f("cy", "1.jpg"), f("dee", "1.jpg")}},
		{Name: "errata:zed", Files: []string{f("bob", "1.jpg")}},
	}
	if !reflect.DeepEqual(got, want) || st != (RelabelStats{Moved: 2, Merged: 1, Missing: 2}) {
		t.Fatalf("got %+v %+v", got, st)
	}
	if !reflect.DeepEqual(people, orig) {
		t.Fatal("input modified")
	}
}

// FuzzParseRelabel: no panics, only ErrRelabel, and what parses has names
// that stay inside the dataset folder.
func FuzzParseRelabel(f *testing.F) {
	f.Add([]byte("image ann/1.jpg bob\nsame cy dee\n"))
	if data, err := os.ReadFile("lfw/errata.txt"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rl, err := ParseRelabel(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrRelabel) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for img, who := range rl.Images {
			if strings.Contains(img, "..") && !validName(strings.Split(img, "/")[0]) || !validName(who) || strings.Count(img, "/") != 1 {
				t.Fatalf("accepted %q -> %q", img, who)
			}
		}
		for _, s := range rl.Same {
			if !validName(s[0]) || !validName(s[1]) || s[0] == s[1] {
				t.Fatalf("accepted same %q", s)
			}
		}
	})
}
