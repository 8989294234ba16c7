//go:build unix

package simstack

import "syscall"

// sysProcAttr puts the enclave in its own process group so a terminal's
// Ctrl-C reaches it only through the parent, which forwards it in order.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
