// Package stdgen generates the Go packages of the standard library
// (stdlib/go/...): it compiles a package's wrapper .nab file as nabla gen
// does, keeps only the defs its exported defs reach, and emits them with
// the code generator.
//
// Why not nabla gen itself: nabla gen emits every def of the program,
// including all of every imported module, so a package wrapping three
// defs of std/optim would carry the whole library (and whatever code of
// it is not vet-clean). The pruning is a plain reachability pass on the
// optimized IR; the emitted functions are those nabla gen would emit for
// the same defs.
package stdgen

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// Generate compiles the wrapper file at path (std/... imports only) and
// returns the generated Go source of package pkg.
func Generate(ctx context.Context, path, pkg string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	res, err := pipeline.Compile(ctx, path, src, pipeline.Options{})
	if err != nil {
		return nil, err
	}
	p := Reachable(res.Opt)
	if len(p.Defs) == 0 {
		return nil, fmt.Errorf("%s: no export def", path)
	}
	return codegen.GenerateAll([]*ir.Program{p}, codegen.Options{Package: pkg, Sources: map[string][]byte{path: src}})
}

// Reachable returns the program of p's exported defs and the defs they
// use, directly or not, in p's order.
func Reachable(p *ir.Program) *ir.Program {
	keep := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		d := p.Def(name)
		if d == nil || keep[name] {
			return
		}
		keep[name] = true
		for _, a := range d.Attrs {
			if a.Fn != "" {
				visit(a.Fn)
			}
		}
		var uses []string
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if g, ok := x.(*ir.Global); ok && enter {
				uses = append(uses, g.Name)
			}
		}, nil)
		for _, u := range uses {
			visit(u)
		}
	}
	for _, d := range p.Defs {
		if d.Export {
			visit(d.Name)
		}
	}
	var defs []*ir.Def
	for _, d := range p.Defs {
		if keep[d.Name] {
			defs = append(defs, d)
		}
	}
	out := ir.NewProgram(defs)
	out.Rules, out.Strats = p.Rules, p.Strats
	return out
}

// Stale reports, as an error, whether out (the checked-in generated file)
// differs from what Generate makes of path for package pkg: the packages'
// tests call it, so that a change of the compiler or the library that
// changes the generated code fails until go generate is run.
func Stale(ctx context.Context, path, pkg, out string) error {
	want, err := Generate(ctx, path, pkg)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s is stale: run go generate in the directory of %s", out, path)
	}
	return nil
}
