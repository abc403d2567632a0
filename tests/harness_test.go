package tests

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// ---- programs ----

func readTestdata(t testing.TB, file string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// loadIR parses and checks a program, for its defs' signatures.
func loadIR(t testing.TB, name string, src []byte) *ir.Program {
	t.Helper()
	p, err := lang.Load(name, src, lang.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// expandValid expands the AD operators of a program and checks that the
// result is well-formed IR.
func expandValid(t testing.TB, name string, src []byte) {
	t.Helper()
	defer catch(t, name+": ad.Expand")
	p := loadIR(t, name, src)
	out, err := ad.Expand(p)
	if err != nil {
		t.Errorf("%s: ad.Expand: %v", name, err)
		return
	}
	if err := ir.Validate(out); err != nil {
		t.Errorf("%s: the derivative IR is invalid: %v", name, err)
	}
}

func compile(t testing.TB, name string, src []byte) *nabla.Program {
	t.Helper()
	defer catch(t, name+": nabla.Compile")
	p, err := nabla.Compile(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func fn(t testing.TB, p *nabla.Program, name string) *nabla.Func {
	t.Helper()
	f, err := p.Func(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func call(t testing.TB, f *nabla.Func, args ...any) any {
	t.Helper()
	v, err := f.Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", f.Name(), err)
	}
	return v
}

// catch turns a panic of the compiler into a test failure, so that one
// crashing case does not stop the others.
func catch(t testing.TB, what string) {
	if r := recover(); r != nil {
		t.Fatalf("%s panicked: %v", what, r)
	}
}

// ---- Go values as vectors ----

// flatten appends the f64 leaves of a Go value of the Nabla API (float64,
// slices, []any tuples) to dst; i64 and bool leaves carry no derivative
// and are skipped.
func flatten(dst []float64, v any) []float64 {
	switch v := v.(type) {
	case float64:
		return append(dst, v)
	case int64, bool:
		return dst
	case []float64:
		return append(dst, v...)
	case []any:
		for _, e := range v {
			dst = flatten(dst, e)
		}
		return dst
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		panic(fmt.Sprintf("flatten: unexpected %T", v))
	}
	for i := range rv.Len() {
		dst = flatten(dst, rv.Index(i).Interface())
	}
	return dst
}

func flat(v any) []float64 { return flatten(nil, v) }

// rebuild returns a value shaped like tmpl whose f64 leaves are taken, in
// order, from *xs. Other leaves are copied, or zeroed if zero is set (the
// i64 and bool parts of a tangent are 0 and false).
func rebuild(tmpl any, xs *[]float64, zero bool) any {
	switch t := tmpl.(type) {
	case float64:
		v := (*xs)[0]
		*xs = (*xs)[1:]
		return v
	case int64:
		if zero {
			return int64(0)
		}
		return t
	case bool:
		return t && !zero
	case []float64:
		out := append([]float64(nil), (*xs)[:len(t)]...)
		*xs = (*xs)[len(t):]
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = rebuild(e, xs, zero)
		}
		return out
	}
	rv := reflect.ValueOf(tmpl)
	out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
	for i := range rv.Len() {
		out.Index(i).Set(reflect.ValueOf(rebuild(rv.Index(i).Interface(), xs, zero)))
	}
	return out.Interface()
}

// shaped is rebuild from a whole vector.
func shaped(tmpl any, xs []float64, zero bool) any {
	rest := xs
	v := rebuild(tmpl, &rest, zero)
	if len(rest) != 0 {
		panic("shaped: vector too long")
	}
	return v
}

// randomLike is a value shaped like tmpl with uniform f64 leaves in
// [-1, 1] and zero i64 and bool leaves: a random tangent or cotangent.
func randomLike(rng *rand.Rand, tmpl any) any {
	xs := flat(tmpl)
	for i := range xs {
		xs[i] = 2*rng.Float64() - 1
	}
	return shaped(tmpl, xs, true)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// ---- random arguments from parameter types ----

// argGen makes arguments for a def's parameters: f64 leaves uniform in
// [lo, hi], array sizes from sizes (a size variable not listed is 5), i64
// parameters from ints.
type argGen struct {
	rng    *rand.Rand
	lo, hi float64
	sizes  map[string]int
	ints   map[string]int64
}

func (g *argGen) dim(d ir.Dim) int {
	if d.Known() {
		return int(d.N)
	}
	if v, ok := g.ints[d.Sym]; ok {
		return int(v)
	}
	if n, ok := g.sizes[d.Sym]; ok {
		return n
	}
	g.sizes[d.Sym] = 5
	return 5
}

func (g *argGen) value(t ir.Type) any {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return g.lo + (g.hi-g.lo)*g.rng.Float64()
		case ir.I64:
			return int64(0)
		}
		return false
	case *ir.Array:
		n := g.dim(t.Dim)
		if ir.Identical(t.Elem, ir.TF64) {
			out := make([]float64, n)
			for i := range out {
				out[i] = g.value(ir.TF64).(float64)
			}
			return out
		}
		if ir.Identical(t.Elem, ir.TI64) {
			out := make([]int64, n)
			for i := range out {
				out[i] = int64(g.rng.IntN(max(n, 1)))
			}
			return out
		}
		elems := make([]any, n)
		for i := range elems {
			elems[i] = g.value(t.Elem)
		}
		if len(elems) > 0 {
			// A slice of the elements' Go type ([][]float64 for a matrix).
			out := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(elems[0])), n, n)
			for i, e := range elems {
				out.Index(i).Set(reflect.ValueOf(e))
			}
			return out.Interface()
		}
		return elems
	case *ir.Tuple:
		out := make([]any, len(t.Elems))
		for i, e := range t.Elems {
			out[i] = g.value(e)
		}
		return out
	}
	panic(fmt.Sprintf("argGen: cannot make a %s", t))
}

func (g *argGen) args(d *ir.Def) []any {
	out := make([]any, len(d.Params))
	for i, p := range d.Params {
		if ir.Identical(p.T, ir.TI64) {
			out[i] = g.ints[p.Name]
			continue
		}
		out[i] = g.value(p.T)
	}
	return out
}

// ---- finite differences ----

// central4 is the fourth-order central difference
// f'(x) ≈ (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h: with h = 1e-3
// its truncation error (h⁴/30 f⁽⁵⁾) and rounding error (about ε|f|/h)
// are both near 1e-13 relative, so a 1e-6 tolerance leaves a wide margin
// for the comparisons without hiding any real error.
var central4 = fd.Formula{
	Stencil:    []fd.Point{{Loc: -2, Coeff: 1.0 / 12}, {Loc: -1, Coeff: -8.0 / 12}, {Loc: 1, Coeff: 8.0 / 12}, {Loc: 2, Coeff: -1.0 / 12}},
	Derivative: 1,
	Step:       1e-3,
}

// fdGradient is the gradient of a scalar function of a vector.
func fdGradient(f func([]float64) float64, x []float64, step float64) []float64 {
	if len(x) == 0 {
		return nil
	}
	return fd.Gradient(nil, f, x, &fd.Settings{Formula: central4, Step: step})
}

// fdJacobian is the m×n Jacobian of f: R^n -> R^m, row-major.
func fdJacobian(m int, f func(y, x []float64), x []float64, step float64) []float64 {
	if m == 0 || len(x) == 0 {
		return make([]float64, m*len(x))
	}
	dst := mat.NewDense(m, len(x), nil)
	fd.Jacobian(dst, f, x, &fd.JacobianSettings{Formula: central4, Step: step})
	return dst.RawMatrix().Data
}

// ---- comparisons ----

// relErr is the normwise relative error of got against want, ‖got −
// want‖∞ / max(1, ‖want‖∞).
func relErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	scale, diff := 1.0, 0.0
	for i := range want {
		scale = math.Max(scale, math.Abs(want[i]))
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			return math.NaN()
		}
		diff = math.Max(diff, d)
	}
	return diff / scale
}

func checkClose(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.0e\n got  %v\n want %v", what, e, tol, short(got), short(want))
	}
}

// short prints at most 12 numbers.
func short(xs []float64) string {
	if len(xs) <= 12 {
		return fmt.Sprint(xs)
	}
	return fmt.Sprint(xs[:12]) + fmt.Sprintf(" ... (%d)", len(xs))
}

// typeSrc prints a type as source text, naming every dimension that the
// declaration context does not bind (unknown or local sizes) with a fresh
// size variable, so that it can be a parameter's type.
func typeSrc(t ir.Type, bound map[string]bool, fresh *int) string {
	switch t := t.(type) {
	case *ir.Array:
		d := t.Dim.String()
		if !t.Dim.Known() && !bound[t.Dim.Sym] {
			*fresh++
			d = fmt.Sprintf("tst_s%d", *fresh)
		}
		return "[" + d + "]" + typeSrc(t.Elem, bound, fresh)
	case *ir.Tuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = typeSrc(e, bound, fresh)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return t.String()
}

// boundSizes are the names a def's parameter list binds as sizes.
func boundSizes(d *ir.Def) map[string]bool {
	b := map[string]bool{}
	for _, sv := range d.SizeVars {
		b[sv.Var.Name] = true
	}
	for _, p := range d.Params {
		if ir.Identical(p.T, ir.TI64) {
			b[p.Name] = true
		}
	}
	return b
}
