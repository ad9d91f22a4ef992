package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

func newStepsCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "steps",
		Short: "List the lab's steps: ids (for run --from/--to) and titles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			for i, s := range steps.All() {
				fmt.Fprintf(tw, "%2d\t%s\t%s\n", i+1, s.ID(), s.Title())
			}
			return tw.Flush()
		},
	}
}
