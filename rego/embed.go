// Package rego embeds kgate's built-in rule library: Rego v1 packages under
// kgate.rules.<family>.<name>, the shared helpers under kgate.lib, and the tests
// beside them.
package rego

import "embed"

// FS holds every .rego file of the library, tests included; the policies package
// decides which to compile.
//
//go:embed */*.rego
var FS embed.FS
