package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/facesign/facesign/enclave/stateboot"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "enclave-env",
			Short: "Check the enclave image's sealed-state settings (FACESIGN_* in this environment) and print them for the image's env file",
			Long: `enclave-env reads the FACESIGN_* variables of its own environment exactly as the production
enclave binary reads them at boot (package stateboot: FACESIGN_REGION, FACESIGN_KMS_KEY_ARN,
FACESIGN_COUNTER_TABLE, and the optional FACESIGN_COUNTER_NAME, FACESIGN_COUNTER_CREDENTIALS,
FACESIGN_SNAPSHOT_EVERY, FACESIGN_KMS_ENDPOINT, FACESIGN_DYNAMODB_ENDPOINT, FACESIGN_ENGINE,
FACESIGN_NEXT_ENGINE: docs/fleet.md), checks them, and
prints one KEY=VALUE line per setting that differs from its default. scripts/eif.sh bakes these
lines into the application ramdisk's env file, so they are measured (PCR2) and a bad setting
fails the build instead of the boot. Exit status 2 names the bad variable.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				cfg, err := stateboot.FromEnv(os.Environ())
				if err != nil {
					return &exitError{2, err}
				}
				for _, l := range cfg.Env() {
					fmt.Fprintln(cmd.OutOrStdout(), l)
				}
				return nil
			},
		}
	})
}
