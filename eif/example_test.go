package eif_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/facesign/facesign/eif"
)

// Build an image, read it back and print what nitro-cli describe-eif would
// print as measurements.
func ExampleBuild() {
	app, err := (&eif.AppRamdisk{Binary: []byte("enclave binary"), Env: []string{"PATH=/usr/local/bin"}}).Build()
	if err != nil {
		panic(err)
	}
	boot, err := eif.BootRamdisk([]byte("init"), []byte("nsm.ko"), 0)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	m, err := eif.Build(&buf, &eif.Input{
		Kernel:    []byte("kernel"),
		Cmdline:   "console=ttyS0",
		Ramdisks:  [][]byte{boot, app},
		Name:      "example",
		Version:   "1",
		BuildTime: time.Unix(0, 0),
	})
	if err != nil {
		panic(err)
	}
	im, err := eif.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(im.Measurements() == m, im.CRCValid(), im.IsSigned())
	fmt.Println("PCR2", m.PCR2.String()[:16]+"…")
	// Output:
	// true true false
	// PCR2 38c6955d18dccfce…
}

// Extend is the PCR formula: SHA-384(48 zero bytes ‖ SHA-384(data)).
func ExampleExtend() {
	fmt.Println(eif.Extend(nil))
	// Output:
	// 21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a
}
