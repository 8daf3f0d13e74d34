package policies

import (
	"regexp"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// imageIntrinsics are Go versions of rego/lib/image_ref.rego. Two rules parse
// every container's image per evaluation, and in Rego each part costs a chain of
// split, substring and regex calls: together they were a sixth of a Deployment's
// evaluation.
var imageIntrinsics = map[string]func(args []*ast.Term) *ast.Term{
	// digest(image) := substring(image, indexof(image, "@") + 1, -1) if contains(image, "@") else := ""
	"g0.data.kgate.lib.image_ref.digest": func(args []*ast.Term) *ast.Term {
		image, ok := args[0].Value.(ast.String)
		if !ok {
			return emptyString
		}
		return afterFirst(string(image), "@")
	},
	// name_part(image) := split(image, "@")[0]
	"g0.data.kgate.lib.image_ref.name_part": func(args []*ast.Term) *ast.Term {
		image, ok := args[0].Value.(ast.String)
		if !ok {
			return nil
		}
		return stringPart(args[0], namePart(string(image)))
	},
	// host(image): the registry host of the name part's first path component when
	// it looks like one (has "." or ":", or is localhost), lower-cased, with Docker
	// Hub's aliases folded into docker.io; docker.io otherwise.
	"g0.data.kgate.lib.image_ref.host": func(args []*ast.Term) *ast.Term {
		image, ok := args[0].Value.(ast.String)
		if !ok {
			return dockerIO
		}
		first, _, found := strings.Cut(namePart(string(image)), "/")
		if !found || !registryComponent(first) {
			return dockerIO
		}
		h := strings.ToLower(first)
		switch h {
		case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
			return dockerIO
		}
		return ast.InternedTerm(h)
	},
	// tag(image): what follows the first ":" of the name part's last path
	// component; "" without one.
	"g0.data.kgate.lib.image_ref.tag": func(args []*ast.Term) *ast.Term {
		image, ok := args[0].Value.(ast.String)
		if !ok {
			return emptyString
		}
		name := namePart(string(image))
		last := name[strings.LastIndexByte(name, '/')+1:]
		return afterFirst(last, ":")
	},
	// ecr_region(h) := m[0][1] if { m := regex.find_all_string_submatch_n(<ecrHost>, h, 1); count(m) == 1 }
	"g0.data.kgate.lib.image_ref.ecr_region": func(args []*ast.Term) *ast.Term {
		h, ok := args[0].Value.(ast.String)
		if !ok {
			return nil
		}
		m := ecrHost.FindStringSubmatch(string(h))
		if m == nil {
			return nil
		}
		return ast.InternedTerm(m[1])
	},
}

// ecrHost is the pattern of ecr_region in rego/lib/image_ref.rego; OPA's regex
// built-ins use Go's regexp, so the matches are the same.
var ecrHost = regexp.MustCompile(`^[0-9]{12}\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$`)

var (
	emptyString = ast.InternedTerm("")
	dockerIO    = ast.InternedTerm("docker.io")
)

// afterFirst is what follows the first sep in s (substring(s, indexof(s, sep) + 1, -1)),
// or "" when s has none.
func afterFirst(s, sep string) *ast.Term {
	_, rest, found := strings.Cut(s, sep)
	if !found {
		return emptyString
	}
	return ast.InternedTerm(rest)
}

func namePart(image string) string {
	name, _, _ := strings.Cut(image, "@")
	return name
}

// stringPart returns t itself when part is all of it.
func stringPart(t *ast.Term, part string) *ast.Term {
	if s, _ := t.Value.(ast.String); string(s) == part {
		return t
	}
	return ast.InternedTerm(part)
}

func registryComponent(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}
