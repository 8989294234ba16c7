// Command facesign-enclave is the production enclave binary. It runs only on
// Nitro: attestation comes from /dev/nsm and the parent is reached over vsock.
// Simulator code is never linked into it (see the dependency test).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "error: facesign-enclave: the enclave service is not built yet")
	os.Exit(1)
}
