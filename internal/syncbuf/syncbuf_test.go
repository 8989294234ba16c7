package syncbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrent writes from many goroutines while others read; run with
// -race. Every line must land whole, once.
func TestConcurrent(t *testing.T) {
	var b Buffer
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(&b, "writer %d line %03d\n", w, i)
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := b.Bytes()
			if len(got) > 0 && !bytes.HasSuffix(got, []byte("\n")) {
				t.Error("a read saw half a write")
				return
			}
			_ = b.Len()
			_ = b.String()
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		seen[l]++
	}
	if len(seen) != writers*lines {
		t.Fatalf("%d distinct lines, want %d", len(seen), writers*lines)
	}
	for l, n := range seen {
		if n != 1 {
			t.Fatalf("%q written %d times", l, n)
		}
	}
	if b.Len() != len(b.String()) {
		t.Fatalf("Len %d, String %d bytes", b.Len(), len(b.String()))
	}
}

func TestBytesIsACopy(t *testing.T) {
	var b Buffer
	b.Write([]byte("abc"))
	got := b.Bytes()
	got[0] = 'x'
	if b.String() != "abc" {
		t.Fatalf("changing Bytes' result changed the buffer: %q", b.String())
	}
}

func ExampleBuffer() {
	var logs Buffer
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { fmt.Fprintln(&logs, "served") })
	}
	wg.Wait()
	fmt.Print(logs.String())
	// Output:
	// served
	// served
	// served
}
