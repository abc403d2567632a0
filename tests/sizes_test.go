package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ir"
)

// sizeCase runs def fn of src on args through the Go API: it must return
// want (compared as printed by %v), or fail at t.nab:pos with every word
// of msg (separated by "|").
type sizeCase struct {
	name, src, fn string
	args          []any
	want          string
	pos, msg      string
}

func runSizeCases(t *testing.T, cases []sizeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer catch(t, tc.name)
			p, err := nabla.Compile("t.nab", []byte(tc.src))
			if err == nil {
				var f *nabla.Func
				if f, err = p.Func(tc.fn); err != nil {
					t.Fatal(err)
				}
				var v any
				v, err = f.Call(context.Background(), tc.args...)
				if err == nil {
					if tc.msg != "" {
						t.Fatalf("got %v; want an error at %s: %s", v, tc.pos, tc.msg)
					}
					if got := fmt.Sprint(v); got != tc.want {
						t.Fatalf("got %s, want %s", got, tc.want)
					}
					if r := f.Result(); r != nil && !resultFits(v, r) {
						t.Errorf("Call returned %v, which is not of its Result() type %s", v, r)
					}
					return
				}
			}
			if tc.msg == "" {
				t.Fatalf("unexpected error: %v", err)
			}
			text := err.Error()
			if !strings.Contains(text, "t.nab:"+tc.pos+":") {
				t.Errorf("error %q is not at t.nab:%s", text, tc.pos)
			}
			for _, w := range strings.Split(tc.msg, "|") {
				if !strings.Contains(text, w) {
					t.Errorf("error %q does not say %q", text, w)
				}
			}
			for _, internal := range []string{"loop_save", "while_save", "$", "internal error", "panic"} {
				if strings.Contains(text, internal) {
					t.Errorf("error %q shows internal detail %q", text, internal)
				}
			}
			var ie *ir.Error
			if !errors.As(err, &ie) && !errors.As(err, new(ir.ErrorList)) {
				t.Errorf("error %T is not positioned", err)
			}
		})
	}
}

// resultFits checks the sizes of a returned []float64 or [][]float64
// against the constant dimensions of its declared type.
func resultFits(v any, t ir.Type) bool {
	dims := ir.Dims(t)
	switch v := v.(type) {
	case []float64:
		return len(dims) == 1 && (!dims[0].Known() || int64(len(v)) == dims[0].N)
	case [][]float64:
		return len(dims) == 2 && (!dims[0].Known() || int64(len(v)) == dims[0].N)
	}
	return true
}

// TestResultAndLoopSizes: a def's declared result sizes and a loop's state
// sizes are checked (SPEC §2, issue 8 defect 1): a positioned error naming
// both sizes, never a value of the wrong shape, also through AD.
func TestResultAndLoopSizes(t *testing.T) {
	loopDef := "def l(x: [n]f64): [n]f64 = loop y = x for i < 3 do concat(y, y)\n"
	runSizeCases(t, []sizeCase{
		{name: "take result", src: "def r(x: [n]f64): [n]f64 = take(x, 1)", fn: "r", args: []any{[]float64{1, 2, 3}},
			pos: "1:28", msg: "size mismatch|result of r|size 1|[n]f64|n = 3"},
		{name: "take ok", src: "def r(x: [n]f64): [n]f64 = take(x, len(x))", fn: "r", args: []any{[]float64{1, 2, 3}}, want: "[1 2 3]"},
		{name: "constant result", src: "def t(x: [n]f64): [3]f64 = drop(x, 1)", fn: "t", args: []any{[]float64{1, 2}},
			pos: "1:28", msg: "result of t has size 1|says 3"},
		{name: "constant result ok", src: "def t(x: [n]f64): [3]f64 = drop(x, 1)", fn: "t", args: []any{[]float64{1, 2, 3, 4}}, want: "[2 3 4]"},
		{name: "i64 parameter size", src: "def z(k: i64, x: [n]f64): [k]f64 = take(x, 2)", fn: "z", args: []any{int64(3), []float64{1, 2, 3}},
			pos: "1:36", msg: "has size 2|k = 3"},
		{name: "inner dimension", src: "def m(a: [p][q]f64): [p][q]f64 = [take(a[i], 1) for i < p]", fn: "m", args: []any{[][]float64{{1, 2}, {3, 4}}},
			pos: "1:34", msg: "dimension 2 of the result of m|size 1|q = 2"},
		{name: "tuple field", src: "def tf(x: [n]f64): (f64, [n]f64) = (1.0, drop(x, 1))", fn: "tf", args: []any{[]float64{1, 2}},
			pos: "1:36", msg: "field 1 of the result of tf|size 1|n = 2"},
		{name: "loop state", src: loopDef, fn: "l", args: []any{[]float64{1, 2, 3}},
			pos: "1:52", msg: "loop state has size 6|n = 3"},
		{name: "loop state of unknown size", src: "def u(x: [n]f64, k: i64) = loop y = take(x, k) for i < 2 do concat(y, y)", fn: "u", args: []any{[]float64{1, 2, 3}, int64(2)},
			pos: "1:61", msg: "loop state has size 4|size 2 of its initial value"},
		{name: "while state", src: "def w(x: [n]f64) = loop (y, k) = (x, 0) while k < 2 do (drop(y, 1), k + 1)", fn: "w", args: []any{[]float64{1, 2, 3}},
			pos: "1:56", msg: "field 0 of the loop state has size 2|n = 3"},
		{name: "loop keeps sizes", src: "def s(x: [n]f64) = loop y = x for i < 3 do reverse(y) * 2.0", fn: "s", args: []any{[]float64{1, 2}}, want: "[16 8]"},
		{name: "jacrev", src: loopDef + "def jr(x: [n]f64) = jacrev(l)(x)", fn: "jr", args: []any{[]float64{1, 2, 3}},
			pos: "1:52", msg: "loop state has size 6"},
		{name: "jacfwd", src: loopDef + "def jf(x: [n]f64) = jacfwd(l)(x)", fn: "jf", args: []any{[]float64{1, 2, 3}},
			pos: "1:52", msg: "loop state has size 6"},
		{name: "grad", src: "def r(x: [n]f64): [n]f64 = take(x, 1)\ndef g(x: [n]f64) = grad(fn(v) => sum(r(v)))(x)", fn: "g", args: []any{[]float64{1, 2, 3}},
			pos: "1:28", msg: "result of r has size 1"},
		{name: "grad ok", src: "def r(x: [n]f64): [n]f64 = take(x, len(x)) * 2.0\ndef g(x: [n]f64) = grad(fn(v) => sum(r(v)))(x)", fn: "g", args: []any{[]float64{1, 2, 3}}, want: "[2 2 2]"},
		{name: "jvp ok", src: "def r(x: [n]f64): [n]f64 = take(x, len(x)) * x\ndef g(x: [n]f64) = jvp(r, x, x).1", fn: "g", args: []any{[]float64{1, 2}}, want: "[2 8]"},
		{name: "taylor ok", src: "def r(x: [n]f64): [n]f64 = take(x, len(x)) * x\ndef g(x: [n]f64) = taylor(fn(t) => sum(r(x * t)), 1.0, 1.0, 2)", fn: "g", args: []any{[]float64{1, 2}}, want: "[5 10 5]"},
		{name: "hessian ok", src: "def r(x: [n]f64): [n]f64 = take(x, len(x)) * x\ndef h(x: [n]f64) = hessian(fn(v) => sum(r(v)))(x)", fn: "h", args: []any{[]float64{1, 2}}, want: "[[2 0] [0 2]]"},
		{name: "compile-time result", src: "def c(x: [3]f64): [2]f64 = x", fn: "c", pos: "1:28", msg: "returns [2]f64"},
		{name: "compile-time loop", src: "def c(x: [3]f64) = loop y = x for i < 2 do concat(y, [1.0])", fn: "c", pos: "1:44", msg: "loop body has type [4]f64"},
	})
}

// TestSizesInTupleAndFunctionParams: a size variable may stand inside a
// tuple parameter (bound on entry) or in the result of a function
// parameter (bound by its first let-bound result, or by the argument's
// type at the call site), and every occurrence must agree (SPEC §2).
func TestSizesInTupleAndFunctionParams(t *testing.T) {
	gd := `def gd(r: [n]f64 -> [m]f64, x0: [n]f64, iters: i64): [n]f64 =
  loop x = x0 for k < iters do
    let res = r(x) in
    let J = jacfwd(r)(x) in
    x - (transpose(J) @ res) * f64(m) / 2.0
def resid(x: [2]f64): [2]f64 = [x[0] - 1.0, x[1] - 2.0]
`
	app := "def app(r: [n]f64 -> [m]f64, x0: [n]f64): [m]f64 = let y = r(x0) in y * 2.0\n"
	flaky := "def flaky(r: [n]f64 -> [m]f64, x0: [n]f64): f64 = let y = r(x0) in sum(r(x0 * 2.0)) + sum(y) + f64(m)\n"
	runSizeCases(t, []sizeCase{
		{name: "tuple", src: "def tup(p: (f64, [n]f64)): f64 = p.0 * f64(n) + sum(p.1)", fn: "tup", args: []any{[]any{2.0, []float64{1, 2}}}, want: "7"},
		{name: "nested tuple", src: "def tup(p: (f64, (i64, [n][k]f64))): i64 = n * 10 + k", fn: "tup", args: []any{[]any{2.0, []any{int64(1), [][]float64{{1, 2, 3}, {4, 5, 6}}}}}, want: "23"},
		{name: "tuple agree", src: "def two(p: ([n]f64, [n]f64)) = p.0 + p.1", fn: "two", args: []any{[]any{[]float64{1, 2}, []float64{3, 4}}}, want: "[4 6]"},
		{name: "tuple disagree", src: "def two(p: ([n]f64, [n]f64)) = p.0 + p.1", fn: "two", args: []any{[]any{[]float64{1, 2}, []float64{3}}},
			pos: "1:22", msg: "n is 2 (field 0 of p) but field 1 of p has size 1"},
		{name: "tuple and array", src: "def ta(p: (f64, [n]f64), x: [n]f64) = p.1 + x", fn: "ta", args: []any{[]any{1.0, []float64{1, 2}}, []float64{3, 4, 5}},
			pos: "1:30", msg: "n is 2 (field 1 of p) but x has size 3"},
		{name: "tuple result type", src: "def tr(p: (f64, [n]f64)): [n]f64 = drop(p.1, 1)", fn: "tr", args: []any{[]any{1.0, []float64{1, 2}}},
			pos: "1:36", msg: "result of tr has size 1|n = 2"},
		{name: "function result binds m", src: gd + "def main(x0: [2]f64) = gd(resid, x0, 30)", fn: "main", args: []any{[]float64{0, 0}}, want: "[1 2]"},
		{name: "lambda result binds m", src: gd + "def main(x0: [2]f64) = gd(fn(x) => [x[0] - 1.0, x[1] - 2.0, x[0] - 1.0], x0, 1)", fn: "main", args: []any{[]float64{0, 0}}, want: "[3 3]"},
		{name: "m by type at the call site", src: app + "def res3(x: [q]f64): [3]f64 = [x[0], x[1], 1.0]\ndef main(x: [4]f64) = app(res3, x)", fn: "main", args: []any{[]float64{1, 2, 3, 4}}, want: "[2 4 2]"},
		{name: "m from the first result", src: app + "def main(x: [k]f64) = app(fn(v) => concat(v, v), x)", fn: "main", args: []any{[]float64{1, 2}}, want: "[2 4 2 4]"},
		{name: "later result checked", src: flaky + "def main(x: [k]f64) = flaky(fn(v) => take(concat(v, v), i64(v[0])), x)", fn: "main", args: []any{[]float64{1, 2}},
			pos: "1:72", msg: "the result of r has size 2|[m]f64 says m = 1"},
		{name: "function chosen at run time", src: flaky + "def main(x: [k]f64, c: bool) = flaky(if c then fn(v: [k]f64) => concat(v, v) else fn(v: [k]f64) => take(concat(v, v), i64(v[0])), x)", fn: "main", args: []any{[]float64{1, 2}, false},
			pos: "1:72", msg: "the result of r has size 2|[m]f64 says m = 1"},
		{name: "function chosen at run time agrees", src: flaky + "def main(x: [k]f64, c: bool) = flaky(if c then fn(v: [k]f64) => concat(v, v) else fn(v: [k]f64) => v, x)", fn: "main", args: []any{[]float64{1, 2}, true}, want: "22"},
		{name: "inlined template keeps its entry checks", src: "def h(r: [n]f64 -> f64, x: [n]f64, y: [n]f64): f64 = r(x) + y[1]\ndef main(x: [k]f64, y: [j]f64, c: bool) = h(if c then fn(v: [k]f64) => sum(v) else fn(v: [k]f64) => 0.0, x, y)", fn: "main", args: []any{[]float64{1, 2}, []float64{1, 2, 3}, true},
			pos: "1:40", msg: "y has size 3, but its type [n]f64 says n = 2"},
		{name: "inlined template with constant sizes", src: "def h(r: f64 -> f64, x: [2]f64): f64 = r(x[0])\ndef main(x: [k]f64, c: bool) = h(if c then sin else cos, x)", fn: "main", args: []any{[]float64{1, 2, 3}, true},
			pos: "1:22", msg: "x has size 3, but its type [2]f64 says 2"},
		{name: "later result agrees", src: flaky + "def main(x: [k]f64) = flaky(fn(v) => concat(v, v), x)", fn: "main", args: []any{[]float64{1, 2}}, want: "22"},
		{name: "argument of a function parameter", src: "def h(r: [n]f64 -> f64, x: [n]f64): f64 = r(take(x, 1))\ndef main(x: [k]f64) = h(fn(v) => sum(v), x)", fn: "main", args: []any{[]float64{1, 2}},
			pos: "1:45", msg: "argument 1 of r has size 1|n = 2"},
		{name: "constant result size of a function parameter", src: "def h(r: f64 -> [2]f64, x: f64): f64 = sum(r(x))\ndef main(x: f64) = h(fn(v) => drop([v, v, v, v], i64(v)), x)", fn: "main", args: []any{1.0},
			pos: "1:44", msg: "the result of r has size 3|says 2"},
		{name: "constant result size at compile time", src: "def h(r: f64 -> [2]f64, x: f64): f64 = sum(r(x))\ndef main(x: f64) = h(fn(v) => [v, v, v], x)", fn: "main",
			pos: "2:22", msg: "argument 1 of h has type f64 -> [3]f64; want f64 -> [2]f64"},
		{name: "use before the first call", src: "def e(r: [n]f64 -> [m]f64, x0: [n]f64): f64 = f64(m)", fn: "e",
			pos: "1:51", msg: "size m is used before r is called"},
		{name: "result needs m before a call", src: "def e(r: [n]f64 -> [m]f64, x0: [n]f64): [m]f64 = take(x0, 2)", fn: "e",
			pos: "1:50", msg: "size m is used before r is called|check the result of e"},
		{name: "size only in a function's parameters", src: "def e(r: [n]f64 -> f64): f64 = f64(n)", fn: "e",
			pos: "1:36", msg: "size n has no value here"},
		{name: "static disagreement", src: "def f(a: [n][n]f64, v: [n]f64) = a @ v\ndef A = [[1.0, 2.0], [3.0, 4.0]]\ndef main() = f(A, [1.0, 2.0, 3.0])", fn: "main",
			pos: "3:19", msg: "size mismatch: n is 2 (argument 1 of f) but argument 2 has size 3"},
		{name: "static disagreement in one argument", src: "def f(a: [n][n]f64): f64 = sum(a)\ndef main() = f([[1.0, 2.0]])", fn: "main",
			pos: "2:16", msg: "size mismatch: n is 1"},
	})
}
