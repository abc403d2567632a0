package tests

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ir"
)

// An adCase differentiates one def of a program in testdata.
type adCase struct {
	file, fn string
	name     string           // subtest name; default fn
	sizes    map[string]int   // size variables (default 5)
	ints     map[string]int64 // i64 parameters
	lo, hi   float64          // range of the f64 inputs; default [-1, 1]
	points   int              // random points; default 3
	second   bool             // also second-order operators (scalar f of one f64 or [n]f64)
	// oracle, for a scalar function whose derivative differs from its
	// finite differences on purpose (stop_gradient), is the gradient,
	// flattened; it replaces finite differences.
	oracle func(args []any) []float64
	// skip names a known bug: the case is skipped with this message.
	skip string
	// skip2 skips some second-order operators (by name) with a message.
	skip2 map[string]string
	// noForward marks a function that reaches a def with only a @vjp rule:
	// it has no forward or Taylor mode (SPEC §6), so forward-mode
	// operators must be compile errors naming the rule, and only reverse
	// mode is checked.
	noForward bool
	// ruleSecond marks a noForward function whose gradient needs only the
	// @vjp rule's result, not the def's value: forward over reverse
	// (hessian, hvp, jacfwd and jvp of grad) differentiates the rule's
	// code (SPEC §6), and is checked like any second-order operator.
	ruleSecond bool
}

var adCases = []adCase{
	// basics.nab: scalars, let, if, tuples, calls, lambdas, value defs
	{file: "basics.nab", fn: "poly", second: true},
	{file: "basics.nab", fn: "trig", second: true},
	{file: "basics.nab", fn: "special", second: true},
	{file: "basics.nab", fn: "kinks"},
	{file: "basics.nab", fn: "lets", second: true},
	{file: "basics.nab", fn: "branch", second: true, points: 6},
	{file: "basics.nab", fn: "branchy", points: 6},
	{file: "basics.nab", fn: "if_arrays", points: 6},
	{file: "basics.nab", fn: "if_const_cond", name: "if_const_cond/then", ints: map[string]int64{"k": 3}},
	{file: "basics.nab", fn: "if_const_cond", name: "if_const_cond/else", ints: map[string]int64{"k": 1}},
	{file: "basics.nab", fn: "polar"},
	{file: "basics.nab", fn: "tuple_in"},
	{file: "basics.nab", fn: "tuple_out"},
	{file: "basics.nab", fn: "nested_tuple", second: true},
	{file: "basics.nab", fn: "mixed_tuple", ints: map[string]int64{"k": 3}},
	{file: "basics.nab", fn: "multi", sizes: map[string]int{"n": 3, "m": 4}},
	{file: "basics.nab", fn: "deep"},
	{file: "basics.nab", fn: "variance", second: true},
	{file: "basics.nab", fn: "ho", second: true},
	{file: "basics.nab", fn: "ho_closure"},
	{file: "basics.nab", fn: "ho_compose", second: true},
	{file: "basics.nab", fn: "let_fn", second: true},
	{file: "basics.nab", fn: "ho_def_arg", second: true},
	{file: "basics.nab", fn: "uses_value_def", second: true},
	{file: "basics.nab", fn: "uses_grad_value", second: true},
	{file: "basics.nab", fn: "stopped", oracle: func(args []any) []float64 {
		// d/dx_i [Σ x_j sg(x_j) + sg(Σ x) x_0] = x_i + [i = 0] Σ x
		x := args[0].([]float64)
		g := append([]float64(nil), x...)
		for _, v := range x {
			g[0] += v
		}
		return g
	}},

	// loops.nab
	{file: "loops.nab", fn: "pow_loop", ints: map[string]int64{"k": 4}},
	{file: "loops.nab", fn: "pow_loop", name: "pow_loop/zero_trips", ints: map[string]int64{"k": 0}},
	{file: "loops.nab", fn: "arr_loop", second: true},
	{file: "loops.nab", fn: "tuple_loop"},
	{file: "loops.nab", fn: "counter_loop"},
	{file: "loops.nab", fn: "zero_trip"},
	{file: "loops.nab", fn: "count_param", ints: map[string]int64{"k": 3}},
	{file: "loops.nab", fn: "count_param", name: "count_param/zero_trips", ints: map[string]int64{"k": 0}},
	{file: "loops.nab", fn: "free_vars"},
	{file: "loops.nab", fn: "prefix"},
	{file: "loops.nab", fn: "nested_loops", second: true},
	{file: "loops.nab", fn: "mat_loop", sizes: map[string]int{"n": 3}},
	{file: "loops.nab", fn: "newton", lo: 0.5, hi: 3, second: true},
	{file: "loops.nab", fn: "sqrt_tol", lo: 0.5, hi: 100, points: 6, second: true},
	{file: "loops.nab", fn: "while_zero"},
	{file: "loops.nab", fn: "while_arr"},
	{file: "loops.nab", fn: "calls_in_loop", second: true},

	// arrays.nab
	{file: "arrays.nab", fn: "map1", second: false},
	{file: "arrays.nab", fn: "map2"},
	{file: "arrays.nab", fn: "map_closure"},
	{file: "arrays.nab", fn: "map_builtin"},
	{file: "arrays.nab", fn: "map_tuple", second: true},
	{file: "arrays.nab", fn: "zipped"},
	{file: "arrays.nab", fn: "map_rows", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "stencil"},
	{file: "arrays.nab", fn: "stencil_nl"},
	{file: "arrays.nab", fn: "periodic"},
	{file: "arrays.nab", fn: "grid2", sizes: map[string]int{"n": 3, "m": 4}},
	{file: "arrays.nab", fn: "build_closure"},
	{file: "arrays.nab", fn: "rosen", second: true},
	{file: "arrays.nab", fn: "rows"},
	{file: "arrays.nab", fn: "red_add", second: true},
	{file: "arrays.nab", fn: "red_max"},
	{file: "arrays.nab", fn: "red_mul", second: true},
	{file: "arrays.nab", fn: "red_logaddexp", second: true},
	{file: "arrays.nab", fn: "red_closure"},
	{file: "arrays.nab", fn: "red_pairs", second: true},
	{file: "arrays.nab", fn: "red_rows", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "scan_add", second: true},
	{file: "arrays.nab", fn: "scan_mul"},
	{file: "arrays.nab", fn: "scan_max"},
	{file: "arrays.nab", fn: "fold1", second: true},
	{file: "arrays.nab", fn: "fold_closure"},
	{file: "arrays.nab", fn: "fold_tuple", second: true},
	{file: "arrays.nab", fn: "fold_rows", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "idx", second: true},
	{file: "arrays.nab", fn: "idx2", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "slices", second: true},
	{file: "arrays.nab", fn: "take_drop"},
	{file: "arrays.nab", fn: "upd", second: true},
	{file: "arrays.nab", fn: "upd_row", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "gath"},
	{file: "arrays.nab", fn: "gath_rows", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "gath_idx", sizes: map[string]int{"n": 5, "k": 4}},
	{file: "arrays.nab", fn: "cat", sizes: map[string]int{"n": 3, "m": 4}},
	{file: "arrays.nab", fn: "rev"},
	{file: "arrays.nab", fn: "tr", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "reshaped", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "mm", sizes: map[string]int{"m": 2, "k": 3, "p": 4}},
	{file: "arrays.nab", fn: "mv", sizes: map[string]int{"m": 2, "k": 3}},
	{file: "arrays.nab", fn: "vv"},
	{file: "arrays.nab", fn: "dots"},
	{file: "arrays.nab", fn: "outer_", sizes: map[string]int{"n": 3, "m": 4}},
	{file: "arrays.nab", fn: "quad", sizes: map[string]int{"n": 3}},
	{file: "arrays.nab", fn: "smax", second: false},
	{file: "arrays.nab", fn: "lse", second: true},
	{file: "arrays.nab", fn: "norms", second: true},
	{file: "arrays.nab", fn: "stats", second: true},
	{file: "arrays.nab", fn: "bcast", lo: 0.5, hi: 2},
	{file: "arrays.nab", fn: "bcast2", sizes: map[string]int{"m": 2, "n": 3}, lo: 0.5, hi: 2},
	{file: "arrays.nab", fn: "fills", ints: map[string]int64{"n": 4}},
	{file: "arrays.nab", fn: "net", sizes: map[string]int{"h": 4, "d": 3, "c": 5}, ints: map[string]int64{"label": 2}},

	{file: "arrays.nab", fn: "scan_pairs"},
	{file: "arrays.nab", fn: "scan_closure"},
	{file: "basics.nab", fn: "branch_const", points: 6},

	{file: "arrays.nab", fn: "map_in_map", sizes: map[string]int{"m": 3, "n": 4}},
	{file: "arrays.nab", fn: "loop_in_map"},
	{file: "arrays.nab", fn: "map_in_loop", second: true},
	{file: "arrays.nab", fn: "if_in_build", points: 6},
	{file: "arrays.nab", fn: "map3"},
	{file: "arrays.nab", fn: "at_argmax", second: true},
	{file: "arrays.nab", fn: "while_in_map"},

	{file: "arrays.nab", fn: "map_self", second: false},
	{file: "arrays.nab", fn: "map_twice"},
	{file: "arrays.nab", fn: "fold_self"},
	{file: "arrays.nab", fn: "scan_self"},
	{file: "arrays.nab", fn: "reduce_self"},
	{file: "loops.nab", fn: "init_free"},
	{file: "loops.nab", fn: "init_free_while"},
	{file: "arrays.nab", fn: "self_reads", second: true},
	{file: "loops.nab", fn: "init_reads", second: true},
	{file: "loops.nab", fn: "init_scalar", second: true},
	{file: "loops.nab", fn: "fold_init"},
	{file: "loops.nab", fn: "scan_init"},
	{file: "loops.nab", fn: "while_init", lo: 0.5, hi: 2, second: true},

	// empty arrays and arrays of one element
	{file: "arrays.nab", fn: "rosen", name: "rosen/n=1", sizes: map[string]int{"n": 1}},
	{file: "arrays.nab", fn: "rosen", name: "rosen/n=2", sizes: map[string]int{"n": 2}, second: true},
	{file: "arrays.nab", fn: "map1", name: "map1/n=0", sizes: map[string]int{"n": 0}},
	{file: "arrays.nab", fn: "red_max", name: "red_max/n=1", sizes: map[string]int{"n": 1}},
	{file: "arrays.nab", fn: "scan_add", name: "scan_add/n=0", sizes: map[string]int{"n": 0}},
	{file: "arrays.nab", fn: "fold_tuple", name: "fold_tuple/n=0", sizes: map[string]int{"n": 0}},
	{file: "arrays.nab", fn: "red_mul", name: "red_mul/n=0", sizes: map[string]int{"n": 0}},
	{file: "loops.nab", fn: "prefix", name: "prefix/n=0", sizes: map[string]int{"n": 0}},
	{file: "loops.nab", fn: "free_vars", name: "free_vars/n=1", sizes: map[string]int{"n": 1}},
	{file: "arrays.nab", fn: "zipped", name: "zipped/n=0", sizes: map[string]int{"n": 0}},

	// custom.nab: @jvp and @vjp rules (true derivatives)
	{file: "custom.nab", fn: "soft", second: true, lo: -3, hi: 3},
	{file: "custom.nab", fn: "use_soft", second: true, lo: -3, hi: 3},
	{file: "custom.nab", fn: "unit"},
	{file: "custom.nab", fn: "use_unit"},
	{file: "custom.nab", fn: "sumsq", noForward: true, ruleSecond: true, second: true},
	{file: "custom.nab", fn: "use_sumsq", noForward: true, second: true},
	{file: "custom.nab", fn: "wdot", noForward: true},
	{file: "custom.nab", fn: "use_wdot", noForward: true},
	{file: "custom.nab", fn: "cube", second: true},
	{file: "custom.nab", fn: "use_cube", second: true},

	// nested.nab: AD operators inside differentiated code
	{file: "nested.nab", fn: "rosen", second: true},
	{file: "nested.nab", fn: "wave", second: true},
	{file: "nested.nab", fn: "newton_step", sizes: map[string]int{"n": 4}},
	{file: "nested.nab", fn: "grad_norm", second: true},
	{file: "nested.nab", fn: "slope"},
	{file: "nested.nab", fn: "confusion", second: true},
	{file: "nested.nab", fn: "descend", sizes: map[string]int{"n": 4}},
	{file: "nested.nab", fn: "third", second: true},
	{file: "nested.nab", fn: "field"},
	{file: "nested.nab", fn: "jf", sizes: map[string]int{"n": 4}},
	{file: "nested.nab", fn: "jr", sizes: map[string]int{"n": 4}},
	{file: "nested.nab", fn: "jac_trace", second: true},

	// v02.nab: SPEC §6 v0.2 features inside differentiated code
	{file: "v02.nab", fn: "jac_frob", sizes: map[string]int{"p": 2, "q": 3}},
	{file: "v02.nab", fn: "hess_contract", sizes: map[string]int{"p": 2, "q": 2}},
	{file: "v02.nab", fn: "tup_jac"},
	{file: "v02.nab", fn: "via_param", second: true},
	{file: "v02.nab", fn: "via_lambda", second: true},
	{file: "v02.nab", fn: "via_cg", lo: 0.5, hi: 2, second: true},
	{file: "v02.nab", fn: "closed_over", second: true},
	{file: "v02.nab", fn: "use_rules", second: true},
	{file: "v02_taylor.nab", fn: "taylor_rules", second: true},
	{file: "v02_taylor.nab", fn: "taylor_inside", second: true},
	{file: "v02_taylor.nab", fn: "use_nested", lo: 0.5, hi: 2, second: true},

	// optfuncs.nab (gonum's oracle gradients are in optfuncs_test.go)
	{file: "optfuncs.nab", fn: "watson", sizes: map[string]int{"n": 6}, second: true},
	{file: "optfuncs.nab", fn: "penalty2", sizes: map[string]int{"n": 4}, second: true},
	{file: "optfuncs.nab", fn: "helical_valley", second: true, points: 6},

	// gmm.nab, on a tiny instance: all parameters including the points
	{file: "gmm.nab", fn: "gmm", sizes: map[string]int{"k": 2, "d": 3, "p": 6, "n": 4}, ints: map[string]int64{"m": 2}, lo: 0.2, hi: 1.5},
	{file: "gmm.nab", fn: "qmat", sizes: map[string]int{"p": 6}, ints: map[string]int64{"d": 3}},
}

func (c adCase) label() string {
	if c.name != "" {
		return c.name
	}
	return c.fn
}

// TestAD checks first derivatives of every case at random points:
// jvp against finite differences of f along a random direction, vjp
// against finite differences of ⟨w, f(x)⟩ for a random w, the two
// against each other (⟨J v, w⟩ = ⟨v, Jᵀ w⟩), and for scalar functions
// grad and value_and_grad too. Cases marked second also check
// second-order operators.
func TestAD(t *testing.T) {
	for _, c := range adCases {
		t.Run(strings.TrimSuffix(c.file, ".nab")+"/"+c.label(), func(t *testing.T) {
			t.Parallel()
			if c.skip != "" {
				t.Skip(c.skip)
			}
			runADCase(t, c)
		})
	}
}

const (
	fdTol  = 1e-6  // derivatives against finite differences
	dotTol = 1e-10 // ⟨J v, w⟩ against ⟨v, Jᵀ w⟩
)

func seed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// paramList renders a def's parameters as source; prefix renames them
// (tangents), keeping the original names of i64 parameters that may be
// sizes.
func paramList(d *ir.Def, prefix string) (decl, tuple string) {
	var ds, ns []string
	fresh := 0
	bound := boundSizes(d)
	for _, p := range d.Params {
		name := prefix + p.Name
		ds = append(ds, name+": "+typeSrc(p.T, bound, &fresh))
		ns = append(ns, name)
	}
	tuple = ns[0]
	if len(ns) > 1 {
		tuple = "(" + strings.Join(ns, ", ") + ")"
	}
	return strings.Join(ds, ", "), tuple
}

// noForwardError is what a forward-mode operator on a function that reaches
// a def with only a @vjp rule reports.
const noForwardError = "no forward or Taylor mode"

// wrappers defines the derivatives of def f that a case checks.
func wrappers(d *ir.Def) string {
	ps, x := paramList(d, "")
	ts, dx := paramList(d, "tst_d_")
	fresh := 100
	wt := typeSrc(d.Result, boundSizes(d), &fresh)
	var b strings.Builder
	fmt.Fprintf(&b, "\n// generated by tests/ad_test.go\n")
	fmt.Fprintf(&b, "def tst_jvp(%s, %s) = jvp(%s, %s, %s)\n", ps, ts, d.Name, x, dx)
	fmt.Fprintf(&b, "def tst_vjp(%s, tst_w: %s) = vjp(%s, %s, tst_w)\n", ps, wt, d.Name, x)
	if ir.Identical(d.Result, ir.TF64) {
		args := strings.TrimSuffix(strings.TrimPrefix(x, "("), ")")
		fmt.Fprintf(&b, "def tst_grad(%s) = grad(%s)(%s)\n", ps, d.Name, args)
		fmt.Fprintf(&b, "def tst_vg(%s) = value_and_grad(%s)(%s)\n", ps, d.Name, args)
	}
	return b.String()
}

func runADCase(t *testing.T, c adCase) {
	src := readTestdata(t, c.file)
	p := loadIR(t, c.file, src)
	d := p.Def(c.fn)
	if d == nil || !d.HasParams {
		t.Fatalf("%s: no function def %s", c.file, c.fn)
	}
	wsrc := append(append([]byte(nil), src...), wrappers(d)...)
	name := c.file + "+" + c.fn
	if c.noForward {
		// Forward mode must be a compile error naming the rule; only
		// reverse mode is checked below, without the jvp wrapper.
		if _, err := nabla.Compile(name, wsrc); err == nil || !strings.Contains(err.Error(), noForwardError) {
			t.Errorf("%s: jvp of a function reaching a @vjp-only def: got %v; want an error saying %q", name, err, noForwardError)
		}
		wsrc = removeDef(wsrc, "tst_jvp")
	}
	expandValid(t, name, wsrc)
	prog := compile(t, name, wsrc)
	f := fn(t, prog, c.fn)
	var jv *nabla.Func
	if !c.noForward {
		jv = fn(t, prog, "tst_jvp")
	}
	vj := fn(t, prog, "tst_vjp")
	scalar := ir.Identical(d.Result, ir.TF64)

	rng := rand.New(rand.NewPCG(seed(c.file+c.label()), 1))
	lo, hi := c.lo, c.hi
	if lo == 0 && hi == 0 {
		lo, hi = -1, 1
	}
	points := c.points
	if points == 0 {
		points = 3
	}
	for k := range points {
		sizes := map[string]int{}
		for s, n := range c.sizes {
			sizes[s] = n
		}
		g := &argGen{rng: rng, lo: lo, hi: hi, sizes: sizes, ints: c.ints}
		args := g.args(d)
		at := fmt.Sprintf("point %d", k)
		x0 := flat(args)
		eval := func(x []float64) any { return call(t, f, shaped(args, x, false).([]any)...) }
		y := call(t, f, args...)
		yf := flat(y)

		// Forward mode.
		v := randomLike(rng, args).([]any)
		vf := flat(v)
		var ydot []float64
		var want []float64
		if jv != nil {
			r := call(t, jv, append(append([]any(nil), args...), v...)...).([]any)
			checkClose(t, at+": jvp primal", flat(r[0]), yf, 1e-12)
			ydot = flat(r[1])
			if c.oracle != nil {
				want = []float64{dot(c.oracle(args), vf)}
			} else {
				want = fdJacobian(len(yf), func(out, s []float64) {
					x := append([]float64(nil), x0...)
					for i := range x {
						x[i] += s[0] * vf[i]
					}
					copy(out, flat(eval(x)))
				}, []float64{0}, central4.Step)
			}
			checkClose(t, at+": jvp tangent vs finite differences", ydot, want, fdTol)
		}

		// Reverse mode.
		w := randomLike(rng, y)
		wf := flat(w)
		r := call(t, vj, append(append([]any(nil), args...), w)...).([]any)
		checkClose(t, at+": vjp primal", flat(r[0]), yf, 1e-12)
		xbar := flat(r[1])
		if c.oracle != nil {
			want = c.oracle(args)
			for i := range want {
				want[i] *= wf[0]
			}
		} else {
			want = fdGradient(func(x []float64) float64 { return dot(wf, flat(eval(x))) }, x0, central4.Step)
		}
		checkClose(t, at+": vjp cotangent vs finite differences", xbar, want, fdTol)

		// The dot-product test: both modes compute the same linear map.
		if jv != nil {
			a, b := dot(ydot, wf), dot(vf, xbar)
			scale := 0.0
			for i := range ydot {
				scale += math.Abs(ydot[i] * wf[i])
			}
			for i := range vf {
				scale += math.Abs(vf[i] * xbar[i])
			}
			if !(math.Abs(a-b) <= dotTol*scale) {
				t.Errorf("%s: dot-product test: <J v, w> = %.17g, <v, J^T w> = %.17g (scale %.3g)", at, a, b, scale)
			}
		}

		if scalar {
			gr := flat(call(t, fn(t, prog, "tst_grad"), args...))
			want := c.oracle
			if want == nil {
				checkClose(t, at+": grad vs finite differences", gr, fdGradient(func(x []float64) float64 { return flat(eval(x))[0] }, x0, central4.Step), fdTol)
			} else {
				checkClose(t, at+": grad vs oracle", gr, want(args), fdTol)
			}
			vg := call(t, fn(t, prog, "tst_vg"), args...).([]any)
			checkClose(t, at+": value_and_grad value", flat(vg[0]), yf, 1e-12)
			checkClose(t, at+": value_and_grad gradient", flat(vg[1]), gr, 1e-12)
		}
		if c.second && k < 2 {
			secondOrder(t, c, src, d, prog, args, rng, at)
		}
	}
}

// secondOps are the second-order operators checked for a scalar function
// F of one parameter x: each wrapper's value is compared with the
// finite-difference Jacobian H of grad(F) (already checked against finite
// differences itself), or with H v.
var secondOps = []struct {
	name, vec, scalar string // wrappers for x: [n]f64 and x: f64 ("" = not applicable)
	withV             bool   // takes a direction v and returns H v
	forward           bool   // uses forward mode (a compile error for noForward cases)
}{
	{"hessian", "def tst_op(x: T) = hessian(F)(x)", "def tst_op(x: T) = hessian(F)(x)", false, true},
	{"jacfwd_grad", "def tst_op(x: T) = jacfwd(grad(F))(x)", "def tst_op(x: T) = jacfwd(grad(F))(x)", false, true},
	{"jacrev_grad", "def tst_op(x: T) = jacrev(grad(F))(x)", "def tst_op(x: T) = jacrev(grad(F))(x)", false, false},
	{"hvp", "def tst_op(x: T, v: T) = hvp(F, x, v)", "def tst_op(x: T, v: T) = hvp(F, x, v)", true, true},
	{"jvp_grad", "def tst_op(x: T, v: T) = jvp(grad(F), x, v).1", "def tst_op(x: T, v: T) = jvp(grad(F), x, v).1", true, true},
	{"grad_grad_dot", "def tst_op(x: T, v: T) = grad(fn(y: T) => grad(F)(y) @ v)(x)", "def tst_op(x: T, v: T) = grad(fn(y: T) => grad(F)(y) * v)(x)", true, false},
	{"grad_grad", "", "def tst_op(x: T) = grad(grad(F))(x)", false, false},
}

func secondOrder(t *testing.T, c adCase, src []byte, d *ir.Def, prog interface{}, args []any, rng *rand.Rand, at string) {
	if len(d.Params) != 1 || !ir.Identical(d.Result, ir.TF64) {
		t.Fatalf("second-order checks need a scalar function of one parameter")
	}
	pt := d.Params[0].T
	isScalar := ir.Identical(pt, ir.TF64)
	if !isScalar && !(ir.Rank(pt) == 1 && ir.Identical(pt.(*ir.Array).Elem, ir.TF64)) {
		t.Fatalf("second-order checks need x: f64 or x: [n]f64, not %s", pt)
	}
	fresh := 0
	ts := typeSrc(pt, boundSizes(d), &fresh)
	x := args[0]
	x0 := flat(x)
	n := len(x0)
	base := append(append([]byte(nil), src...), wrappers(d)...)
	if c.noForward {
		base = removeDef(base, "tst_jvp")
	}
	gprog := compile(t, c.file+"+grad", base)
	gr := fn(t, gprog, "tst_grad")
	hfd := fdJacobian(n, func(out, xs []float64) { copy(out, flat(call(t, gr, shaped(x, xs, false)))) }, x0, central4.Step)
	v := randomLike(rng, x)
	vf := flat(v)
	hv := make([]float64, n)
	for i := range n {
		for j := range n {
			hv[i] += hfd[i*n+j] * vf[j]
		}
	}
	for _, op := range secondOps {
		w := op.vec
		if isScalar {
			w = op.scalar
		}
		if w == "" {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			if msg := c.skip2[op.name]; msg != "" {
				t.Skip(msg)
			}
			w := strings.NewReplacer("T", ts, "F", d.Name).Replace(w)
			s := append(append([]byte(nil), base...), "\n"+w+"\n"...)
			name := c.file + "+" + op.name
			if c.noForward && op.forward && !c.ruleSecond {
				if _, err := nabla.Compile(name, s); err == nil || !strings.Contains(err.Error(), noForwardError) {
					t.Errorf("%s: got %v; want an error saying %q", name, err, noForwardError)
				}
				return
			}
			expandValid(t, name, s)
			if t.Failed() {
				return
			}
			p := compile(t, name, s)
			f := fn(t, p, "tst_op")
			if op.withV {
				checkClose(t, at+": "+op.name+" vs finite differences of grad", flat(call(t, f, x, v)), hv, fdTol)
				return
			}
			got := flat(call(t, f, x))
			checkClose(t, at+": "+op.name+" vs finite differences of grad", got, hfd, fdTol)
		})
	}
}

// removeDef deletes the one-line def name from generated source.
func removeDef(src []byte, name string) []byte {
	var out []string
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(l, "def "+name+"(") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}
