package main

import (
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "engines",
			Short: "List the registered face engines",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				for _, n := range vectors.Engines() {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				return nil
			},
		}
	})
}
