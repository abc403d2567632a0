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
