package codegen_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// preludeSrc uses every helper a generated package once carried a copy
// of: arenas and their marks (loops, a call that keeps its results),
// errors with frames, and the conversions of matrices and rank-3 arrays
// in and out.
const preludeSrc = `def big(n: i64): [n]f64 = [f64(i) * 2.0 for i < n]
export def cube(a: [p][q][r]f64) = a * 2.0
export def rows(a: [m][n]f64, i: i64) = (transpose(a), a[i], big(m * n * 64))
export def loops(x: [n]f64) = loop s = x for i < 3 do s * 2.0
`

// TestNoPrelude: a generated package is its program's code alone. It
// declares no type, no generic function, no method and no nb* helper:
// the arena, the errors and the conversions of the exported API are
// package runtime's (runtime/dense's for Options.Dense), and it imports
// nothing but the standard library, runtime, and gonum's mat for dense
// signatures. The checked-in generated packages are checked too. A run
// harness (Options.Main) keeps its own main, nb* functions and package
// state (the types of its JSON decoding), but none of the helpers that
// moved, and no generic function or type.
func TestNoPrelude(t *testing.T) {
	type gen struct {
		name string
		src  []byte
		main bool
	}
	var gens []gen
	for _, c := range []struct {
		name, src string
		opts      codegen.Options
	}{
		{"prelude", preludeSrc, codegen.Options{Package: "gen"}},
		{"prelude-dense", preludeSrc, codegen.Options{Package: "gen", Dense: true}},
		{"export", exportSrc, codegen.Options{Package: "gen"}},
		{"ode", odeSrc, codegen.Options{Package: "gen"}},
		{"harness", preludeSrc + "def main = sum(big(10))\n", codegen.Options{Main: true, Steps: true}},
	} {
		res, err := pipeline.Compile(context.Background(), "x.nab", []byte(c.src), pipeline.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out, err := codegen.GenerateAll([]*ir.Program{res.Opt}, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		gens = append(gens, gen{c.name, out, c.opts.Main})
	}
	checkedIn, err := filepath.Glob("../*/*/*_nabla.go")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../*/*/*/*_nabla.go")
	checkedIn = append(checkedIn, more...)
	if len(checkedIn) < 4 {
		t.Fatalf("found only %d checked-in generated files: %v", len(checkedIn), checkedIn)
	}
	for _, path := range checkedIn {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, gen{path, b, false})
	}
	allowed := map[string]bool{
		"github.com/nabla-lang/nabla/runtime":       true,
		"github.com/nabla-lang/nabla/runtime/dense": true,
		"gonum.org/v1/gonum/mat":                    true,
	}
	// What run harnesses carried too, before runtime had it.
	moved := map[string]bool{}
	for _, n := range strings.Fields(`nbArena nbArenas nbArenaPool nbChunks nbPos nbMark nbAlloc nbKeep
		nbOut1 nbOut2 nbOut3 nbInto1 nbInto2 nbInto3 nbFlatten2 nbFlatten3
		nbFromDense nbToDense nbIntoDense nbError nbErrorf nbAt nbFrame`) {
		moved[n] = true
	}
	for _, g := range gens {
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, g.name, g.src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(p, ".") && !allowed[p] {
				t.Errorf("%s imports %s", g.name, p)
			}
		}
		// bad reports a top-level declaration that a generated package
		// (or, for the moved helpers, a harness) must not have.
		bad := func(what, name string, inHarness bool) {
			if !g.main || inHarness || moved[name] {
				t.Errorf("%s: declares %s %s", g.name, what, name)
			}
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						bad("type", s.Name.Name, s.TypeParams != nil)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if strings.HasPrefix(n.Name, "nb") {
								bad("variable", n.Name, false)
							}
						}
					}
				}
			case *ast.FuncDecl:
				switch {
				case d.Recv != nil:
					bad("method", d.Name.Name, false)
				case d.Type.TypeParams != nil:
					bad("generic function", d.Name.Name, true)
				case strings.HasPrefix(d.Name.Name, "nb"):
					bad("function", d.Name.Name, false)
				}
			}
		}
	}
}

// TestPackageNamedParams: exported parameters named like the packages
// generated code refers to (runtime for the arena and conversions, fmt
// for argument errors) are renamed, so the file still builds.
func TestPackageNamedParams(t *testing.T) {
	const src = `export def shadow(runtime: [n][m]f64, fmt: f64, dense: [n]f64) = (runtime * fmt, dense[0])
`
	const test = `package gen

import "testing"

func TestShadow(t *testing.T) {
	r, d, err := Shadow([][]float64{{1, 2}}, 3, []float64{5})
	if err != nil || r[0][1] != 6 || d != 5 {
		t.Errorf("Shadow = %v, %v, %v", r, d, err)
	}
	if _, _, err := Shadow([][]float64{{1, 2}, {3}}, 3, []float64{5, 6}); err == nil {
		t.Error("a ragged argument: no error")
	}
}
`
	testPackage(t, src, codegen.Options{Package: "gen"}, test)
}
