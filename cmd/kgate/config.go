package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kgate-dev/kgate/policies/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the default configuration or validate a configuration file",
		Long: `kgate reads one configuration file (apiVersion: kgate.dev/v1alpha1, kind: Config)
in kgate check --config, kgate serve --config and audits: per-rule actions (deny,
warn, mutate, audit, off) with overrides by namespace name or label selector,
parameters, exempt namespaces, exemption policy and a dryRun switch. See
docs/configuration.md.`,
	}
	cmd.AddCommand(newConfigDefaultCommand(), newConfigValidateCommand())
	return cmd
}

func newConfigDefaultCommand() *cobra.Command {
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "default",
		Short: "Print the full default configuration, with a comment on every field",
		Long: `Print the configuration that changes nothing: every rule with its default action
and parameters, the global parameters and the exemption policy, each explained in a
comment. Rules of --policies directories are included.`,
		Example: `  kgate config default > kgate.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := ef.build(cmd)
			if err != nil {
				return err
			}
			return config.WriteDefault(cmd.OutOrStdout(), e)
		},
	}
	ef.register(cmd.Flags(), false)
	return cmd
}

func newConfigValidateCommand() *cobra.Command {
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Validate a configuration file against the loaded rules",
		Long: `Validate a configuration file: its structure, rule IDs, actions, namespace
selectors and parameter values against each parameter's JSON schema. Every
problem is printed with FILE:LINE. Exit status 0 when valid, 1 when not, 2 when the
policies themselves cannot be loaded.`,
		Example: `  kgate config validate kgate.yaml
  kgate config validate --policies team-policies/ kgate.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := ef.build(cmd)
			if err != nil {
				return err
			}
			c, err := config.Load(args[0])
			if err == nil {
				_, err = c.Apply(cmd.Context(), e)
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return &exitError{exitDeny}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (%d rules configured, dryRun %v)\n", args[0], len(c.Rules), c.DryRun)
			return nil
		},
	}
	ef.register(cmd.Flags(), false)
	return cmd
}
