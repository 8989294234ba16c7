//go:build unix && !linux

package simstack

import "syscall"

// sysProcAttr puts the enclave in its own process group so a terminal's
// Ctrl-C reaches it only through the parent, which forwards it in order.
// These systems have no parent-death signal: if the parent is killed, the
// enclave child must be stopped by hand.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
