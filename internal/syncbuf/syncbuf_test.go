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

func TestLimitAndTail(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		writes []string
		want   string // what the buffer keeps
	}{
		{"no limit", 0, []string{"abc", "def"}, "abcdef"},
		{"under the limit", 10, []string{"abc", "def"}, "abcdef"},
		{"at the limit", 6, []string{"abc", "def"}, "abcdef"},
		{"over the limit", 4, []string{"abc", "def"}, "cdef"},
		{"one write longer than the limit", 3, []string{"abcdefgh"}, "fgh"},
		{"many writes", 5, []string{"a", "b", "c", "d", "e", "f", "g"}, "cdefg"},
		{"empty writes", 2, []string{"", "abc", ""}, "bc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := Buffer{Limit: tc.limit}
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := b.String(); got != tc.want {
				t.Fatalf("kept %q, want %q", got, tc.want)
			}
			if b.Len() != len(tc.want) || string(b.Bytes()) != tc.want {
				t.Fatalf("Len %d, Bytes %q", b.Len(), b.Bytes())
			}
			for n := -1; n <= len(tc.want)+1; n++ {
				want := tc.want[len(tc.want)-min(max(n, 0), len(tc.want)):]
				if got := b.Tail(n); got != want {
					t.Fatalf("Tail(%d) = %q, want %q", n, got, want)
				}
			}
		})
	}
}

func ExampleBuffer_Tail() {
	logs := Buffer{Limit: 8}
	fmt.Fprint(&logs, "booting… ")
	fmt.Fprint(&logs, "ready")
	fmt.Println(logs.Tail(5))
	fmt.Println(logs.Len())
	// Output:
	// ready
	// 8
}
