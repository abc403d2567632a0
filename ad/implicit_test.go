package ad_test

import (
	"context"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// run compiles src through AD expansion and calls def name on vectors.
func run(t *testing.T, src, name string, args ...[]float64) runtime.Value {
	t.Helper()
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err = ad.Expand(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Validate(p); err != nil {
		t.Fatalf("invalid IR after AD: %v", err)
	}
	it, err := interp.New(p)
	if err != nil {
		t.Fatal(err)
	}
	vs := make([]runtime.Value, len(args))
	for i, a := range args {
		vs[i] = runtime.Arr(runtime.FromF64(a))
	}
	v, err := it.Call(context.Background(), name, vs, runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A linear system solved by an iteration hidden behind stop_gradient:
// only the implicit function theorem can give derivatives, and they must
// equal those of A⁻¹b, known in closed form.
const linearSolve = `
def A = [[4.0, 1.0], [2.0, 3.0]]
def F(x: [2]f64, b: [2]f64): [2]f64 = A @ x - b
@implicit(F)
def solve(b: [2]f64): [2]f64 = stop_gradient(loop x = zeros(2) for i < 300 do x - 0.1 * F(x, b))
def loss(b: [2]f64): f64 = sum(solve(b) * [1.0, 2.0])
def g(b: [2]f64) = grad(loss)(b)
def jf(b: [2]f64) = jacfwd(solve)(b)
def jr(b: [2]f64) = jacrev(solve)(b)
`

func TestImplicitLinear(t *testing.T) {
	inv := [][]float64{{0.3, -0.1}, {-0.2, 0.4}} // A⁻¹
	b := []float64{1, 2}
	for _, name := range []string{"jf", "jr"} {
		j := run(t, linearSolve, name, b).Array()
		for i := range 2 {
			for k := range 2 {
				if got := j.F[2*i+k]; math.Abs(got-inv[i][k]) > 1e-9 {
					t.Errorf("%s[%d][%d] = %v, want %v", name, i, k, got, inv[i][k])
				}
			}
		}
	}
	g := run(t, linearSolve, "g", b).Array().F
	want := []float64{-0.1, 0.7} // A⁻ᵀ [1, 2]
	for i := range want {
		if math.Abs(g[i]-want[i]) > 1e-9 {
			t.Errorf("grad[%d] = %v, want %v", i, g[i], want[i])
		}
	}
}
