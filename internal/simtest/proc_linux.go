package simtest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill the simulator when the test binary
// dies.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
