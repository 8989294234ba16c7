package client_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/wire"
)

// A client refuses to run without pinning the enclave image it trusts.
func ExampleNew() {
	_, err := client.New("https://facesign.example", client.Options{Now: time.Now, Rand: rand.Reader})
	fmt.Println(errors.Is(err, client.ErrOptions))

	pins := map[int][]byte{0: make([]byte, 48), 1: make([]byte, 48), 2: make([]byte, 48)} // the audited image's PCRs
	c, err := client.New("https://facesign.example", client.Options{PCRs: pins, Now: time.Now, Rand: rand.Reader})
	fmt.Println(c != nil, err)
	// Output:
	// true
	// true <nil>
}

// Refusals carry a stable code that errors.Is matches.
func ExampleRejectedError() {
	var err error = &client.RejectedError{Code: wire.CodeLivenessFailed, Message: "landmarks move like a flat picture", Sealed: true}
	fmt.Println(errors.Is(err, client.ErrLivenessFailed), errors.Is(err, client.ErrNoFace))
	var rej *client.RejectedError
	if errors.As(err, &rej) {
		fmt.Println(rej.Code, rej.Sealed)
	}
	// Output:
	// true false
	// liveness_failed true
}
