package ad_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/num/hyperdual"
)

// jacCases are functions of f64 tensors of any rank; their Jacobians by
// jacfwd and jacrev (and the Hessian, for scalar ones) are compared with
// central differences, flattened in the layout SPEC §6 fixes: the output
// index first, then the input index.
var jacCases = []struct {
	name, param, def string
	x                any // the point's shape (values are drawn at random)
}{
	{"matrix to vector", "[p][q]f64", "[2]f64 = [sum(x * x), sum(sin(x))]", [][]float64{{0, 0, 0}, {0, 0, 0}}},
	{"scalar to vector", "f64", "[3]f64 = [x, x * x, exp(x)]", 0.0},
	{"scalar to matrix", "f64", "[2][2]f64 = [[x, 2.0 * x], [x * x, sin(x)]]", 0.0},
	{"vector to matrix", "[n]f64", "[n][n]f64 = outer(x, sin(x))", []float64{0, 0, 0}},
	{"matrix to matrix", "[p][q]f64", "[q][p]f64 = transpose(x * x) + 1.0", [][]float64{{0, 0}, {0, 0}, {0, 0}}},
	{"matrix to scalar", "[p][q]f64", "f64 = sum(x * x * x) + x[0, 1] * x[1, 0]", [][]float64{{0, 0}, {0, 0}}},
	{"rank 3 to rank 2", "[a][b][c]f64", "[a][c]f64 = [[sum([x[i, j, k] * x[i, j, k] for j < b]) for k < c] for i < a]",
		[][][]float64{{{0, 0}, {0, 0}}, {{0, 0}, {0, 0}}, {{0, 0}, {0, 0}}}},
	{"loop over a matrix", "[p][q]f64", "[p][q]f64 = loop y = x for i < 3 do y * x + sin(y)", [][]float64{{0, 0, 0}, {0, 0, 0}}},
	{"vector to vector", "[n]f64", "[n]f64 = [x[i] * x[(i + 1) % n] + sin(x[i]) for i < n]", []float64{0, 0, 0, 0}},
	{"empty matrix", "[p][q]f64", "[2]f64 = [sum(x), 1.0]", [][]float64{{}}},
}

func TestJacobianAnyRank(t *testing.T) {
	for _, c := range jacCases {
		t.Run(c.name, func(t *testing.T) {
			src := fmt.Sprintf("def f(x: %s): %s\ndef jf(x: %s) = jacfwd(f)(x)\ndef jr(x: %s) = jacrev(f)(x)\n", c.param, c.def, c.param, c.param)
			scalar := c.def[:4] == "f64 "
			if scalar {
				src += fmt.Sprintf("def g(x: %s) = grad(f)(x)\ndef h(x: %s) = hessian(f)(x)\n", c.param, c.param)
			}
			p := mustCompile(t, src)
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			xs := flatAny(c.x)
			for i := range xs {
				xs[i] = rng.Float64()*2 - 1
			}
			x := likeAny(c.x, xs)
			y := flatAny(callAny(t, p, "f", x))
			want := fdJacobian(len(y), func(v []float64) []float64 { return flatAny(callAny(t, p, "f", likeAny(c.x, v))) }, xs)
			for _, op := range []string{"jf", "jr"} {
				tyCheck(t, op, flatAny(callAny(t, p, op, x)), want, 1e-7)
			}
			if scalar {
				h := fdJacobian(len(xs), func(v []float64) []float64 { return flatAny(callAny(t, p, "g", likeAny(c.x, v))) }, xs)
				tyCheck(t, "hessian", flatAny(callAny(t, p, "h", x)), h, 1e-6)
			}
		})
	}
}

// TestHessianMatrixExact checks the Hessian of a function of a matrix,
// [p][q]f64 -> [p][q][p][q]f64, against hyper-dual numbers.
func TestHessianMatrixExact(t *testing.T) {
	p := mustCompile(t, `
def f(x: [p][q]f64): f64 = sum(x * x * x) + x[0, 0] * x[1, 2] + sin(x[0, 1] * x[1, 0])
def h(x: [p][q]f64) = hessian(f)(x)
`)
	x := [][]float64{{0.3, -0.7, 1.1}, {0.5, 0.9, -0.4}}
	xs := flatAny(x)
	f := func(v []hyperdual.Number) hyperdual.Number {
		s := hyperdual.Number{}
		for _, e := range v {
			s = hyperdual.Add(s, hyperdual.Mul(e, hyperdual.Mul(e, e)))
		}
		s = hyperdual.Add(s, hyperdual.Mul(v[0], v[5]))
		return hyperdual.Add(s, hyperdual.Sin(hyperdual.Mul(v[1], v[3])))
	}
	n := len(xs)
	want := make([]float64, n*n)
	for i := range n {
		for j := range n {
			v := make([]hyperdual.Number, n)
			for k := range v {
				v[k].Real = xs[k]
			}
			v[i].E1mag = 1
			v[j].E2mag += 1
			want[i*n+j] = f(v).E1E2mag
		}
	}
	got := callAny(t, p, "h", x)
	if s := fmt.Sprintf("%T", got); s != "[][][][]float64" {
		t.Errorf("hessian of a [2][3]f64 function returned %s; want [][][][]float64", s)
	}
	tyCheck(t, "hessian", flatAny(got), want, 1e-12)
}

// TestJacobianTuples checks JAX's layout for tuples against closed forms:
// one Jacobian per input of f: (A1, A2) -> B, one per output of
// f: A -> (B1, B2), both nested, and the Hessian of a two-parameter
// function as ((H11, H12), (H21, H22)).
func TestJacobianTuples(t *testing.T) {
	p := mustCompile(t, `
def t(x: f64, y: [2]f64): (f64, [2]f64) = (x * y[0], y * x)
def jt(x: f64, y: [2]f64) = jacfwd(t)(x, y)
def jtr(x: f64, y: [2]f64) = jacrev(t)(x, y)
def s(p: ([2]f64, f64)): [2][2]f64 = outer(p.0, p.0) * p.1
def js(p: ([2]f64, f64)) = jacfwd(s)(p)
def jsr(p: ([2]f64, f64)) = jacrev(s)(p)
def k(a: f64, b: [2]f64): f64 = a * a * b[0] * b[1]
def hk(a: f64, b: [2]f64) = hessian(k)(a, b)
def n(x: f64): ((f64, [2]f64), f64) = ((x * x, [x, 3.0 * x]), sin(x))
def jn(x: f64) = jacfwd(n)(x)
def jnr(x: f64) = jacrev(n)(x)
`)
	x, y := 2.0, []float64{3, 5}
	// t = (x y0, x y): d/dx = (y0, y), d/dy = ([x, 0], x I)
	want := []float64{3, 2, 0, 3, 5, 2, 0, 0, 2}
	for _, op := range []string{"jt", "jtr"} {
		got := callAny(t, p, op, x, y)
		tyCheck(t, op, flatAny(got), want, 1e-14)
		if s := fmt.Sprintf("%v", got); s != "[[3 [2 0]] [[3 5] [[2 0] [0 2]]]]" {
			t.Errorf("%s = %s; want the layout ((df0/dx, df0/dy), (df1/dx, df1/dy))", op, s)
		}
	}
	// s(v, c) = c v vᵀ: ds_ij/dv_k = c (δik v_j + v_i δjk), ds_ij/dc = v_i v_j.
	v, c := []float64{1.5, -2}, 0.5
	var jv, jc []float64
	for i := range 2 {
		for j := range 2 {
			for k := range 2 {
				d := 0.0
				if i == k {
					d += v[j]
				}
				if j == k {
					d += v[i]
				}
				jv = append(jv, c*d)
			}
		}
	}
	for i := range 2 {
		for j := range 2 {
			jc = append(jc, v[i]*v[j])
		}
	}
	for _, op := range []string{"js", "jsr"} {
		got := callAny(t, p, op, []any{v, c}).([]any)
		tyCheck(t, op+" wrt the vector", flatAny(got[0]), jv, 1e-14)
		tyCheck(t, op+" wrt the scalar", flatAny(got[1]), jc, 1e-14)
	}
	// k = a² b0 b1.
	a, b := 2.0, []float64{3, 5}
	h := callAny(t, p, "hk", a, b)
	wantH := []float64{2 * b[0] * b[1], 2 * a * b[1], 2 * a * b[0], 2 * a * b[1], 2 * a * b[0], 0, a * a, a * a, 0}
	tyCheck(t, "hessian of k", flatAny(h), wantH, 1e-14)
	if s := fmt.Sprintf("%v", h); s != "[[30 [20 12]] [[20 12] [[0 4] [4 0]]]]" {
		t.Errorf("hessian of k = %s; want ((Haa, Hab), (Hba, Hbb))", s)
	}
	// nested outputs
	wantN := []float64{2 * x, 1, 3, math.Cos(x)}
	for _, op := range []string{"jn", "jnr"} {
		tyCheck(t, op, flatAny(callAny(t, p, op, x)), wantN, 1e-14)
	}
}

// TestJacobianErrors: a Jacobian of a function with i64 parts is a
// positioned type error.
func TestJacobianErrors(t *testing.T) {
	msg := compileError("def f(x: f64, k: i64): f64 = x * f64(k)\ndef j(x: f64) = jacfwd(f)(x, 2)\n")
	wantError(t, "jacfwd with an i64 parameter", msg, "jacfwd", "i64")
	msg = compileError("def f(x: [n](f64, f64)): f64 = sum(map(fn(p) => p.0 * p.1, x))\ndef h(x: [n](f64, f64)) = hessian(f)(x)\n")
	wantError(t, "hessian of an array of tuples", msg, "t.nab:2:27", "hessian: the input has a part of type [n](f64, f64)")
	msg = compileError("def f(c: bool, x: f64) = jacfwd(if c then sin else cos)(x)\n")
	wantError(t, "jacfwd of a function chosen at run time", msg, "t.nab:1:33", "function chosen at run time")
}
