package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rpe-observatoire/observatoire/ingest"
	"github.com/rpe-observatoire/observatoire/transform"
)

func newDocsCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Write the data dictionary (French, HTML and Markdown) and the source contracts reference",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := transform.WriteDocs(out); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(out, "contracts.md"))
			if err != nil {
				return err
			}
			defer f.Close()
			if err := ingest.WriteContractDocs(f); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "docs written to %s\n", out)
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&out, "out", "docs/generated", "output folder")
	return cmd
}
