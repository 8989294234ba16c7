//go:build js && wasm

// Command facesign-wasm is the FaceSign client SDK for browsers: built with
// GOOS=js GOARCH=wasm, loaded with Go's wasm_exec.js, it defines
// globalThis.facesign (package client/js) and then waits for calls.
//
//	make wasm   # bin/facesign.wasm and bin/wasm_exec.js
package main

import "github.com/facesign/facesign/client/js"

func main() {
	js.Register()
	select {}
}
