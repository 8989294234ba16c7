package parent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/parent"
)

func TestParseStoreSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want parent.StoreSpec
		ok   bool
	}{
		{"dir:/var/lib/facesign", parent.StoreSpec{Kind: "dir", Dir: "/var/lib/facesign"}, true},
		{"dir:data/", parent.StoreSpec{Kind: "dir", Dir: "data"}, true},
		{"s3://facesign-prod", parent.StoreSpec{Kind: "s3", Bucket: "facesign-prod"}, true},
		{"s3://facesign-prod/", parent.StoreSpec{Kind: "s3", Bucket: "facesign-prod"}, true},
		{"s3://facesign-prod/eu/gallery/", parent.StoreSpec{Kind: "s3", Bucket: "facesign-prod", Prefix: "eu/gallery/"}, true},
		{"dir:", parent.StoreSpec{}, false},
		{"/var/lib/facesign", parent.StoreSpec{}, false},
		{"s3://", parent.StoreSpec{}, false},
		{"s3://Upper/x", parent.StoreSpec{}, false},
		{"s3://a..b/x", parent.StoreSpec{}, false},
		{"s3://bucket/a//b", parent.StoreSpec{}, false},
		{"s3://bucket/../b", parent.StoreSpec{}, false},
		{"file:///x", parent.StoreSpec{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parent.ParseStoreSpec(tc.in)
			if !tc.ok {
				if !errors.Is(err, parent.ErrConfig) {
					t.Fatalf("ParseStoreSpec(%q) = %+v, %v; want ErrConfig", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseStoreSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseStoreSpec(f *testing.F) {
	for _, s := range []string{"dir:/x", "s3://bucket/prefix/", "s3://b.c-d/e/f", "dir:", "s3://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parent.ParseStoreSpec(s)
		if err != nil {
			return
		}
		again, err := parent.ParseStoreSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, spec, spec.String(), again, err)
		}
	})
}

func TestOpenStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, snaps, err := parent.OpenStores(ctx, parent.StoreSpec{Kind: "dir", Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, 0, []byte("record")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := snaps.LatestSnapshot(ctx); !errors.Is(err, parent.ErrNoSnapshot) {
		t.Fatalf("fresh snapshots: %v", err)
	}
	for _, sub := range []string{"log", "snapshots"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	// S3: the same objects behind one store, conditional writes verified.
	c := fakeS3(t, nil)
	st3, snaps3, err := parent.OpenStores(ctx, parent.StoreSpec{Kind: "s3", Bucket: "facesign", Prefix: "prod/"}, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := st3.Put(ctx, 0, []byte("record")); err != nil {
		t.Fatal(err)
	}
	if st3 != snaps3.(parent.Store) {
		t.Fatal("the S3 store should keep both")
	}
	if _, _, err := parent.OpenStores(ctx, parent.StoreSpec{Kind: "s3", Bucket: "missing-bucket"}, c); err == nil {
		t.Fatal("opened a missing bucket")
	}
	if _, _, err := parent.OpenStores(ctx, parent.StoreSpec{Kind: "tape"}, nil); !errors.Is(err, parent.ErrConfig) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func ExampleParseStoreSpec() {
	for _, s := range []string{"dir:/var/lib/facesign", "s3://facesign-prod/eu", "/var/lib/facesign"} {
		spec, err := parent.ParseStoreSpec(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s bucket=%q prefix=%q dir=%q\n", spec.Kind, spec.Bucket, spec.Prefix, spec.Dir)
	}
	// Output:
	// dir bucket="" prefix="" dir="/var/lib/facesign"
	// s3 bucket="facesign-prod" prefix="eu/" dir=""
	// parent: invalid config: store "/var/lib/facesign": want dir:PATH or s3://BUCKET/PREFIX
}
