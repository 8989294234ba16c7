//go:build !unix

package enclave

// usage is not measured here.
type usage struct {
	user, sys float64
	faults    int64
}

func rusage() usage { return usage{} }
