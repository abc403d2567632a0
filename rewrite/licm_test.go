package rewrite

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// licmCases are gradients whose reverse loops read rows that depend only
// on an enclosing loop's index; fires is how many loops licm changes.
var licmCases = []struct {
	name, src string
	fires     int
	inputs    [][]string
}{
	// The GMM's triangular product: q[j] and q[j][r] are read in the
	// loop over c.
	{"triangular", `def g(a: [k][d]f64, x: [d]f64): f64 =
  let q = [[if r >= c then a[j][r] * a[j][c] else 0.0 for r < d, c < d] for j < k]
  in sum([sum([sum([q[j][r][c] * x[c] for c < d]) ^ 2 for r < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 2,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[1.5, 2.0, -3.0]]", "[0.25, -1.0, 2.0]"}, {"[[], []]", "[]"}, {"[]", "[1.0]"}}},
	// A matrix's rows read element by element: a[j] in the loop over c.
	{"rows", `def g(a: [k][d]f64, x: [d]f64): f64 = sum([sum([exp(a[j][c]) * x[c] for c < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 1,
		[][]string{{"[[0.5, -1.25, 0.0], [2.0, -0.0, 3.0]]", "[1.0, -0.0, 2.0]"}, {"[[]]", "[]"}, {"[]", "[]"}}},
	// x[c + 1] fails at the last c: nothing that could fail moves, and
	// the error is the same.
	{"shifted", `def g(a: [k][d]f64, x: [d]f64): f64 = sum([sum([a[j][c] * x[c + 1] for c < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 1,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[], []]", "[]"}, {"[]", "[]"}}},
	// b[j] with b's rows not a's: b[j] might fail and stays in its loop.
	{"other_rows", `def g(a: [k][d]f64, b: [m][d]f64): f64 = sum([sum([a[j][c] * b[j][c] for c < d]) for j < k])
def f(a: [k][d]f64, b: [m][d]f64) = grad(g)(a, b)`, 1,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[[1.0, 3.0], [2.0, 1.0]]"}, {"[[0.5, -1.25], [2.0, -0.0]]", "[[1.0, 3.0]]"}, {"[]", "[]"}}},
}

// TestLICM runs the standard pipeline with and without licm on each case:
// the number of loops changed is the case's, and f gives the same bits or
// the same error at the same position on every input.
func TestLICM(t *testing.T) {
	with, without := withStep(t, "try(licm; normalize(simplify <+ constfold)); ")
	for _, tc := range licmCases {
		t.Run(tc.name, func(t *testing.T) {
			prog := loadSrc(t, tc.src+"\n")
			pw, n := rewriteAllCount(t, prog, with, "licm")
			pp, n0 := rewriteAllCount(t, prog, without, "licm")
			if n != tc.fires || n0 != 0 {
				t.Errorf("licm changed %d loops (%d without it), want %d", n, n0, tc.fires)
			}
			for _, in := range tc.inputs {
				sameRunsArgsN(t, pp, pw, "f", in)
			}
		})
	}
}

// sameRunsArgsN calls name with args in before and after and wants the
// same bits or the same first line of error.
func sameRunsArgsN(t *testing.T, before, after *ir.Program, name string, args []string) {
	t.Helper()
	ib, ia := interpPair(t, before, after)
	params, result, err := ib.Signature(name)
	if err != nil {
		t.Fatal(err)
	}
	if b, a := runJSON(t, ib, name, params, result, args...), runJSON(t, ia, name, params, result, args...); a != b {
		t.Errorf("%s(%v): before %s, after %s", name, args, b, a)
	}
}

// rewriteAllCount applies strat to every def of prog and counts the
// rewrites the pass named pass made.
func rewriteAllCount(t *testing.T, prog *ir.Program, strat ir.Strat, pass string) (*ir.Program, int) {
	t.Helper()
	var defs []*ir.Def
	n := 0
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
			if s.Name == pass {
				n++
			}
		}
	}
	return ir.NewProgram(defs), n
}

// TestLICMBounds applies licm alone to
//
//	loop st = 0.0 for i < N do let r = ROW in let e = r[0] in st + e * 2.0
//
// with a: [k][d]f64 and q: i64: the let of r moves before the loop only
// where it cannot fail (ROW = a[j] with j an enclosing counter below a's
// length), never a read of the loop's own index or a row that may be out
// of range; every def gives the same value or the same error before and
// after, loops of no iterations included.
func TestLICMBounds(t *testing.T) {
	var b ir.Builder
	mat := ir.ArrayOf(ir.SymDim("k"), ir.ArrayOf(ir.SymDim("d"), ir.TF64))
	mk := func(name string, row func(a, q, j, i ir.Expr) ir.Expr) *ir.Def {
		return b.SizedDef(name, []string{"a", "q"}, []ir.Type{mat, ir.TI64}, func(ps, _ []*ir.Var) ir.Expr {
			a, q := ps[0], ps[1]
			// An outer loop over a's rows, an inner one over q.
			return b.For("acc", b.F64(0), "j", b.PrimAux(ir.PrimDim, 0, a), func(acc, j *ir.Var) ir.Expr {
				inner := b.For("st", b.F64(0), "i", q, func(st, i *ir.Var) ir.Expr {
					return b.Let("r", row(a, q, j, i), func(r *ir.Var) ir.Expr {
						return b.Let("e", b.Prim(ir.PrimIndex, r, b.I64(0)), func(e *ir.Var) ir.Expr {
							return b.Prim(ir.PrimAdd, st, b.Prim(ir.PrimMul, e, b.F64(2)))
						})
					})
				})
				return b.Prim(ir.PrimAdd, acc, inner)
			})
		})
	}
	cases := []struct {
		def   *ir.Def
		fires int
	}{
		{mk("outer_counter", func(a, _, j, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, j) }), 1},
		{mk("own_counter", func(a, _, _, i ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, i) }), 0},
		{mk("param", func(a, q, _, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, q) }), 0},
		{mk("shifted", func(a, _, j, _ ir.Expr) ir.Expr { return b.Prim(ir.PrimIndex, a, b.Prim(ir.PrimAdd, j, b.I64(1))) }), 0},
	}
	var defs []*ir.Def
	for _, tc := range cases {
		defs = append(defs, tc.def)
	}
	prog := ir.NewProgram(defs)
	st, err := lang.ParseStrategy("--strategy", "licm")
	if err != nil {
		t.Fatal(err)
	}
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
			nd = tc.def // licm fails where it changes nothing
		}
		if n != tc.fires {
			t.Errorf("%s: %d rewrites, want %d:\n%s", tc.def.Name, n, tc.fires, ir.PrintDef(nd))
		}
		after = append(after, nd)
	}
	inputs := [][2]string{{"[[0.5, -1.25], [2.0, 0.0]]", "1"}, {"[[0.5, -1.25], [2.0, 0.0]]", "3"}, {"[[0.5, -1.25], [2.0, 0.0]]", "0"}, {"[[], []]", "2"}, {"[[], []]", "0"}, {"[]", "0"}}
	sameRunsArgs(t, prog, ir.NewProgram(after), inputs)
}

// TestLICMRandom compiles random programs (progen's, with their
// gradients, and element-wise objectives over matrix rows with theirs)
// with and without licm and wants the same bits or the same error.
func TestLICMRandom(t *testing.T) {
	with, without := withStep(t, "try(licm; normalize(simplify <+ constfold)); ")
	fired := 0
	for i := range 40 {
		src := progen.Random([]byte(fmt.Sprintf("licm %d", i))).Src + "def fg(x: f64, v: [n]f64) = grad(f)(x, v)\n"
		prog := loadSrc(t, src)
		pw, n := rewriteAllCount(t, prog, with, "licm")
		pp, _ := rewriteAllCount(t, prog, without, "licm")
		fired += n
		for _, name := range []string{"f", "fg"} {
			for _, v := range [][]float64{{0.5, -1.25, 2.0}, {0.75}, {}} {
				if b, a := runTwo(t, pp, name, runtime.Limits{}, v), runTwo(t, pw, name, runtime.Limits{}, v); a != b {
					t.Errorf("program %d: %s(0.7, %v): before %s, after %s\n%s", i, name, v, b, a, src)
				}
			}
		}
	}
	g := &rowGen{r: rand.New(rand.NewPCG(26, 1))}
	inputs := [][]string{
		{"[[0.5, -1.25], [2.0, -0.0]]", "[[1.0, 0.25], [-0.5, 3.0]]", "[1.5, -0.0]", "0.75"},
		{"[[0.5, -1.25, 0.125]]", "[[1.0, 0.25, -2.0]]", "[1.5, -1.0, 2.5]", "-0.0"},
		{"[[], []]", "[[], []]", "[]", "1.0"},
		{"[]", "[]", "[0.5]", "1.0"},
	}
	for i := range 40 {
		src := g.program()
		prog := loadSrc(t, src)
		pw, n := rewriteAllCount(t, prog, with, "licm")
		pp, _ := rewriteAllCount(t, prog, without, "licm")
		fired += n
		for _, in := range inputs {
			sameRunsArgsN(t, pp, pw, "f", in)
		}
		if t.Failed() {
			t.Fatalf("program %d:\n%s", i, src)
		}
	}
	if fired == 0 {
		t.Error("licm changed no loop of any program")
	}
	t.Logf("licm changed %d loops in 80 programs", fired)
}

// withStep returns the standard pipeline with step (where default does
// not run it, inserted before its last cse, deadfield and dce) and
// without it.
func withStep(t *testing.T, step string) (with, without ir.Strat) {
	t.Helper()
	src := testRewriter(t).Default().(*named).s.String()
	const tail = "try(cse); try(deadfield); try(dce)"
	if !strings.HasSuffix(src, tail) {
		t.Fatalf("default does not end with %s: %s", tail, src)
	}
	var err error
	if strings.Contains(src, step) {
		with, err = lang.ParseStrategy("--strategy", src)
		if err == nil {
			without, err = lang.ParseStrategy("--strategy", strings.Replace(src, step, "", 1))
		}
	} else {
		with, err = lang.ParseStrategy("--strategy", strings.TrimSuffix(src, tail)+step+tail)
		if err == nil {
			without, err = lang.ParseStrategy("--strategy", src)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return with, without
}

// rowGen makes random element-wise objectives over the rows of two
// matrices and a vector, and their gradients.
type rowGen struct{ r *rand.Rand }

// elem is a random f64 expression of the elements at column c (a[j][c],
// b[j][c], x[c], or, when shift, a read of x at another index), s, and
// constants.
func (g *rowGen) elem(c string, depth int, shift bool) string {
	if depth == 0 || g.r.IntN(3) == 0 {
		switch g.r.IntN(6) {
		case 0:
			return "a[j][" + c + "]"
		case 1:
			return "b[j][" + c + "]"
		case 2:
			if shift && g.r.IntN(2) == 0 {
				return "x[d - 1 - " + c + "]"
			}
			return "x[" + c + "]"
		case 3:
			return "s"
		case 4:
			return fmt.Sprintf("%.2f", g.r.Float64()*4-2)
		default:
			return "a[j][" + c + "] * x[" + c + "]"
		}
	}
	switch g.r.IntN(7) {
	case 0:
		return "exp(" + g.elem(c, depth-1, shift) + ")"
	case 1:
		return "tanh(" + g.elem(c, depth-1, shift) + ")"
	case 2:
		return "-" + g.elem(c, depth-1, shift)
	case 3:
		return "(" + g.elem(c, depth-1, shift) + " - " + g.elem(c, depth-1, shift) + ")"
	case 4:
		return "(" + g.elem(c, depth-1, shift) + " + " + g.elem(c, depth-1, shift) + ")"
	default:
		return g.elem(c, depth-1, shift) + " * " + g.elem(c, depth-1, shift)
	}
}

// program is g and its gradient f with respect to a, x and s.
func (g *rowGen) program() string {
	shift := g.r.IntN(4) == 0
	var body string
	switch g.r.IntN(3) {
	case 0:
		body = "sum([" + g.elem("c", 3, shift) + " for c < d])"
	case 1:
		body = "let u = [" + g.elem("c", 2, shift) + " for c < d] in sum([u[r] * " + g.elem("r", 2, shift) + " for r < d])"
	default:
		body = "logsumexp([" + g.elem("c", 3, shift) + " for c < d])"
	}
	outer := "sum"
	if g.r.IntN(2) == 0 {
		outer = "logsumexp"
	}
	return "def g(a: [k][d]f64, b: [k][d]f64, x: [d]f64, s: f64): f64 = " + outer + "([" + body + " for j < k])\n" +
		"def f(a: [k][d]f64, b: [k][d]f64, x: [d]f64, s: f64) = grad(fn(p, q, t) => g(p, b, q, t))(a, x, s)\n"
}
