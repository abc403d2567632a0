package rewrite

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// shapeZerosCases are gradients whose reverse pass takes the shape of a
// tape field: f is the derivative, g the objective. rewrites is how many
// zeros_like shapezeros turns into zeros (in g$vjp), drops whether that
// lets deadfield drop a field; the inputs are f's argument, one that
// makes g fail among them where g can.
var shapeZerosCases = []struct {
	name, src string
	rewrites  int
	drops     bool
	inputs    []string
}{
	// saved[i].1: the row of a comprehension read through an index (the
	// GMM's sum of the diagonal).
	{"index", "def g(a: [k][d]f64): f64 = let s = [sum([a[j][r] for r < d]) for j < k] in sum([s[j] * s[j] for j < k])\ndef f(a: [k][d]f64) = grad(g)(a)", 1, true,
		[]string{"[[0.5, -1.25], [2.0, 0.0]]", "[[-0.0, 1.5, 3.0]]", "[]"}},
	// tape.1 with tape = saved[i]: the GMM's squared Mahalanobis terms.
	{"proj", "def g(a: [k][d]f64): f64 = sum([logsumexp([let y = [a[j][c] * a[i][c] for c < d] in sum([y[r] * y[r] for r < d]) for j < k]) for i < k])\ndef f(a: [k][d]f64) = grad(g)(a)", 1, true,
		[]string{"[[0.5, -1.25], [2.0, 0.0]]", "[[-0.0, 1.5, 3.0], [1.0, -2.0, 0.25]]", "[]"}},
	// A constant length.
	{"constant", "def g(a: [k][3]f64): f64 = sum([logsumexp([let y = [a[j][c] * a[i][c] for c < 3] in sum([y[r] * y[r] for r < 3]) for j < k]) for i < k])\ndef f(a: [k][3]f64) = grad(g)(a)", 1, true,
		[]string{"[[0.5, -1.25, 1.0], [2.0, 0.0, -0.0]]", "[]"}},
	// The objective fails at x[j + 1] for the last j: the same error.
	{"failing", "def g(x: [n]f64): f64 = sum([logsumexp([let y = [x[c] * x[j + 1] for c < n] in sum([y[r] * y[r] for r < n]) for j < n]) for i < n])\ndef f(x: [n]f64) = grad(g)(x)", 1, true,
		[]string{"[0.5, -1.25, 2.0]", "[0.75]", "[]"}},
	// The final state's field (y.0 with y the last saved state), which
	// the primal result needs anyway: rewritten, nothing dropped.
	{"loop_save", "def g(x: [n]f64): f64 = (loop s = (x, 0.0) for t < 3 do let y = tanh(s.0 * x) in (y, s.1 + sum(exp(y)))).1\ndef f(x: [n]f64) = grad(g)(x)", 1, false,
		[]string{"[0.5, -1.25, 2.0]", "[0.75]", "[]"}},
	// Rows of different lengths ([?]f64): their length is not a size.
	{"ragged", "def g(a: [k][d]f64): f64 = sum([logsumexp([let y = [a[j][c] * a[i][c] for c < j] in sum([y[r] * y[r] for r < j]) for j < k]) for i < k])\ndef f(a: [k][d]f64) = grad(g)(a)", 0, false,
		[]string{"[[0.5, -1.25, 1.0], [2.0, 0.0, -0.0], [1.0, 2.0, 3.0]]", "[]"}},
	// The tape read in the reverse loop, saved[n - 1 - i], is not
	// provably in bounds and stays; the final state's field is rewritten.
	{"reversed", "def g(x: [n]f64): f64 = (loop s = (x, 0.0) for t < n do let y = tanh(s.0 * x[t]) in (y, s.1 + sum(exp(y)))).1\ndef f(x: [n]f64) = grad(g)(x)", 1, false,
		[]string{"[0.5, -1.25, 2.0]", "[0.75]", "[]"}},
}

// TestShapeZeros runs the standard pipeline with and without shapezeros
// on each case: the number of rewrites is the case's, deadfield prunes
// more tuples where the case says so, and f gives the same bits or the
// same error at the same position on every input.
func TestShapeZeros(t *testing.T) {
	def, err := lang.ParseStrategy("--strategy", "default")
	if err != nil {
		t.Fatal(err)
	}
	src := testRewriter(t).Default().(*named).s.String()
	if !strings.Contains(src, "try(shapezeros); ") {
		t.Fatalf("default does not run shapezeros: %s", src)
	}
	without, err := lang.ParseStrategy("--strategy", strings.Replace(src, "try(shapezeros); ", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range shapeZerosCases {
		t.Run(tc.name, func(t *testing.T) {
			prog := loadSrc(t, tc.src+"\n")
			run := func(strat ir.Strat) (*ir.Program, map[string]int) {
				counts := map[string]int{}
				var defs []*ir.Def
				for _, d := range prog.Defs {
					nd, trace, err := testRewriter(t).ApplyDef(prog, d.Name, strat, Options{Trace: true})
					if err != nil {
						t.Fatalf("%s: %v", d.Name, err)
					}
					if err := ir.ValidateDef(nd); err != nil {
						t.Fatalf("invalid %s: %v\n%s", d.Name, err, ir.PrintDef(nd))
					}
					defs = append(defs, nd)
					for _, s := range trace.Steps {
						counts[s.Name]++
					}
				}
				return ir.NewProgram(defs), counts
			}
			with, cw := run(def)
			plain, cp := run(without)
			if cw["shapezeros"] != tc.rewrites {
				t.Errorf("shapezeros rewrote %d zeros_like, want %d", cw["shapezeros"], tc.rewrites)
			}
			if cp["shapezeros"] != 0 {
				t.Errorf("the pipeline without shapezeros rewrote %d", cp["shapezeros"])
			}
			if tc.drops && cw["deadfield"] <= cp["deadfield"] {
				t.Errorf("deadfield pruned %d tuples, %d without shapezeros: no tape field dropped", cw["deadfield"], cp["deadfield"])
			}
			sameRuns(t, plain, with, "f", tc.inputs)
		})
	}
}

// TestShapeZerosBounds applies shapezeros alone to
//
//	loop st = 0.0 for i < N do let c = acc_add(zeros_like(ROW), 1.0) in st + c[0] * 2.0
//
// with a: [k][d]f64: the row a[i] is rewritten only where i provably
// indexes a (N = dim[0](a)), and every def gives the same value or the
// same error before and after, on inputs where a[q] or c[0] fail.
func TestShapeZerosBounds(t *testing.T) {
	var b ir.Builder
	mat := ir.ArrayOf(ir.SymDim("k"), ir.ArrayOf(ir.SymDim("d"), ir.TF64))
	mk := func(name string, count func(a ir.Expr) ir.Expr, row func(a, i, q ir.Expr) ir.Expr) *ir.Def {
		return b.SizedDef(name, []string{"a", "q"}, []ir.Type{mat, ir.TI64}, func(ps, _ []*ir.Var) ir.Expr {
			a, q := ps[0], ps[1]
			return b.For("st", b.F64(0), "i", count(a), func(st, i *ir.Var) ir.Expr {
				c := b.Prim(ir.PrimAccAdd, b.Prim(ir.PrimZerosLike, row(a, i, q)), b.F64(1))
				return b.Let("c", c, func(c *ir.Var) ir.Expr {
					return b.Prim(ir.PrimAdd, st, b.Prim(ir.PrimMul, b.Prim(ir.PrimIndex, c, b.I64(0)), b.F64(2)))
				})
			})
		})
	}
	rows := func(a ir.Expr) ir.Expr { return b.PrimAux(ir.PrimDim, 0, a) }
	cols := func(a ir.Expr) ir.Expr { return b.PrimAux(ir.PrimDim, 1, a) }
	atI := func(a, i, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, i) }
	cases := []struct {
		def      *ir.Def
		rewrites int
	}{
		{mk("counter", rows, atI), 1},
		{mk("param", rows, func(a, _, q ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, q) }), 0},
		{mk("shifted", rows, func(a, i, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, b.Prim(ir.PrimAdd, i, b.I64(1))) }), 0},
		{mk("other_length", cols, atI), 0},
		{mk("constant", rows, func(a, _, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, b.I64(0)) }), 0},
	}
	var defs []*ir.Def
	for _, tc := range cases {
		defs = append(defs, tc.def)
	}
	prog := ir.NewProgram(defs)
	st, err := lang.ParseStrategy("--strategy", "shapezeros")
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][2]string{{"[[0.5, -1.25], [2.0, 0.0]]", "1"}, {"[[0.5, -1.25], [2.0, 0.0]]", "2"}, {"[[], []]", "0"}, {"[]", "0"}}
	var after []*ir.Def
	for _, tc := range cases {
		nd, trace, err := testRewriter(t).ApplyDef(prog, tc.def.Name, st, Options{Trace: true})
		n := 0
		if err == nil {
			if err := ir.ValidateDef(nd); err != nil {
				t.Fatalf("invalid %s: %v\n%s", tc.def.Name, err, ir.PrintDef(nd))
			}
			n = len(trace.Steps)
		} else {
			nd = tc.def // shapezeros fails where it rewrites nothing
		}
		if n != tc.rewrites {
			t.Errorf("%s: %d rewrites, want %d:\n%s", tc.def.Name, n, tc.rewrites, ir.PrintDef(nd))
		}
		after = append(after, nd)
	}
	sameRunsArgs(t, prog, ir.NewProgram(after), inputs)
}

// sameRunsArgs calls every def of before and after with each list of
// arguments (JSON) and wants the same bits or the same first line of
// error.
func sameRunsArgs(t *testing.T, before, after *ir.Program, inputs [][2]string) {
	t.Helper()
	ib, ia := interpPair(t, before, after)
	for _, d := range before.Defs {
		params, result, err := ib.Signature(d.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inputs {
			if b, a := runJSON(t, ib, d.Name, params, result, in[:]...), runJSON(t, ia, d.Name, params, result, in[:]...); a != b {
				t.Errorf("%s(%s): before %s, after %s", d.Name, in, b, a)
			}
		}
	}
}
