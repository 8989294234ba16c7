//go:build !unix

package simstack

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
