// Command facesign is the FaceSign command line: attestation, engines, search
// benchmarks, enclave images, the simulator and the client. It only parses
// flags and prints; the logic lives in the packages it calls.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// commands is filled by the init functions of this package's files, one per
// command group, so that groups can be added without touching this file.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

// subcommands holds commands registered under a top-level command, by its
// name, so that a file can add one without touching the parent's file.
var subcommands = map[string][]func() *cobra.Command{}

func registerSub(parent string, c func() *cobra.Command) {
	subcommands[parent] = append(subcommands[parent], c)
}

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "facesign",
		Short:         "FaceSign: a biometric wallet nobody can lose",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		top := c()
		for _, sub := range subcommands[top.Name()] {
			top.AddCommand(sub())
		}
		cmd.AddCommand(top)
	}
	return cmd
}

func main() {
	if err := root().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
