package attest_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/facesign/facesign/attest"
)

func ExampleVerify() {
	doc, err := os.ReadFile("testdata/aws_nitro_document.cbor")
	if err != nil {
		panic(err)
	}
	nonce, _ := hex.DecodeString("c678c86135de539d183acff58886d98dfb9823041af9f934bf909ac0f8d96245")
	d, err := attest.Verify(doc, attest.VerifyOptions{
		// A live verifier passes its own clock; this archived document is
		// checked at a time inside its signing certificate's three hours.
		CurrentTime: time.Date(2022, 11, 9, 23, 0, 0, 0, time.UTC),
		Nonce:       nonce, // the nonce this verifier sent
	})
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(d.ModuleID)
	fmt.Println(d.Timestamp.Format(time.RFC3339Nano))
	fmt.Printf("PCR0 %x…\n", d.PCRs[0][:8])

	// The same document a day later: the chain has expired.
	_, err = attest.Verify(doc, attest.VerifyOptions{CurrentTime: time.Date(2022, 11, 10, 23, 0, 0, 0, time.UTC)})
	fmt.Println(errors.Is(err, attest.ErrExpired))
	// Output:
	// i-04fd167167daacf3b-enc01845e97d0b3eb4e
	// 2022-11-09T22:52:00.696Z
	// PCR0 22f9e1c949208da5…
	// true
}

// On a Nitro Enclave the attester is the NSM device; the enclave takes its
// randomness from it too. (Not run: there is no /dev/nsm here.)
func ExampleOpenNitro() {
	nsm, err := attest.OpenNitro()
	if err != nil {
		fmt.Println("no NSM:", err)
		return
	}
	defer nsm.Close()
	var a attest.Attester = nsm
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(a.Random(), nonce); err != nil {
		panic(err)
	}
	doc, err := a.Attest(attest.Request{Nonce: nonce, UserData: []byte("binding hash")})
	fmt.Println(len(doc) > 0, err)
}
