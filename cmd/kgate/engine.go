package main

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/config"
)

// engineFlags are the flags every command that evaluates shares: user policy
// directories, a parameters file and the configuration file.
type engineFlags struct {
	policyDirs []string
	paramsFile string
	configFile string
	// debug keeps print() calls in rules (kgate check --explain).
	debug bool
	// applied is the configuration of the last engine built, for the parts of
	// the file that are not engine settings (generation in kgate serve).
	applied atomic.Pointer[config.Config]
}

func (f *engineFlags) register(fl *pflag.FlagSet, withConfig bool) {
	fl.StringArrayVar(&f.policyDirs, "policies", nil, "add the Rego policies of `DIR` to the built-in ones (repeatable)")
	fl.StringVar(&f.paramsFile, "params", "", "YAML `FILE` of parameter values overriding the defaults (see kgate policies); not with --config, whose params: section does the same")
	if withConfig {
		fl.StringVar(&f.configFile, "config", "", "kgate configuration `FILE` (kind: Config): actions per rule and namespace, parameters, exemptions, dry-run; kgate config default prints one")
	}
}

// build loads the policies and applies the parameters or the configuration.
func (f *engineFlags) build(cmd *cobra.Command) (*policies.Engine, error) {
	if f.paramsFile != "" && f.configFile != "" {
		return nil, fmt.Errorf("--params and --config both set parameters: put them under params: in %s", f.configFile)
	}
	var params map[string]any
	if f.paramsFile != "" {
		b, err := os.ReadFile(f.paramsFile)
		if err != nil {
			return nil, fmt.Errorf("read parameters: %w", err)
		}
		if err := yaml.Unmarshal(b, &params); err != nil {
			return nil, fmt.Errorf("parameters %s: %w", f.paramsFile, err)
		}
	}
	e, err := policies.New(cmd.Context(), policies.Options{PolicyDirs: f.policyDirs, Params: params, Debug: f.debug})
	if err != nil {
		if f.paramsFile != "" {
			return nil, fmt.Errorf("%w (parameters from %s)", err, f.paramsFile)
		}
		return nil, err
	}
	if f.configFile == "" {
		return e, nil
	}
	c, err := config.Load(f.configFile)
	if err != nil {
		return nil, err
	}
	ce, err := c.Apply(cmd.Context(), e)
	if err != nil {
		return nil, err
	}
	f.applied.Store(c)
	return ce, nil
}
