// Package config reads kgate's configuration file (apiVersion kgate.dev/v1alpha1,
// kind Config), the one file that `kgate check --config`, `kgate audit` and the
// webhook share, and turns it into engine parameters and settings. Every error
// names the file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a configuration document.
const (
	APIVersion = "kgate.dev/v1alpha1"
	Kind       = "Config"
)

// Config is the parsed configuration file.
type Config struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// DryRun turns every deny into a logged warning.
	DryRun bool `yaml:"dryRun"`
	// ExemptNamespaces replaces the global exemptNamespaces parameter.
	ExemptNamespaces []string `yaml:"exemptNamespaces"`
	// Params sets global parameters (declared by the shared library).
	Params map[string]any `yaml:"params"`
	// Exemptions restricts the kgate.dev/exempt annotations.
	Exemptions Exemptions `yaml:"exemptions"`
	// Rules configures individual rules by ID.
	Rules map[string]RuleConfig `yaml:"rules"`
	// Generate configures objects kgate serve creates.
	Generate Generate `yaml:"generate"`

	file  string
	lines lines
}

// Exemptions restricts who can waive a rule with annotations.
type Exemptions struct {
	// Annotations honours kgate.dev/exempt on objects and namespaces (default true).
	Annotations *bool `yaml:"annotations"`
	// Rules, when set, lists the only rule IDs that may be exempted.
	Rules []string `yaml:"rules"`
}

// Generate configures what kgate serve creates in the cluster.
type Generate struct {
	// DefaultDenyIngress creates the default-deny ingress NetworkPolicy of
	// NETPOL-001 in every in-scope namespace.
	DefaultDenyIngress DefaultDenyIngress `yaml:"defaultDenyIngress"`
}

// DefaultDenyIngress switches the NetworkPolicy generator on and scopes it.
type DefaultDenyIngress struct {
	// Enabled turns generation on (default off).
	Enabled bool `yaml:"enabled"`
	// NamespaceSelector selects the namespaces that get the policy; empty selects
	// every namespace outside exemptNamespaces.
	NamespaceSelector *LabelSelector `yaml:"namespaceSelector"`
}

// RuleConfig is the configuration of one rule.
type RuleConfig struct {
	// Action is deny, warn, mutate, audit or off; empty keeps the rule's default.
	Action string `yaml:"action"`
	// Params sets the rule's own parameters.
	Params map[string]any `yaml:"params"`
	// Overrides set the action in some namespaces; the first match wins.
	Overrides []Override `yaml:"overrides"`
}

// Override sets the action of a rule in some namespaces.
type Override struct {
	Namespaces        []string       `yaml:"namespaces"`
	NamespaceSelector *LabelSelector `yaml:"namespaceSelector"`
	Action            string         `yaml:"action"`
}

// LabelSelector is a Kubernetes label selector as written in YAML.
type LabelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []Requirement     `yaml:"matchExpressions"`
}

// Requirement is one matchExpressions entry.
type Requirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values"`
}

// Load reads and parses a configuration file. Unknown fields are errors: a
// misspelt key must not silently keep a default.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, b)
}

// Parse parses configuration text; file names it in errors.
func Parse(file string, b []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty configuration: start with apiVersion: %s and kind: %s (kgate config default prints one)", file, APIVersion, Kind)
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a configuration file holds one document", file, extra.Line)
	}
	c.file = file
	if c.APIVersion != APIVersion || c.Kind != Kind {
		return nil, fmt.Errorf("%s:1: apiVersion %q, kind %q: want apiVersion: %s and kind: %s", file, c.APIVersion, c.Kind, APIVersion, Kind)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c.lines = indexLines(&root)
	return &c, nil
}

func (c *Config) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", c.file, line, fmt.Sprintf(format, args...))
}

// lines maps dotted key paths ("rules.NET-001.params.x", "rules.NET-001.overrides.0")
// to the line they start on.
type lines map[string]int

func (l lines) of(path string) int {
	if n, ok := l[path]; ok {
		return n
	}
	return 1
}

func indexLines(root *yaml.Node) lines {
	l := lines{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(prefix, n.Content[i].Value)
				l[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := join(prefix, fmt.Sprint(i))
				l[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return l
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	lineRE         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// yamlError rewrites the YAML library's messages as FILE:LINE: message, one per
// line, without Go type names.
func yamlError(file string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		if u := unknownFieldRE.FindStringSubmatch(m); u != nil {
			msgs[i] = fmt.Sprintf("%s:%s: unknown field %q (kgate config default lists the fields)", file, u[1], u[2])
		} else if l := lineRE.FindStringSubmatch(m); l != nil {
			msgs[i] = fmt.Sprintf("%s:%s: %s", file, l[1], l[2])
		} else {
			msgs[i] = file + ": " + m
		}
	}
	return errors.New(strings.Join(msgs, "\n"))
}
