//go:build linux

package simstack

import "syscall"

// sysProcAttr puts the enclave in its own process group so a terminal's
// Ctrl-C reaches it only through the parent, which forwards it in order,
// and has the kernel SIGKILL it when the parent dies (Pdeathsig), so a
// killed or crashed parent never leaves an enclave holding the state.
//
// Pdeathsig fires when the OS thread that started the child exits. Go
// threads outlive the process unless a goroutine exits while locked to its
// thread (runtime.LockOSThread): do not call [Start] from such a goroutine.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
