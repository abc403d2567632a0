package codegen

import (
	"slices"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// OutlineColumns exposes outlineColumns to the external tests: the names
// of the defs it makes, each with the def whose tail it is.
func OutlineColumns(p *ir.Program, all bool) (*ir.Program, map[string]string) {
	np, cols := outlineColumns(p, all)
	out := map[string]string{}
	for name, c := range cols {
		out[name] = c.parent
	}
	return np, out
}

// ColumnBackend is Backend with every columnwise tail that calls a def
// outlined (Options.ColumnBlock): run as scalar code where it can be
// (scalarcols.go), else on blocks of block columns.
func ColumnBackend(block int) pipeline.Backend { return goBackend{colBlock: block} }

// BlockBackend is ColumnBackend with no tail run as scalar code
// (scalarcols.go): every columnwise tail on blocks.
func BlockBackend(block int) pipeline.Backend { return goBackend{colBlock: block, noScalar: true} }

// ScalarColumns generates p's Go code with blocks of block columns and
// lists the outlined tails run as scalar code (scalarcols.go).
func ScalarColumns(p *ir.Program, block int) ([]string, error) {
	g := &gen{progs: []*ir.Program{p}, opts: Options{Package: "main", Main: true, ColumnBlock: block}, helpers: map[string]bool{}}
	if _, err := g.run(); err != nil {
		return nil, err
	}
	var out []string
	for name := range g.scalar {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}
