package simulator_test

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/simulator"
)

func ExampleNSM() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca, err := simulator.NewCA(rand.Reader, now)
	if err != nil {
		panic(err)
	}
	pcr0 := make([]byte, 48)
	pcr0[0] = 1 // the enclave image's measurement, e.g. from simulator.PCRsFromEIF
	nsm, err := simulator.NewNSM(simulator.NSMOptions{
		CA:    ca,
		PCRs:  map[int][]byte{0: pcr0},
		Clock: func() time.Time { return now },
		Rand:  rand.Reader,
	})
	if err != nil {
		panic(err)
	}
	doc, err := nsm.Attest(attest.Request{Nonce: []byte("verifier's nonce")})
	if err != nil {
		panic(err)
	}

	// Verifiers that trust only AWS reject it ...
	_, err = attest.Verify(doc, attest.VerifyOptions{CurrentTime: now})
	fmt.Println(errors.Is(err, attest.ErrUntrustedRoot))

	// ... and accept it only when they opt in to the simulator's root.
	d, err := attest.Verify(doc, attest.VerifyOptions{
		Roots:       []*x509.Certificate{ca.Root()},
		CurrentTime: now,
		Nonce:       []byte("verifier's nonce"),
		PCRs:        map[int][]byte{0: pcr0},
	})
	fmt.Println(err, len(d.PCRs), d.Timestamp.Equal(now))
	// Output:
	// true
	// <nil> 16 true
}
