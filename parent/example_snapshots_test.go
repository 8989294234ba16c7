package parent_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/facesign/facesign/parent"
)

// The snapshot store hands back the snapshot with the highest seq, whole.
func ExampleDirSnapshots() {
	dir, _ := os.MkdirTemp("", "snapshots")
	defer os.RemoveAll(dir)
	s, err := parent.OpenDirSnapshots(dir, parent.SnapshotOptions{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for seq, body := range map[uint64]string{10: "sealed state at 10", 25: "sealed state at 25"} {
		if err := s.PutSnapshot(ctx, seq, strings.NewReader(body)); err != nil {
			panic(err)
		}
	}
	seq, r, err := s.LatestSnapshot(ctx)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	fmt.Println(seq, r.Size(), string(b))
	// Output: 25 18 sealed state at 25
}
