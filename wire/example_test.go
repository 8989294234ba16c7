package wire_test

import (
	"bytes"
	"fmt"

	"github.com/facesign/facesign/wire"
)

// The client seals a request to the key configuration of an attested
// binding; the enclave opens it and seals the answer; only the client reads it.
func Example() {
	// Enclave: a key pair from 64 bytes of its security module's randomness.
	priv, err := wire.NewKeyPair(bytes.Repeat([]byte{1}, 64))
	if err != nil {
		panic(err)
	}
	gw, err := wire.NewGateway(1, priv, wire.FaceSignSuite)
	if err != nil {
		panic(err)
	}

	// Client: seal a challenge request for its route.
	body, _ := wire.MarshalPadded(wire.ChallengeRequest{}, 64)
	req, opener, err := wire.SealRequest(gw.KeyConfig(), wire.RouteChallenge, body)
	if err != nil {
		panic(err)
	}

	// Enclave: open, answer, seal.
	pt, sealer, err := gw.OpenRequest(wire.RouteChallenge, req)
	if err != nil {
		panic(err)
	}
	var cr wire.ChallengeRequest
	if err := wire.UnmarshalPadded(pt, &cr); err != nil {
		panic(err)
	}
	answer, _ := wire.ChallengeResponse{ID: make([]byte, 16), Nonce: make([]byte, 32), Actions: []string{wire.ActionTurnLeft}, ExpiresAtMS: 1}.MarshalPadded()
	res, err := sealer.Seal(bytes.NewReader(make([]byte, 32)), answer)
	if err != nil {
		panic(err)
	}

	// Client: open.
	plain, err := opener.Open(res)
	if err != nil {
		panic(err)
	}
	var ch wire.ChallengeResponse
	if err := wire.UnmarshalPadded(plain, &ch); err != nil {
		panic(err)
	}
	fmt.Println(len(req) > 1120, len(plain), ch.Actions)
	// Output: true 256 [turn_left]
}
