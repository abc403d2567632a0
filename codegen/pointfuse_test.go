package codegen

// Tests of pointfuse.go: the fused tape build and reverse loop gives the
// general code's bits and errors, where it applies and where it does not.

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

var (
	// fusedFlag matches the label of a fused region; keptFlag a sweep
	// reading the kept products.
	fusedFlag = regexp.MustCompile(`(?m)^\s*Fused_[0-9]+:$`)
	keptFlag  = regexp.MustCompile(`sweep_[0-9]+ = math\.Abs\(kept_[0-9]+\[`)
	// keptDest matches the forward product's destination set to its
	// row of the kept buffer.
	keptDest = regexp.MustCompile(`kr_[0-9]+ := kept_[0-9]+\[`)
	// keptOperand matches a row of the kept operands (pointfuse.go).
	keptOperand = regexp.MustCompile(`kx_[0-9]+ := keptx_[0-9]+\[`)
)

// TestPointFuseSameBits runs every RUN of testdata/pointfuse.nab with
// and without the fusion, each also with small parallel thresholds, and
// requires the same JSON from all four and the interpreter's errors.
func TestPointFuseSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	configs := []Options{{Main: true}, {Main: true, noPointFuse: true}, {Main: true, ParallelMin: 2}, {Main: true, noPointFuse: true, ParallelMin: 2}, {Main: true, noKeptDirect: true}, {Main: true, noKeptOperand: true}}
	names := []string{"fused", "general", "fused, parallel from 2", "general, parallel from 2", "fused, kept product copied", "fused, operand not kept"}
	v := buildVariants(t, "testdata/pointfuse.nab", configs, func(i int, code string) {
		opts := configs[i]
		fused := len(fusedFlag.FindAllString(code, -1))
		kept := len(keptFlag.FindAllString(code, -1))
		if want := !opts.noPointFuse; (fused > 0) != want || (kept > 0) != want {
			t.Fatalf("%s: %d fused regions, %d sweeps reading kept products", names[i], fused, kept)
		}
		// The forward product computed straight into its kept row, or
		// (noKeptDirect) copied there.
		direct := keptDest.MatchString(code)
		copied := strings.Contains(code, "copy(kept_")
		if want := !opts.noPointFuse; direct != (want && !opts.noKeptDirect) || copied != (want && opts.noKeptDirect) {
			t.Fatalf("%s: kept row as the product's destination %v, copied to it %v", names[i], direct, copied)
		}
		// The product's operand kept by the forward pass and read by
		// the reverse (two rows of the kept operands: one each).
		if n, want := len(keptOperand.FindAllString(code, -1)), !opts.noPointFuse && !opts.noKeptOperand; (n >= 2) != want {
			t.Fatalf("%s: %d rows of the kept operands", names[i], n)
		}
	})
	runs := 0
	for _, c := range topRuns(v.src) {
		outs, _ := v.call(t, c, func(i int) string { return names[i] })
		for i := range outs {
			if outs[i] != outs[0] {
				t.Errorf("line %d: %s gives %s, %s %s", c.line, names[i], outs[i], names[0], outs[0])
			}
		}
		runs++
	}
	if runs < 20 {
		t.Fatalf("only %d RUN lines", runs)
	}
}

// TestPointFuseMatch checks what matchPointFuse refuses: the gradient
// of testdata/pointfuse.nab's mixture (fused as it is) changed by hand in
// the IR, as no source program writes it, so that the loop reads the
// tape at another point, the code between reads the tape's column's
// values, a loop in the region takes an array from before it as its
// state, or the reverse product is not the forward one.
func TestPointFuseMatch(t *testing.T) {
	src, err := os.ReadFile("testdata/pointfuse.nab")
	if err != nil {
		t.Fatal(err)
	}
	// find returns the first node of def's body that is for says so.
	find := func(d *ir.Def, is func(x ir.Expr) bool) ir.Expr {
		var got ir.Expr
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if enter && got == nil && is(x) {
				got = x
			}
		}, func(*ir.Var, bool) {})
		if got == nil {
			t.Fatal("no such node")
		}
		return got
	}
	letNamed := func(name string) func(x ir.Expr) bool {
		return func(x ir.Expr) bool { l, ok := x.(*ir.Let); return ok && l.Var.Name == name }
	}
	prim := func(op *ir.Prim, arg0 func(ir.Expr) bool) func(x ir.Expr) bool {
		return func(x ir.Expr) bool {
			pc, ok := x.(*ir.PrimCall)
			return ok && pc.Op == op && len(pc.Args) > 0 && arg0(pc.Args[0])
		}
	}
	varNamed := func(name string) func(ir.Expr) bool {
		return func(x ir.Expr) bool { v, ok := x.(*ir.Var); return ok && v.Name == name }
	}
	cases := []struct {
		name string
		want bool
		edit func(d *ir.Def)
	}{
		{"as it is", true, func(*ir.Def) {}},
		{"tape read at point 0", false, func(d *ir.Def) {
			tape := find(d, letNamed("tape")).(*ir.Let)
			tape.Value.(*ir.PrimCall).Args[1] = ir.I64Const(0, tape.P)
		}},
		{"column read for its values", false, func(d *ir.Def) {
			// zeros_like(c) -> c * 0.0: the values of a column the
			// fused loop has not filled yet.
			col := find(d, func(x ir.Expr) bool {
				l, ok := x.(*ir.Let)
				if !ok {
					return false
				}
				b, ok := l.Value.(*ir.PrimCall)
				if !ok || b.Op != ir.PrimBuild {
					return false
				}
				_, proj := b.Args[1].(*ir.Lambda).Body.(*ir.Proj)
				return proj
			}).(*ir.Let).Var
			z := find(d, prim(ir.PrimZerosLike, func(x ir.Expr) bool { return x == ir.Expr(col) })).(*ir.PrimCall)
			y4 := z.Args[0]
			z.Op, z.Args, z.Aux = ir.PrimMul, []ir.Expr{y4, ir.F64Const(0, z.P)}, nil
		}},
		{"state from before the region", false, func(d *ir.Def) {
			// The points' reverse loop starts from y (the Q matrices,
			// made before the build) instead of zeros_like(y): it may
			// accumulate into y's storage.
			z := find(d, prim(ir.PrimZerosLike, func(x ir.Expr) bool { return ir.Rank(x.Type()) == 3 })).(*ir.PrimCall)
			lp := find(d, func(x ir.Expr) bool {
				l, ok := x.(*ir.Loop)
				if !ok {
					return false
				}
				init, ok := l.Init.(*ir.MakeTuple)
				return ok && len(init.Elems) == 3 && init.Elems[1] == ir.Expr(z)
			}).(*ir.Loop)
			lp.Init.(*ir.MakeTuple).Elems[1] = z.Args[0]
		}},
		{"another product", false, func(d *ir.Def) {
			// The reverse's x[i] - mu[j] -> x[i] + mu[j].
			sub := find(d, func(x ir.Expr) bool {
				l, ok := x.(*ir.Let)
				if !ok {
					return false
				}
				pc, ok := l.Value.(*ir.PrimCall)
				return ok && pc.Op == ir.PrimSub && prim(ir.PrimIndex, varNamed("x"))(pc.Args[0])
			}).(*ir.Let)
			sub.Value.(*ir.PrimCall).Op = ir.PrimAdd
		}},
	}
	for _, c := range cases {
		res, err := pipeline.Compile(context.Background(), "pointfuse.nab", src, pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d := res.Opt.Def("mix$vjp_11100000")
		if d == nil {
			t.Fatal("no def mix$vjp_11100000")
		}
		c.edit(d)
		out, err := Generate(res.Opt, Options{Package: "p"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := fusedFlag.MatchString(string(out)); got != c.want {
			t.Errorf("%s: fused %v, want %v", c.name, got, c.want)
		}
	}
}
