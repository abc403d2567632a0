package ad_test

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

// Taylor of Taylor (SPEC §6). Shifting the point of an inner Taylor
// expansion by s, coefficient l in s of coefficient j in t of f(x + s + t)
// is (1/(j! l!)) f^(j+l)(x) = C(j+l, l)·c_{j+l}, with c the coefficients
// of one expansion of order K + L: nested expansions are checked against
// a single longer one, for every series primitive that Taylor mode emits.
var nestedFns = map[string]string{
	// unary elementwise
	"exp": "exp(x)", "log": "log(x)", "sqrt": "sqrt(x)", "sin": "sin(x)", "cos": "cos(x)",
	"tan": "tan(x)", "sinh": "sinh(x)", "cosh": "cosh(x)", "tanh": "tanh(x)", "asin": "asin(x - 1.5)",
	"acos": "acos(x - 1.5)", "atan": "atan(x)", "log1p": "log1p(x)", "expm1": "expm1(x)",
	"erf": "erf(x)", "sigmoid": "sigmoid(x)", "softplus": "softplus(x)", "abs": "abs(x - 3.0) * x",
	"relu": "relu(x) * x",
	// binary elementwise, series with series and with constants
	"mul": "x * sin(x)", "div": "exp(x) / (1.0 + x)", "cdiv": "2.0 / (1.0 + x)", "divc": "sin(x) / 3.0",
	"sub": "x - cos(x) + 1.0", "powc": "x ^ 2.5", "pow2": "(x + 1.0) ^ 2.0", "pow3": "x ^ 3.0",
	"cpow": "2.0 ^ x", "pow": "x ^ sin(x)", "atan2": "atan2(x, 1.0 + x * x)", "atan2c": "atan2(x, 2.0)",
	"max": "max(x * x, 2.0 * x)", "min": "min(sin(x), 0.3 * x)", "mod": "x * x % 0.7",
	// arrays: per-coefficient and Cauchy products, prod, reductions
	"dot":    "dot([x, 1.0 + x, x * x], [sin(x), cos(x), 2.0])",
	"matmul": "sum([[x, 1.0], [x * x, 2.0]] @ [sin(x), x])",
	"outer":  "sum(outer([x, x * x], [exp(x), 1.0]))",
	"prod":   "prod([x, 1.0 + x, sin(x)])",
	"norm":   "norm([x, 1.0 + x * x])",
	"lse":    "logsumexp([x, 2.0 * x, 1.0])",
	"smax":   "softmax([x, x * x, 1.0])[1]",
	"maxim":  "maximum([x, sin(x), x * x])",
	"index":  "let a = [x, exp(x), x * x] in a[1] * a[2] + sum(a[0:2])",
	"loop":   "loop y = x for i < 3 do y * sin(y) + x",
	"map":    "sum(map(fn(v) => v * exp(v), [x, 2.0 * x]))",
	"reduce": "reduce(fn(a, b) => a * b + a, 1.0, [x, sin(x), 0.5])",
	// Taylor over reverse mode (accumulators of series)
	"grad": "grad(fn(v: [3]f64) => sum(v * v * sin(v)))([x, 2.0 * x, x * x])[1]",
}

func binomial(n, k int) float64 {
	c := 1.0
	for i := 0; i < k; i++ {
		c = c * float64(n-i) / float64(i+1)
	}
	return c
}

func TestTaylorOfTaylor(t *testing.T) {
	const K, L = 4, 3
	var names []string
	for n := range nestedFns {
		names = append(names, n)
	}
	sort.Strings(names)
	x := 0.8
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			var src strings.Builder
			fmt.Fprintf(&src, "def f_%[1]s(x: f64): f64 = %[2]s\n", n, nestedFns[n])
			fmt.Fprintf(&src, "def in_%[1]s(x: f64) = taylor(f_%[1]s, x, 1.0, %[2]d)\n", n, K)
			fmt.Fprintf(&src, "def out_%[1]s(x: f64) = taylor(in_%[1]s, x, 1.0, %[2]d)\n", n, L)
			fmt.Fprintf(&src, "def long_%[1]s(x: f64) = taylor(f_%[1]s, x, 1.0, %[2]d)\n", n, K+L)
			fmt.Fprintf(&src, "def g_%[1]s(x: f64) = grad(fn(y) => taylor(f_%[1]s, y, 1.0, 3)[2])(x)\n", n)
			fmt.Fprintf(&src, "def j_%[1]s(x: f64) = jvp(fn(y) => taylor(f_%[1]s, y, 1.0, 3), x, 1.0).1\n", n)
			p := mustCompile(t, src.String())
			long := tyFloats(t, p, "long_"+n, x)
			out := tyMatrix(t, p, "out_"+n, x)
			for l := 0; l <= L; l++ {
				want := make([]float64, K+1)
				for j := range want {
					want[j] = binomial(j+l, l) * long[j+l]
				}
				tyCheck(t, fmt.Sprintf("coefficient %d in s", l), out[l], want, 1e-10)
			}
			// Reverse and forward mode over Taylor mode: d/dx of c_2(x) is
			// 3·c_3(x), and the tangent of the whole series is (j+1)·c_{j+1}.
			tyCheck(t, "grad of taylor", flatAny(callAny(t, p, "g_"+n, x)), []float64{3 * long[3]}, 1e-10)
			want := make([]float64, 4)
			for j := range want {
				want[j] = float64(j+1) * long[j+1]
			}
			tyCheck(t, "jvp of taylor", tyFloats(t, p, "j_"+n, x), want, 1e-10)
		})
	}
}

// TestTaylorOfTaylorRules: nesting composes with the rules too.
func TestTaylorOfTaylorRules(t *testing.T) {
	p := mustCompile(t, taylorRulesProgram+`
def in_exp(x: f64) = taylor(myexp, x, 1.0, 3)
def out_exp(x: f64) = taylor(in_exp, x, 1.0, 2)
def in_isqrt(x: f64) = taylor(isqrt, x, 1.0, 3)
def out_isqrt(x: f64) = taylor(in_isqrt, x, 1.0, 2)
def third(x: f64) = taylor(fn(a) => taylor(fn(b) => taylor(sin, b, 1.0, 2)[2], a, 1.0, 2)[1], x, 1.0, 2)
`)
	x := 2.0
	out := tyMatrix(t, p, "out_exp", x)
	for l := range out {
		want := make([]float64, 4)
		for j := range want {
			want[j] = binomial(j+l, l) * math.Exp(x) / tyFactorial(j+l)
		}
		tyCheck(t, fmt.Sprintf("@jvp exp, coefficient %d in s", l), out[l], want, 1e-12)
	}
	long := binomSeries(x, 0.5, 5)
	out = tyMatrix(t, p, "out_isqrt", x)
	for l := range out {
		want := make([]float64, 4)
		for j := range want {
			want[j] = binomial(j+l, l) * long[j+l]
		}
		tyCheck(t, fmt.Sprintf("@implicit sqrt, coefficient %d in s", l), out[l], want, 1e-11)
	}
	// Three levels: c_2 of sin is -sin/2; its c_1 is -cos/2, whose series
	// at x has coefficients -cos^(j)(x)/(2 j!).
	want := []float64{-math.Cos(x) / 2, math.Sin(x) / 2, math.Cos(x) / 4}
	tyCheck(t, "taylor of taylor of taylor", tyFloats(t, p, "third", x), want, 1e-12)
}
