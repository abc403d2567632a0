package rewrite

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// rowLoopsCases are gradients of element-wise code over the rows of
// matrices: f is the derivative, g the objective. fires is how many
// reverse loops rowloops turns into row additions; the inputs include
// empty rows, no rows, -0.0, and (where g can fail) inputs that make it
// fail.
var rowLoopsCases = []struct {
	name, src string
	fires     int
	inputs    [][]string
}{
	// The GMM's squared distance: diff's cotangent and the means' rows.
	{"distance", `def g(a: [k][d]f64, x: [d]f64): f64 =
  sum([logsumexp([let diff = [x[c] - a[j][c] for c < d] in -0.5 * sum([diff[r] * diff[r] for r < d]) for j < k]) for i < 2])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 2,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[], []]", "[]"}, {"[]", "[0.5]"}, {"[[1e300, -1e300]]", "[-1e300, 1e300]"}}},
	// A product of a matrix's rows with a vector, read element by element.
	{"scaled", `def g(a: [k][d]f64, x: [d]f64): f64 = sum([sum([exp(a[j][c]) * x[c] * x[c] for c < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 1,
		[][]string{{"[[0.5, -1.25, 0.0], [2.0, -0.0, 3.0]]", "[1.0, -0.0, 2.0]"}, {"[[]]", "[]"}}},
	// The GMM's triangular product: the loop that adds into q's rows adds
	// one-hot rows of one-hot matrices (acc_add_at(g, j, acc_add_at(
	// zeros_like(q[j]), r, row))), which stays a loop.
	{"triangular", `def g(a: [k][d]f64, x: [d]f64): f64 =
  let q = [[if r >= c then a[j][r] * a[j][c] else 0.0 for r < d, c < d] for j < k]
  in sum([sum([sum([q[j][r][c] * x[c] for c < d]) ^ 2 for r < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 0,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[1.5, 2.0, -3.0]]", "[0.25, -1.0, 2.0]"}, {"[[], []]", "[]"}}},
	// x[c + 1] fails at the last c: that loop is not rewritten, and the
	// error is the same.
	{"shifted", `def g(a: [k][d]f64, x: [d]f64): f64 = sum([sum([a[j][c] * x[c + 1] for c < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 0,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[], []]", "[]"}, {"[]", "[]"}}},
	// b's length m is not the rows' d: b[c] may fail, the loop over c
	// stays; the error is the same.
	{"other_length", `def g(a: [k][d]f64, b: [m]f64): f64 = sum([sum([a[j][c] * b[c] for c < d]) for j < k])
def f(a: [k][d]f64, b: [m]f64) = grad(g)(a, b)`, 0,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[0.5, -1.25]]", "[1.0]"}, {"[[], []]", "[]"}}},
	// A reversed read x[d - 1 - c] is not at the loop's own index.
	{"reversed", `def g(a: [k][d]f64, x: [d]f64): f64 = sum([sum([a[j][c] * x[d - 1 - c] for c < d]) for j < k])
def f(a: [k][d]f64, x: [d]f64) = grad(g)(a, x)`, 0,
		[][]string{{"[[0.5, -1.25], [2.0, -0.0]]", "[1.0, 3.0]"}, {"[[], []]", "[]"}}},
}

// negZero matches a JSON -0 (the only difference rowloops may make: a
// row of +0.0 it does not add, see rowloops.go).
var negZero = regexp.MustCompile(`([\[, ])-0([,\] ])`)

func plusZeros(s string) string {
	for range 2 { // adjacent matches share a separator
		s = negZero.ReplaceAllString(s, "${1}0${2}")
	}
	return s
}

// withoutRowLoops is the standard pipeline (without) and the same with
// rowloops, which default does not run (it did not pay, see
// docs/benchmarks.md), before its last cse, deadfield and dce (with).
func withoutRowLoops(t *testing.T) (with, without ir.Strat) {
	return withStep(t, "try(rowloops; normalize(simplify <+ constfold)); ")
}

// withStep is the standard pipeline and the same with step run before
// its last cse, deadfield and dce.
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

// rewriteAll applies strat to every def of prog and counts the
// rowloops rewrites.
func rewriteAll(t *testing.T, prog *ir.Program, strat ir.Strat) (*ir.Program, int) {
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
			if s.Name == "rowloops" {
				n++
			}
		}
	}
	return ir.NewProgram(defs), n
}

// sameRunsUpToZeros calls name with each list of arguments before and
// after and wants the same bits, -0.0 and +0.0 taken as equal, or the
// same error at the same position.
func sameRunsUpToZeros(t *testing.T, before, after *ir.Program, name string, inputs [][]string) {
	t.Helper()
	ib, ia := interpPair(t, before, after)
	params, result, err := ib.Signature(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		b, a := runJSON(t, ib, name, params, result, in...), runJSON(t, ia, name, params, result, in...)
		if plusZeros(a) != plusZeros(b) {
			t.Errorf("%s(%s): before %s, after %s", name, strings.Join(in, ", "), b, a)
		}
	}
}

// TestRowLoops runs the standard pipeline with and without rowloops on
// each case: the number of loops rewritten is the case's, and f gives the
// same results or the same error on every input.
func TestRowLoops(t *testing.T) {
	with, without := withoutRowLoops(t)
	for _, tc := range rowLoopsCases {
		t.Run(tc.name, func(t *testing.T) {
			prog := loadSrc(t, tc.src+"\n")
			pw, n := rewriteAll(t, prog, with)
			pp, n0 := rewriteAll(t, prog, without)
			if n != tc.fires || n0 != 0 {
				t.Errorf("rowloops rewrote %d loops (%d without it), want %d", n, n0, tc.fires)
			}
			sameRunsUpToZeros(t, pp, pw, "f", tc.inputs)
		})
	}
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

// TestRowLoopsRandom compiles the gradients of random element-wise
// objectives with and without rowloops and wants the same results (-0.0
// and +0.0 taken as equal) on inputs with rows of 0 to 3 elements, no
// rows, -0.0 and values whose exponentials overflow.
func TestRowLoopsRandom(t *testing.T) {
	with, without := withoutRowLoops(t)
	g := &rowGen{r: rand.New(rand.NewPCG(26, 9))}
	inputs := [][]string{
		{"[[0.5, -1.25], [2.0, -0.0]]", "[[1.0, 0.25], [-0.5, 3.0]]", "[1.5, -0.0]", "0.75"},
		{"[[0.5, -1.25, 0.125]]", "[[1.0, 0.25, -2.0]]", "[1.5, -1.0, 2.5]", "-0.0"},
		{"[[], []]", "[[], []]", "[]", "1.0"},
		{"[]", "[]", "[0.5]", "1.0"},
		{"[[800.0], [-800.0]]", "[[1.0], [-1.0]]", "[2.0]", "0.5"},
	}
	fired := 0
	for i := range 60 {
		src := g.program()
		prog := loadSrc(t, src)
		pw, n := rewriteAll(t, prog, with)
		pp, _ := rewriteAll(t, prog, without)
		fired += n
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sameRunsUpToZeros(t, pp, pw, "f", inputs)
			if t.Failed() {
				t.Log(src)
			}
		})
	}
	if fired == 0 {
		t.Error("rowloops rewrote no loop of any program")
	}
	t.Logf("rowloops rewrote %d loops in 60 programs", fired)
}

// TestRowLoopsLengths applies rowloops alone to
//
//	(loop st = (zeros_like(T),) for i < N do let g = st.0 in (acc_add_at(g, i, R[i] * 2.0),)).0
//
// with a: [n]f64 and b: [m]f64 for T, N and R: the loop becomes
// acc_add(g, R * 2.0) only where N, T's length and R's length are
// provably the same size, and every def gives the same value or the
// same error before and after, on inputs where n and m differ.
func TestRowLoopsLengths(t *testing.T) {
	var b ir.Builder
	vec := func(s string) ir.Type { return ir.ArrayOf(ir.SymDim(s), ir.TF64) }
	mk := func(name string, pick func(a, b ir.Expr) (target, count, read ir.Expr)) *ir.Def {
		return b.SizedDef(name, []string{"a", "b"}, []ir.Type{vec("n"), vec("m")}, func(ps, _ []*ir.Var) ir.Expr {
			target, count, read := pick(ps[0], ps[1])
			init := b.Tuple(b.Prim(ir.PrimZerosLike, target))
			loop := b.For("st", init, "i", b.PrimAux(ir.PrimDim, 0, count), func(st, i *ir.Var) ir.Expr {
				return b.Let("g", b.Proj(st, 0), func(g *ir.Var) ir.Expr {
					elem := b.Prim(ir.PrimMul, b.Prim(ir.PrimIndex, read, i), b.F64(2))
					return b.Tuple(b.Prim(ir.PrimAccAddAt, g, i, elem))
				})
			})
			return b.Proj(loop, 0)
		})
	}
	cases := []struct {
		def   *ir.Def
		fires int
	}{
		{mk("own", func(a, _ ir.Expr) (ir.Expr, ir.Expr, ir.Expr) { return a, a, a }), 1},
		{mk("own_other", func(a, b ir.Expr) (ir.Expr, ir.Expr, ir.Expr) { return b, b, a }), 0},
		{mk("target_other", func(a, b ir.Expr) (ir.Expr, ir.Expr, ir.Expr) { return b, a, a }), 0},
		{mk("count_other", func(a, b ir.Expr) (ir.Expr, ir.Expr, ir.Expr) { return a, b, a }), 0},
		{mk("read_other", func(a, b ir.Expr) (ir.Expr, ir.Expr, ir.Expr) { return a, a, b }), 0},
	}
	var defs []*ir.Def
	for _, tc := range cases {
		defs = append(defs, tc.def)
	}
	prog := ir.NewProgram(defs)
	st, err := lang.ParseStrategy("--strategy", "rowloops")
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
			nd = tc.def // rowloops fails where it rewrites nothing
		}
		if n != tc.fires {
			t.Errorf("%s: %d rewrites, want %d:\n%s", tc.def.Name, n, tc.fires, ir.PrintDef(nd))
		}
		after = append(after, nd)
	}
	inputs := [][2]string{{"[1.0, 2.5, -3.0]", "[1.0, 2.0]"}, {"[1.0]", "[1.0, -0.0]"}, {"[0.5, -0.0]", "[1.0, 2.0]"}, {"[]", "[]"}, {"[]", "[1.0]"}}
	sameRunsArgs(t, prog, ir.NewProgram(after), inputs)
}
