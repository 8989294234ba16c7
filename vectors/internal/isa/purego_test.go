//go:build purego

package isa

const purego = true
