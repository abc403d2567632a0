package ad_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// Helpers shared by the table-driven tests of this package: programs go
// through the whole pipeline (nabla.Compile) after a check that their AD
// expansion is valid IR (compileTaylor), and values are Go values.

// flatAny flattens a result (numbers, nested slices, tuples as []any) to
// its f64 parts in row-major order; i64 and bool parts are skipped.
func flatAny(v any) []float64 {
	var out []float64
	var walk func(r reflect.Value)
	walk = func(r reflect.Value) {
		switch r.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !r.IsNil() {
				walk(r.Elem())
			}
		case reflect.Float64, reflect.Float32:
			out = append(out, r.Float())
		case reflect.Slice, reflect.Array:
			for i := range r.Len() {
				walk(r.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}

// likeAny rebuilds a value shaped like tmpl (nested []float64 slices and
// []any tuples) from flat f64s.
func likeAny(tmpl any, xs []float64) any {
	i := 0
	var build func(r reflect.Value) reflect.Value
	build = func(r reflect.Value) reflect.Value {
		switch r.Kind() {
		case reflect.Interface:
			return build(r.Elem())
		case reflect.Float64:
			v := reflect.ValueOf(xs[i])
			i++
			return v
		case reflect.Slice:
			out := reflect.MakeSlice(r.Type(), r.Len(), r.Len())
			for k := range r.Len() {
				e := build(r.Index(k))
				out.Index(k).Set(e)
			}
			return out
		}
		return r
	}
	return build(reflect.ValueOf(tmpl)).Interface()
}

// mustCompile compiles src, checking its AD expansion first.
func mustCompile(t *testing.T, src string) *nabla.Program {
	t.Helper()
	return compileTaylor(t, src)
}

// expandSource loads src and expands its AD operators, for tests that
// look at the defs reverse and forward mode generate.
func expandSource(t *testing.T, src string) *ir.Program {
	t.Helper()
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ad.Expand(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// callAny calls def name and returns its result.
func callAny(t *testing.T, p *nabla.Program, name string, args ...any) any {
	t.Helper()
	return tyRun(t, p, name, args...)
}

// compileError compiles src and returns its error text ("" if none).
func compileError(src string) string {
	_, err := nabla.Compile("t.nab", []byte(src))
	if err == nil {
		return ""
	}
	return err.Error()
}

// callError calls def name and returns its error text ("" if none).
func callError(t *testing.T, p *nabla.Program, name string, args ...any) string {
	t.Helper()
	f, err := p.Func(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Call(context.Background(), args...); err != nil {
		return err.Error()
	}
	return ""
}

// fdJacobian is the central-difference Jacobian (row-major, outputs by
// inputs) of the flattened function g at x.
func fdJacobian(m int, g func(x []float64) []float64, x []float64) []float64 {
	n := len(x)
	out := make([]float64, m*n)
	if m == 0 || n == 0 {
		return out
	}
	J := mat.NewDense(m, n, out)
	fd.Jacobian(J, func(y, x []float64) { copy(y, g(x)) }, x, &fd.JacobianSettings{Formula: fd.Central})
	return out
}

// wantError checks that an error text names every fragment, and has a
// position t.nab:LINE:COL.
func wantError(t *testing.T, what, msg string, frags ...string) {
	t.Helper()
	if msg == "" {
		t.Errorf("%s: no error; want one naming %q", what, frags)
		return
	}
	if !strings.Contains(msg, "t.nab:") {
		t.Errorf("%s: error %q has no position", what, msg)
	}
	for _, f := range frags {
		if !strings.Contains(msg, f) {
			t.Errorf("%s: error %q does not mention %q", what, msg, f)
		}
	}
}
