package ad_test

import (
	"context"
	"fmt"
	"math"
	"math/cmplx"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"gonum.org/v1/gonum/num/hyperdual"
)

// compileTaylor compiles src through the whole pipeline, after checking
// that the AD expansion of it is valid IR.
func compileTaylor(t *testing.T, src string) *nabla.Program {
	t.Helper()
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	out, err := ad.Expand(p)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	if err := ir.Validate(out); err != nil {
		t.Fatalf("the expanded program is not valid IR: %v\n%s", err, ir.Print(out))
	}
	prog, err := nabla.Compile("t.nab", []byte(src))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return prog
}

func tyRun(t *testing.T, p *nabla.Program, name string, args ...any) any {
	t.Helper()
	f, err := p.Func(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	v, err := f.Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

func tyFloats(t *testing.T, p *nabla.Program, name string, args ...any) []float64 {
	t.Helper()
	v, ok := tyRun(t, p, name, args...).([]float64)
	if !ok {
		t.Fatalf("%s%v returned %T; want []float64", name, args, v)
	}
	return v
}

func tyMatrix(t *testing.T, p *nabla.Program, name string, args ...any) [][]float64 {
	t.Helper()
	v, ok := tyRun(t, p, name, args...).([][]float64)
	if !ok {
		t.Fatalf("%s%v returned %T; want [][]float64", name, args, v)
	}
	return v
}

// near compares with a relative tolerance (absolute below 1).
func tyNear(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func tyCheck(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d coefficients %v; want %d %v", what, len(got), got, len(want), want)
		return
	}
	for j := range want {
		if !tyNear(got[j], want[j], tol) {
			t.Errorf("%s: coefficient %d = %.17g; want %.17g\n\tgot  %v\n\twant %v", what, j, got[j], want[j], got, want)
			return
		}
	}
}

func tyFactorial(j int) float64 {
	f := 1.0
	for i := 2; i <= j; i++ {
		f *= float64(i)
	}
	return f
}

// TestTaylorKnownSeries checks series with closed forms at several points
// and orders up to 10.
func TestTaylorKnownSeries(t *testing.T) {
	var src strings.Builder
	fns := map[string]string{
		"exp":   "exp(x)",
		"sin":   "sin(x)",
		"cos":   "cos(x)",
		"rat":   "1.0 / (1.0 + x * x)",
		"log":   "log(x)",
		"sqrt":  "sqrt(x)",
		"inv":   "1.0 / x",
		"cube":  "x ^ 3.0",
		"power": "x ^ 2.5",
	}
	orders := []int{0, 1, 2, 5, 10}
	for name, body := range fns {
		fmt.Fprintf(&src, "def f_%s(x: f64): f64 = %s\n", name, body)
		for _, k := range orders {
			fmt.Fprintf(&src, "def %s_%d(x: f64, v: f64) = taylor(f_%s, x, v, %d)\n", name, k, name, k)
		}
	}
	p := compileTaylor(t, src.String())
	binom := func(r float64, j int) float64 { // r choose j
		c := 1.0
		for i := 0; i < j; i++ {
			c *= (r - float64(i)) / float64(i+1)
		}
		return c
	}
	oracle := map[string]func(x float64, j int) float64{
		"exp": func(x float64, j int) float64 { return math.Exp(x) / tyFactorial(j) },
		"sin": func(x float64, j int) float64 { return math.Sin(x+float64(j)*math.Pi/2) / tyFactorial(j) },
		"cos": func(x float64, j int) float64 { return math.Cos(x+float64(j)*math.Pi/2) / tyFactorial(j) },
		// 1/(1+u²) = (1/2i)(1/(u-i) - 1/(u+i)), and 1/(x+t-a) = Σ (-t)^j/(x-a)^(j+1).
		"rat": func(x float64, j int) float64 {
			s := complex(math.Pow(-1, float64(j)), 0)
			p := -complex(float64(j+1), 0)
			c := s * (cmplx.Pow(complex(x, -1), p) - cmplx.Pow(complex(x, 1), p)) / complex(0, 2)
			return real(c)
		},
		"log": func(x float64, j int) float64 {
			if j == 0 {
				return math.Log(x)
			}
			return math.Pow(-1, float64(j+1)) / (float64(j) * math.Pow(x, float64(j)))
		},
		"sqrt":  func(x float64, j int) float64 { return binom(0.5, j) * math.Pow(x, 0.5-float64(j)) },
		"inv":   func(x float64, j int) float64 { return math.Pow(-1, float64(j)) / math.Pow(x, float64(j+1)) },
		"cube":  func(x float64, j int) float64 { return binom(3, j) * math.Pow(x, 3-float64(j)) },
		"power": func(x float64, j int) float64 { return binom(2.5, j) * math.Pow(x, 2.5-float64(j)) },
	}
	points := []float64{0.3, 1.0, 2.5}
	for name := range fns {
		for _, x := range points {
			for _, k := range orders {
				for _, v := range []float64{1, -0.5} {
					want := make([]float64, k+1)
					for j := range want {
						want[j] = oracle[name](x, j) * math.Pow(v, float64(j))
					}
					got := tyFloats(t, p, fmt.Sprintf("%s_%d", name, k), x, v)
					tyCheck(t, fmt.Sprintf("%s at %g along %g, order %d", name, x, v, k), got, want, 1e-10)
				}
			}
		}
	}
}

// TestTaylorConformance repeats the conformance cases.
func TestTaylorConformance(t *testing.T) {
	p := compileTaylor(t, `
def f(x: f64): f64 = exp(sin(x))
def tf(x: f64) = taylor(f, x, 1.0, 6)
def g(x: f64): f64 = 1.0 / (1.0 + x * x)
def tg(x: f64, v: f64) = taylor(g, x, v, 5)
def vecf(x: [2]f64) = [x[0] * x[1], sin(x[0]) + x[1]^3]
def tv(x: [2]f64, v: [2]f64) = taylor(vecf, x, v, 4)
def jt(x: f64) = jet(fn(a) => log(a) * a, x, [1.0, 0.5])
`)
	tyCheck(t, "tf", tyFloats(t, p, "tf", 0.5), []float64{1.6151462964420837, 1.4174242246593913, 0.23478219963286703, -0.3940735734758669, -0.23782225150738892, 0.009903492751612446, 0.05996032246866122}, 1e-12)
	tyCheck(t, "tg", tyFloats(t, p, "tg", 0.25, 2.0), []float64{0.9411764705882353, -0.8858131487889274, -2.7095461021778955, 5.884987009255157, 4.661832846547223, -26.542852596299156}, 1e-12)
	tv := tyMatrix(t, p, "tv", []float64{0.5, -1}, []float64{1, 2})
	want := [][]float64{{-0.5, -0.520574461395797}, {0.0, 6.877582561890373}, {2.0, -12.239712769302102}, {0.0, 7.853736239684938}, {0.0, 0.019976064108508457}}
	for j := range want {
		tyCheck(t, fmt.Sprintf("tv[%d]", j), tv[j], want[j], 1e-12)
	}
	tyCheck(t, "jt", tyFloats(t, p, "jt", 2.0), []float64{1.3862943611198906, 1.6931471805599454, 1.0965735902799727}, 1e-12)
}

// TestJet: the jet of f along x(t) = x + Σ vs[j-1]·tʲ is the Taylor series
// of t ↦ f(x(t)), which taylor computes with the polynomial written out.
func TestJet(t *testing.T) {
	p := compileTaylor(t, `
def f(x: f64): f64 = exp(sin(x)) / (1.0 + x * x)
def j4(x: f64, a: f64, b: f64, c: f64, d: f64) = jet(f, x, [a, b, c, d])
def t4(x: f64, a: f64, b: f64, c: f64, d: f64) =
  taylor(fn(s) => f(x + a * s + b * s^2.0 + c * s^3.0 + d * s^4.0), 0.0, 1.0, 4)
def js(x: f64, vs: [k]f64) = jet(f, x, vs)
def h(x: f64, y: f64): f64 = x * exp(y) - y^3.0
def jtup(x: f64, y: f64) = jet(h, (x, y), [(1.0, 0.5), (-0.25, 2.0)])
def ttup(x: f64, y: f64) = taylor(fn(s) => h(x + s - 0.25 * s^2.0, y + 0.5 * s + 2.0 * s^2.0), 0.0, 1.0, 2)
def jtay(x: f64) = jet(f, x, [1.5, 0.0, 0.0])
def ttay(x: f64) = taylor(f, x, 1.5, 3)
def jvec(x: [2]f64) = jet(fn(y: [2]f64) => y[0] * sin(y[1]), x, [[1.0, 0.0], [0.5, -1.0]])
def j0(x: f64) = jet(f, x, drop([1.0], 1))
`)
	for _, x := range []float64{-0.7, 0.2, 1.3} {
		got := tyFloats(t, p, "j4", x, 0.3, -1.1, 0.7, 2.0)
		want := tyFloats(t, p, "t4", x, 0.3, -1.1, 0.7, 2.0)
		tyCheck(t, fmt.Sprintf("jet at %g", x), got, want, 1e-12)
		tyCheck(t, fmt.Sprintf("jet with a run-time order at %g", x), tyFloats(t, p, "js", x, []float64{0.3, -1.1, 0.7, 2.0}), want, 1e-12)
		tyCheck(t, "jet of a tuple", tyFloats(t, p, "jtup", x, 0.5), tyFloats(t, p, "ttup", x, 0.5), 1e-12)
		tyCheck(t, "jet along a line", tyFloats(t, p, "jtay", x), tyFloats(t, p, "ttay", x), 1e-12)
	}
	// y0·sin(y1) along (1 + t + 0.5t², 2 - t²): (1 + t + 0.5t²)(sin 2 - cos 2·t² + ...).
	got := tyFloats(t, p, "jvec", []float64{1, 2})
	s, c := math.Sin(2), math.Cos(2)
	want := []float64{s, s, 0.5*s - c}
	tyCheck(t, "jet of a vector function", got, want, 1e-12)
	tyCheck(t, "jet of order 0", tyFloats(t, p, "j0", 0.5), []float64{math.Exp(math.Sin(0.5)) / 1.25}, 1e-12)
}

// TestTaylorDirection: along x + t·v, coefficient j scales as vʲ.
func TestTaylorDirection(t *testing.T) {
	p := compileTaylor(t, `
def f(x: f64): f64 = tanh(x) * log1p(x * x) + atan(x)
def t(x: f64, v: f64) = taylor(f, x, v, 7)
`)
	for _, x := range []float64{-1.2, 0.4} {
		one := tyFloats(t, p, "t", x, 1.0)
		for _, v := range []float64{0, 2, -0.3} {
			want := make([]float64, len(one))
			for j := range one {
				want[j] = one[j] * math.Pow(v, float64(j))
			}
			tyCheck(t, fmt.Sprintf("at %g along %g", x, v), tyFloats(t, p, "t", x, v), want, 1e-11)
		}
	}
}

// The functions of the cross-checks: each is differentiated by taylor,
// jvp and jvp of jvp.
var tyCrossFns = []struct {
	name, param, body string
	at, dir           []any
}{
	{"poly", "x: f64", "3.0 * x^4.0 - 2.0 * x + 1.0 / x", []any{0.7, -1.3, 2.0}, []any{1.0, -2.0}},
	{"trig", "x: f64", "sin(x) * cos(2.0 * x) + tan(x / 3.0) + exp(-x * x)", []any{0.1, 1.1}, []any{1.0}},
	{"hyp", "x: f64", "sinh(x) / cosh(x) + tanh(x)^2.0 + sigmoid(x) + softplus(-x)", []any{-0.9, 0.3}, []any{1.0, 0.5}},
	{"inv", "x: f64", "asin(x) + acos(x / 2.0) * atan(x) + atan2(x, 1.0 + x * x) + erf(x)", []any{-0.4, 0.6}, []any{1.0}},
	{"logs", "x: f64", "log(x) + log1p(x) + expm1(x) + sqrt(x) + x^x + 2.0^x", []any{0.5, 1.7}, []any{1.0}},
	{"vec", "x: [3]f64", "sum(x * x) * prod(x) + dot(x, [1.0, -2.0, 0.5]) + norm(x) + logsumexp(x) + maximum(x) - minimum(x) + softmax(x)[0] + mean(exp(x))",
		[]any{[]float64{0.3, -0.2, 0.9}, []float64{1, 2, 3}}, []any{[]float64{1, 0.5, -0.25}}},
	{"mat", "x: [2]f64", "let m = outer(x, [x[1], 2.0 * x[0]]) in sum(m @ x) + dot(x, x) * (m @ [1.0, -1.0])[1] + sum(transpose(m)[0] * x)",
		[]any{[]float64{0.5, -1.5}}, []any{[]float64{1, 1}, []float64{-0.5, 2}}},
	{"ctrl", "x: f64", `let y = if x > 0.0 then x * x else -x in
    let z = loop s = y for i < 4 do s * x + f64(i) in
    let w = loop (a, n) = (z, 0) while n < 3 do (sin(a) + x, n + 1) in
    sum(map(fn(e) => e * w.0, [1.0, x, x * x])) + reduce(fn(a, b) => a * b, 1.0, [x, 2.0, w.0])
      + fold(fn(a, b) => a * x + b, 0.0, [1.0, 2.0, 3.0]) + scan(fn(a, b) => a + b * x, 0.0, [1.0, x])[1]`,
		[]any{0.8, -0.6}, []any{1.0}},
	{"arrays", "x: [4]f64", `let y = update(x, 2, x[0] * x[3]) in
    sum(reverse(y)[1:3]) * y[2] + sum(concat(take(y, 2), drop(x, 3))) + sum(gather(y, [3, 3, 0]) * x[1])
      + sum(flatten([[y[0], y[1]], [y[2], exp(y[3])]])) + sum(reshape(y, 2, 2)[1]) + sum([y[i] * x[0] for i < 4])`,
		[]any{[]float64{0.5, -1, 2, 0.25}}, []any{[]float64{1, 0, -1, 2}}},
	{"tuple", "x: f64", "let t = (x * x, 3, [x, 1.0]) in let u = loop (a, b) = (t, 0.0) for i < t.1 do ((a.0 * x, a.1, a.2 * a.0), b + a.2[0]) in u.1 + u.0.0 + sum(u.0.2)",
		[]any{0.9}, []any{1.0, -1.0}},
}

func tyCrossSource() string {
	var src strings.Builder
	for _, c := range tyCrossFns {
		fmt.Fprintf(&src, "def %s(%s): f64 = %s\n", c.name, c.param, c.body)
		typ := strings.SplitN(c.param, ": ", 2)[1]
		fmt.Fprintf(&src, "def %s_t(x: %s, v: %s) = taylor(%s, x, v, 4)\n", c.name, typ, typ, c.name)
		fmt.Fprintf(&src, "def %s_j(x: %s, v: %s) = jvp(%s, x, v).1\n", c.name, typ, typ, c.name)
		fmt.Fprintf(&src, "def %s_jj(x: %s, v: %s) = jvp(fn(y: %s) => jvp(%s, y, v).1, x, v).1\n", c.name, typ, typ, typ, c.name)
	}
	return src.String()
}

// TestTaylorMatchesForwardMode: coefficient 0 is f(x), coefficient 1 the
// tangent of jvp and coefficient 2 half the second derivative from jvp of
// jvp, through every construct Taylor mode handles.
func TestTaylorMatchesForwardMode(t *testing.T) {
	p := compileTaylor(t, tyCrossSource())
	for _, c := range tyCrossFns {
		for _, x := range c.at {
			for _, v := range c.dir {
				s := tyFloats(t, p, c.name+"_t", x, v)
				what := fmt.Sprintf("%s at %v along %v", c.name, x, v)
				f := tyRun(t, p, c.name, x).(float64)
				d1 := tyRun(t, p, c.name+"_j", x, v).(float64)
				d2 := tyRun(t, p, c.name+"_jj", x, v).(float64)
				if !tyNear(s[0], f, 1e-12) {
					t.Errorf("%s: coefficient 0 = %.17g; f = %.17g", what, s[0], f)
				}
				if !tyNear(s[1], d1, 1e-10) {
					t.Errorf("%s: coefficient 1 = %.17g; jvp = %.17g", what, s[1], d1)
				}
				if !tyNear(s[2], d2/2, 1e-9) {
					t.Errorf("%s: coefficient 2 = %.17g; jvp of jvp / 2 = %.17g", what, s[2], d2/2)
				}
			}
		}
	}
}

// TestTaylorOfGradient: along x + t·v, the series of ⟨∇f, v⟩ is the
// derivative of the series of f: its coefficient j is (j+1)·c_{j+1}.
// Taylor mode here runs through the code reverse mode generates (state-
// saving loops, accumulators, recomputed map bodies) for every function
// of the cross-checks.
func TestTaylorOfGradient(t *testing.T) {
	var src strings.Builder
	src.WriteString(tyCrossSource())
	for _, c := range tyCrossFns {
		typ := strings.SplitN(c.param, ": ", 2)[1]
		dot := "g * v"
		if strings.HasPrefix(typ, "[") {
			dot = "dot(g, v)"
		}
		fmt.Fprintf(&src, "def %s_tg(x: %s, v: %s) = taylor(fn(y: %s) => let g = grad(%s)(y) in %s, x, v, 3)\n", c.name, typ, typ, typ, c.name, dot)
	}
	p := compileTaylor(t, src.String())
	for _, c := range tyCrossFns {
		for _, x := range c.at {
			for _, v := range c.dir {
				s := tyFloats(t, p, c.name+"_t", x, v)
				want := make([]float64, 4)
				for j := range want {
					want[j] = float64(j+1) * s[j+1]
				}
				tyCheck(t, fmt.Sprintf("taylor of the gradient of %s at %v along %v", c.name, x, v), tyFloats(t, p, c.name+"_tg", x, v), want, 1e-9)
			}
		}
	}
}

// TestTaylorThirdOrder checks coefficient 3 against three nested jvps on
// a few of the cross-check functions.
func TestTaylorThirdOrder(t *testing.T) {
	src := tyCrossSource()
	for _, name := range []string{"trig", "logs", "ctrl"} {
		src += fmt.Sprintf("def %s_jjj(x: f64, v: f64) = jvp(fn(y: f64) => jvp(fn(z: f64) => jvp(%s, z, v).1, y, v).1, x, v).1\n", name, name)
	}
	p := compileTaylor(t, src)
	for _, name := range []string{"trig", "logs", "ctrl"} {
		for _, x := range []float64{0.6, 0.9} {
			s := tyFloats(t, p, name+"_t", x, 1.0)
			d3 := tyRun(t, p, name+"_jjj", x, 1.0).(float64)
			if !tyNear(s[3], d3/6, 1e-9) {
				t.Errorf("%s at %g: coefficient 3 = %.17g; third derivative / 6 = %.17g", name, x, s[3], d3/6)
			}
		}
	}
}

// tyConstructs defines functions with control flow, higher-order
// primitives and calls (f) and the same functions written out (fOut).
const tyConstructs = `
def sq(x: f64): f64 = x * x
def twice(x: f64, c: f64): f64 = sq(x) * c + sq(c)
def withint(x: f64, n: i64): (f64, i64) = (x * f64(n), n + 1)

def loopPow(x: f64): f64 = loop y = 1.0 for i < 5 do y * x
def pow5(x: f64): f64 = x * x * x * x * x
def whilePow(x: f64): f64 = (loop (y, n) = (x, 0) while n < 3 do (sq(y), n + 1)).0
def pow8(x: f64): f64 = x^8.0
def branchy(x: f64): f64 = if x > 1.0 then exp(x) else if x > 0.0 then sin(x) else x * x
def calls(x: f64): f64 = twice(x, 2.0) + twice(3.0, x) + withint(x, 4).0 * f64(withint(x, 4).1)
def callsOut(x: f64): f64 = 2.0 * x * x + 4.0 + 9.0 * x + x * x + 20.0 * x
def mapped(x: f64): f64 = sum(map(fn(a) => exp(a * x) / a, [1.0, 2.0, 4.0]))
def mappedOut(x: f64): f64 = exp(x) + exp(2.0 * x) / 2.0 + exp(4.0 * x) / 4.0
def mapCall(x: f64): f64 = sum(map(sq, [x, 2.0 * x, 3.0])) + sum(map(fn(a, i) => a * f64(i), [x, x * x], [2, 3]))
def mapCallOut(x: f64): f64 = 5.0 * x * x + 9.0 + 2.0 * x + 3.0 * x * x
def built(x: f64): f64 = sum([x^f64(i) / f64(i + 1) for i < 4])
def builtOut(x: f64): f64 = 1.0 + x / 2.0 + x * x / 3.0 + x^3.0 / 4.0
def built2(x: f64): f64 = sum([if i == 1 then sin(x) else cos(x) for i < 3])
def built2Out(x: f64): f64 = sin(x) + 2.0 * cos(x)
def reduced(x: f64): f64 = reduce(fn(a, b) => a * b, 1.0, [x, x + 1.0, 2.0])
def reducedOut(x: f64): f64 = 2.0 * x * (x + 1.0)
def scanned(x: f64): f64 = sum(scan(fn(a, b) => a + b, 0.0, [x, sin(x), 1.0]))
def scannedOut(x: f64): f64 = 3.0 * x + 2.0 * sin(x) + 1.0
def folded(x: f64): f64 = fold(fn(a, b) => a * x + b, 1.0, [1.0, 2.0])
def foldedOut(x: f64): f64 = x * x + x + 2.0
def tuples(x: f64): f64 = let p = (x, (sin(x), 3)) in p.0 * p.1.0 + f64(p.1.1)
def tuplesOut(x: f64): f64 = x * sin(x) + 3.0
def zipped(x: f64): f64 = sum(map(fn(p) => p.0 * f64(p.1), zip([x, x * x], [2, 5])))
def zippedOut(x: f64): f64 = 2.0 * x + 5.0 * x * x
def unzipped(x: f64): f64 = let u = unzip([(x, 1), (sin(x), 2)]) in sum(u.0) * f64(u.1[1])
def unzippedOut(x: f64): f64 = 2.0 * (x + sin(x))
def stopped(x: f64): f64 = stop_gradient(x * x) * x + f64(i64(x * 10.0))
def stoppedOut(x: f64): f64 = 0.49 * x + 7.0
def kinks(x: f64): f64 = abs(x - 1.0) + relu(x) + max(x, 0.5) + min(x * x, x) + floor(x * 3.0) + x % 0.5 + sign(x)
def kinksOut(x: f64): f64 = 1.0 - x + x + x + x * x + 2.0 + (x - 0.5) + 1.0
`

// TestTaylorConstructs compares functions written with control flow,
// higher-order primitives and calls with the same functions written out,
// at order 6.
func TestTaylorConstructs(t *testing.T) {
	pairs := [][2]string{
		{"loopPow", "pow5"}, {"whilePow", "pow8"}, {"calls", "callsOut"}, {"mapped", "mappedOut"},
		{"mapCall", "mapCallOut"}, {"built", "builtOut"}, {"built2", "built2Out"}, {"reduced", "reducedOut"},
		{"scanned", "scannedOut"}, {"folded", "foldedOut"}, {"tuples", "tuplesOut"}, {"zipped", "zippedOut"},
		{"unzipped", "unzippedOut"}, {"stopped", "stoppedOut"}, {"kinks", "kinksOut"},
	}
	var src strings.Builder
	for _, pr := range append(pairs, [2]string{"branchy", "sq"}) {
		for _, n := range pr {
			fmt.Fprintf(&src, "def %s_t(x: f64) = taylor(%s, x, 1.0, 6)\n", n, n)
		}
	}
	p2 := compileTaylor(t, tyConstructs+src.String())
	for _, pr := range pairs {
		x := 0.7
		got := tyFloats(t, p2, pr[0]+"_t", x)
		want := tyFloats(t, p2, pr[1]+"_t", x)
		tyCheck(t, pr[0], got, want, 1e-11)
	}
	for _, x := range []float64{-0.5, 0.5, 1.5} {
		got := tyFloats(t, p2, "branchy_t", x)
		want := make([]float64, 7)
		for j := range want {
			switch {
			case x > 1:
				want[j] = math.Exp(x) / tyFactorial(j)
			case x > 0:
				want[j] = math.Sin(x+float64(j)*math.Pi/2) / tyFactorial(j)
			default:
				want = []float64{x * x, 2 * x, 1, 0, 0, 0, 0}
			}
		}
		tyCheck(t, fmt.Sprintf("branchy at %g", x), got, want, 1e-12)
	}
}

// TestTaylorNested: taylor of derivatives (reverse mode inside, with its
// accumulators and saved loops; forward mode inside).
func TestTaylorNested(t *testing.T) {
	p := compileTaylor(t, `
def f(x: f64): f64 = x^4.0 * sin(x)
def g(x: [2]f64): f64 = x[0] * x[0] * x[1] + sin(x[1]) + sum([x[i] * x[i] for i < 2])
def lp(x: [2]f64): f64 = loop s = 0.0 for i < 3 do s * x[0] + x[1] * f64(i)
def tgrad(x: f64) = taylor(grad(f), x, 1.0, 5)
def tjvp(x: f64) = taylor(fn(y) => jvp(f, y, 1.0).1, x, 1.0, 5)
def tgradv(x: [2]f64, v: [2]f64) = taylor(grad(g), x, v, 3)
def tgradl(x: [2]f64, v: [2]f64) = taylor(grad(lp), x, v, 3)
def tjac(x: [2]f64, v: [2]f64) = taylor(fn(y: [2]f64) => jacfwd(grad(g))(y)[0], x, v, 3)
def d5(x: f64): f64 = 20.0 * x^3.0 * sin(x) + 5.0 * x^4.0 * cos(x)
`)
	// f' = 4x³ sin x + x⁴ cos x; its series by taylor of the hand-written
	// derivative is checked through coefficient relations: c_j(f') =
	// (j+1) c_{j+1}(f).
	src := "def f(x: f64): f64 = x^4.0 * sin(x)\ndef tf(x: f64) = taylor(f, x, 1.0, 6)\n"
	q := compileTaylor(t, src)
	for _, x := range []float64{0.3, -1.1} {
		tf := tyFloats(t, q, "tf", x)
		want := make([]float64, 6)
		for j := range want {
			want[j] = float64(j+1) * tf[j+1]
		}
		tyCheck(t, fmt.Sprintf("taylor of grad at %g", x), tyFloats(t, p, "tgrad", x), want, 1e-11)
		tyCheck(t, fmt.Sprintf("taylor of jvp at %g", x), tyFloats(t, p, "tjvp", x), want, 1e-11)
	}
	// grad(g) = [2 x0 x1 + 2 x0, x0² + cos(x1) + 2 x1] along (1,2) + t(0.5,-1).
	got := tyMatrix(t, p, "tgradv", []float64{1, 2}, []float64{0.5, -1})
	x0, x1, v0, v1 := 1.0, 2.0, 0.5, -1.0
	c, s := math.Cos(x1), math.Sin(x1)
	want := [][]float64{
		{2*x0*x1 + 2*x0, x0*x0 + c + 2*x1},
		{2*(v0*x1+x0*v1) + 2*v0, 2*x0*v0 - s*v1 + 2*v1},
		{2 * v0 * v1, v0*v0 - c*v1*v1/2},
		{0, s * v1 * v1 * v1 / 6},
	}
	for j := range want {
		tyCheck(t, fmt.Sprintf("taylor of a gradient, coefficient %d", j), got[j], want[j], 1e-12)
	}
	// The first row of the Hessian of g: [2 x1 + 2, 2 x0].
	jac := tyMatrix(t, p, "tjac", []float64{1, 2}, []float64{0.5, -1})
	wantJ := [][]float64{{2*x1 + 2, 2 * x0}, {2 * v1, 2 * v0}, {0, 0}, {0, 0}}
	for j := range wantJ {
		tyCheck(t, fmt.Sprintf("taylor of a Jacobian, coefficient %d", j), jac[j], wantJ[j], 1e-12)
	}
	// lp = x1·(x0 + 2): gradient [x1, x0 + 2].
	gl := tyMatrix(t, p, "tgradl", []float64{1, 2}, []float64{0.5, -1})
	wantL := [][]float64{{2, 3}, {-1, 0.5}, {0, 0}, {0, 0}}
	for j := range wantL {
		tyCheck(t, fmt.Sprintf("taylor of a gradient through a loop, coefficient %d", j), gl[j], wantL[j], 1e-12)
	}
}

// TestTaylorInactive: functions that do not depend on their input, and
// i64 or bool results, have constant series.
func TestTaylorInactive(t *testing.T) {
	p := compileTaylor(t, `
def c(x: f64): f64 = 2.5
def ci(x: f64): i64 = i64(x * 3.0)
def mixed(x: f64, n: i64): f64 = x * f64(n)
def tc(x: f64) = taylor(c, x, 1.0, 3)
def tci(x: f64) = taylor(ci, x, 1.0, 3)
def tm(x: f64) = taylor(mixed, (x, 3), (1.0, 0), 2)
def tl(x: f64, c: f64) = taylor(fn(y) => c * y + exp(c), x, 1.0, 2)
def tk0(x: f64) = taylor(sin, x, 1.0, 0)
`)
	tyCheck(t, "constant", tyFloats(t, p, "tc", 1.0), []float64{2.5, 0, 0, 0}, 0)
	if got := fmt.Sprint(tyRun(t, p, "tci", 1.0)); got != "[3 0 0 0]" {
		t.Errorf("i64 result: %s; want [3 0 0 0]", got)
	}
	tyCheck(t, "i64 parameter", tyFloats(t, p, "tm", 2.0), []float64{6, 3, 0}, 0)
	tyCheck(t, "closure", tyFloats(t, p, "tl", 2.0, 3.0), []float64{6 + math.Exp(3), 3, 0}, 1e-15)
	tyCheck(t, "order 0", tyFloats(t, p, "tk0", 2.0), []float64{math.Sin(2)}, 0)
}

// TestTaylorStructures: tuple parameters and results, arrays of tuples,
// while loops on the primal, results without f64. (A def with only a
// @vjp rule has no Taylor mode: TestVJPOnlyHasNoForwardMode.)
func TestTaylorStructures(t *testing.T) {
	p := compileTaylor(t, `
def f(p: (f64, f64)): f64 = p.0 * exp(p.1)
def tf(x: f64, y: f64) = taylor(f, (x, y), (1.0, 2.0), 3)
def newton(x: f64): f64 = loop y = x while abs(y * y - x) > 1e-14 do 0.5 * (y + x / y)
def tn(x: f64) = taylor(newton, x, 1.0, 4)
def ts(x: f64) = taylor(sqrt, x, 1.0, 4)
def arrt(x: f64): f64 = let a = [(x, 1), (2.0 * x, 2)] in let b = update(a, 0, (x * x, 5)) in b[0].0 * f64(b[0].1) + b[1].0
def tarrt(x: f64) = taylor(arrt, x, 1.0, 2)
def mt(x: [2]f64): [2](f64, i64) = map(fn(a) => (a * a, 1), x)
def tmt(x: [2]f64) = taylor(fn(y: [2]f64) => let m = mt(y) in m[0].0 * f64(m[1].1) + m[1].0, x, [1.0, 1.0], 2)
def rt(x: [3]f64): (f64, f64) = reduce(fn(a, b) => (a.0 + b.0, a.1 * b.1), (0.0, 1.0), zip(x, x))
def trt(x: [3]f64) = taylor(fn(y: [3]f64) => rt(y).1, x, [1.0, 1.0, 1.0], 2)
def pair(x: f64): (f64, [2]f64) = (x * x, [x, 1.0])
def tpair(x: f64) = taylor(pair, x, 1.0, 2)
def sc(x: [3]f64): [3](f64, f64) = scan(fn(a, b) => (a.0 + b.0, a.1 * b.1), (0.0, 1.0), zip(x, x))
def tsc(x: [3]f64) = taylor(fn(y: [3]f64) => let s = sc(y) in s[2].1 + s[1].0, x, [1.0, 1.0, 1.0], 2)
`)
	e := math.Exp(0.5)
	// x·exp(y) along (2 + t, 0.5 + 2t): e^0.5·(2 + t)·e^(2t).
	want := make([]float64, 4)
	for j := range want {
		want[j] = e * (2*math.Pow(2, float64(j))/tyFactorial(j) + func() float64 {
			if j == 0 {
				return 0
			}
			return math.Pow(2, float64(j-1)) / tyFactorial(j-1)
		}())
	}
	tyCheck(t, "tuple parameter", tyFloats(t, p, "tf", 2.0, 0.5), want, 1e-12)
	tyCheck(t, "Newton's square root", tyFloats(t, p, "tn", 2.0), tyFloats(t, p, "ts", 2.0), 1e-12)
	tyCheck(t, "array of tuples", tyFloats(t, p, "tarrt", 3.0), []float64{51, 32, 5}, 0)
	tyCheck(t, "map to tuples", tyFloats(t, p, "tmt", []float64{1, 2}), []float64{5, 6, 2}, 0)
	tyCheck(t, "reduce on tuples", tyFloats(t, p, "trt", []float64{1, 2, 3}), []float64{6, 11, 6}, 0)
	tyCheck(t, "scan on tuples", tyFloats(t, p, "tsc", []float64{1, 2, 3}), []float64{9, 13, 6}, 0)
	got := fmt.Sprint(tyRun(t, p, "tpair", 3.0))
	if got != "[[9 [3 1]] [6 [1 0]] [1 [0 0]]]" {
		t.Errorf("tuple result: %s", got)
	}
}

// TestTaylorStdlib runs taylor through std/linalg's Gaussian elimination, lu_solve
// (comprehensions, update, argmax pivoting, loops).
func TestTaylorStdlib(t *testing.T) {
	p := compileTaylor(t, `
import "std/linalg"
def sol(s: f64): [2]f64 = linalg.lu_solve([[2.0 + s, 1.0], [1.0, 3.0 * s]], [1.0, s * s])
def ts(x: f64) = taylor(sol, x, 1.0, 4)
`)
	// The solution of [[2+s, 1], [1, 3s]] y = [1, s²] is
	// y = [3s - s², (2+s)s² - 1] / (3s(2+s) - 1).
	x := 0.5
	got := tyMatrix(t, p, "ts", x)
	q := compileTaylor(t, `
def y0(s: f64): f64 = (3.0 * s - s * s) / (3.0 * s * (2.0 + s) - 1.0)
def y1(s: f64): f64 = ((2.0 + s) * s * s - 1.0) / (3.0 * s * (2.0 + s) - 1.0)
def t0(x: f64) = taylor(y0, x, 1.0, 4)
def t1(x: f64) = taylor(y1, x, 1.0, 4)
`)
	w0, w1 := tyFloats(t, q, "t0", x), tyFloats(t, q, "t1", x)
	for j := range got {
		tyCheck(t, fmt.Sprintf("solve, coefficient %d", j), got[j], []float64{w0[j], w1[j]}, 1e-10)
	}
}

// TestSeriesPrimitivesHyperdual checks order 2 of every smooth unary
// primitive against gonum's hyperdual numbers: coefficient 1 is the
// first derivative, coefficient 2 half the second.
func TestSeriesPrimitivesHyperdual(t *testing.T) {
	type hd = hyperdual.Number
	cases := []struct {
		name string
		f    func(hd) hd
		at   []float64
	}{
		{"exp", hyperdual.Exp, []float64{-1, 0.5, 2}},
		{"log", hyperdual.Log, []float64{0.2, 1, 3}},
		{"sqrt", hyperdual.Sqrt, []float64{0.2, 1, 3}},
		{"sin", hyperdual.Sin, []float64{-1, 0.5, 2}},
		{"cos", hyperdual.Cos, []float64{-1, 0.5, 2}},
		{"tan", hyperdual.Tan, []float64{-1, 0.5, 1.2}},
		{"sinh", hyperdual.Sinh, []float64{-1, 0.5, 2}},
		{"cosh", hyperdual.Cosh, []float64{-1, 0.5, 2}},
		{"tanh", hyperdual.Tanh, []float64{-1, 0.5, 2}},
		{"asin", hyperdual.Asin, []float64{-0.7, 0.1, 0.9}},
		{"acos", hyperdual.Acos, []float64{-0.7, 0.1, 0.9}},
		{"atan", hyperdual.Atan, []float64{-3, 0.1, 0.9}},
		{"cube", func(x hd) hd { return hyperdual.PowReal(x, 3) }, []float64{-2, 0.5, 3}},
		{"pow07", func(x hd) hd { return hyperdual.PowReal(x, 0.7) }, []float64{0.2, 0.5, 3}},
		{"recip", hyperdual.Inv, []float64{-2, 0.5, 3}},
	}
	var src strings.Builder
	for _, c := range cases {
		body := c.name + "(x)"
		switch c.name {
		case "cube":
			body = "x ^ 3.0"
		case "pow07":
			body = "x ^ 0.7"
		case "recip":
			body = "1.0 / x"
		}
		fmt.Fprintf(&src, "def t_%s(x: f64) = taylor(fn(x) => %s, x, 1.0, 2)\n", c.name, body)
	}
	p := compileTaylor(t, src.String())
	for _, c := range cases {
		for _, x := range c.at {
			h := c.f(hd{Real: x, E1mag: 1, E2mag: 1})
			tyCheck(t, fmt.Sprintf("%s at %g", c.name, x), tyFloats(t, p, "t_"+c.name, x), []float64{h.Real, h.E1mag, h.E1E2mag / 2}, 1e-12)
		}
	}
}

// TestSeriesPrimitivesIdentities checks every series primitive at order 9
// against an identity computed with other series primitives (or the
// derivative's series, for erf).
func TestSeriesPrimitivesIdentities(t *testing.T) {
	pairs := []struct {
		a, b string
		at   []float64
	}{
		{"sin(asin(x))", "x", []float64{-0.6, 0.3}},
		{"cos(acos(x))", "x", []float64{-0.6, 0.3}},
		{"tan(atan(x))", "x", []float64{-2, 0.3}},
		{"exp(log(x))", "x", []float64{0.4, 2.5}},
		{"sqrt(x) * sqrt(x)", "x", []float64{0.4, 2.5}},
		{"tan(x)", "sin(x) / cos(x)", []float64{-1, 0.4}},
		{"tanh(x)", "sinh(x) / cosh(x)", []float64{-1, 0.4}},
		{"sinh(x)", "(exp(x) - exp(-x)) / 2.0", []float64{-1, 0.4}},
		{"cosh(x)", "(exp(x) + exp(-x)) / 2.0", []float64{-1, 0.4}},
		{"log1p(x)", "log(1.0 + x)", []float64{-0.5, 0.4, 3}},
		{"expm1(x)", "exp(x) - 1.0", []float64{-0.5, 0.4}},
		{"sigmoid(x)", "1.0 / (1.0 + exp(-x))", []float64{-3, 0.4, 5}},
		{"softplus(x)", "log(1.0 + exp(x))", []float64{-3, 0.4, 5}},
		{"asin(x) + acos(x)", "pi / 2.0", []float64{-0.6, 0.3}},
		{"atan2(x, 2.0)", "atan(x / 2.0)", []float64{-1, 0.7}},
		{"atan2(3.0, x)", "atan(3.0 / x)", []float64{0.5, 2}},
		{"atan2(x * x, x + 2.0)", "atan(x * x / (x + 2.0))", []float64{0.5, 2}},
		{"x ^ 3.5", "exp(3.5 * log(x))", []float64{0.5, 2}},
		{"x ^ -2.0", "1.0 / (x * x)", []float64{-1.5, 0.5}},
		{"(-x) ^ 3.0", "-x * x * x", []float64{-1.5, 0.5}},
		{"x ^ x", "exp(x * log(x))", []float64{0.5, 2}},
		{"2.0 ^ x", "exp(x * log(2.0))", []float64{-0.5, 2}},
		{"(x + 1.0) ^ (x * 0.0 + 2.0)", "(x + 1.0) * (x + 1.0)", []float64{-3, 0.5}},
		{"x * x / x", "x", []float64{-3, 0.5}},
		{"(x * x + 1.0) / (x - 3.0)", "x + 3.0 + 10.0 / (x - 3.0)", []float64{-1, 0.5}},
		{"x % 0.75", "x - 0.75 * f64(i64(x / 0.75))", []float64{-1.9, 0.5, 2}},
		{"(x * x) % x", "x * x - x * f64(i64(x))", []float64{1.5, 2.5}},
		{"abs(x * x - 1.0)", "sign(x * x - 1.0) * (x * x - 1.0)", []float64{-2, 0.5}},
		{"relu(sin(x))", "if sin(x) > 0.0 then sin(x) else 0.0", []float64{-2, 0.5}},
		{"max(x, x * x)", "if x * x > x then x * x else x", []float64{-2, 0.5, 2}},
		{"min(x, x * x)", "if x * x < x then x * x else x", []float64{-2, 0.5, 2}},
		{"max(x, 0.5)", "if 0.5 > x then 0.5 else x", []float64{-2, 2}},
		{"min(1.0, x)", "if x < 1.0 then x else 1.0", []float64{-2, 2}},
	}
	var src strings.Builder
	for i, pr := range pairs {
		fmt.Fprintf(&src, "def a%d(x: f64) = taylor(fn(x) => %s, x, 1.0, 9)\n", i, pr.a)
		fmt.Fprintf(&src, "def b%d(x: f64) = taylor(fn(x) => %s, x, 1.0, 9)\n", i, pr.b)
	}
	src.WriteString(`
def erf9(x: f64) = taylor(erf, x, 1.0, 9)
def derf8(x: f64) = taylor(fn(y) => 2.0 / sqrt(pi) * exp(-y * y), x, 1.0, 8)
`)
	p := compileTaylor(t, src.String())
	for i, pr := range pairs {
		for _, x := range pr.at {
			tyCheck(t, fmt.Sprintf("%s vs %s at %g", pr.a, pr.b, x), tyFloats(t, p, fmt.Sprintf("a%d", i), x), tyFloats(t, p, fmt.Sprintf("b%d", i), x), 1e-10)
		}
	}
	for _, x := range []float64{-0.8, 0.3} {
		e, d := tyFloats(t, p, "erf9", x), tyFloats(t, p, "derf8", x)
		want := []float64{math.Erf(x)}
		for j := 1; j < len(e); j++ {
			want = append(want, d[j-1]/float64(j))
		}
		tyCheck(t, fmt.Sprintf("erf at %g", x), e, want, 1e-12)
	}
}

// TestTaylorPowerAtZero: x^r where x(0) = 0 factors out tᵛ; coefficients
// that do not exist (fractional powers) are NaN, never a wrong number.
func TestTaylorPowerAtZero(t *testing.T) {
	p := compileTaylor(t, `
def sq(x: f64) = taylor(fn(y) => y ^ 2.0, x, 1.0, 4)
def cube(x: f64) = taylor(fn(y) => y ^ 3.0, x, 2.0, 4)
def half(x: f64) = taylor(fn(y) => (y * y) ^ 1.5, x, 1.0, 4)
def frac(x: f64) = taylor(fn(y) => y ^ 2.5, x, 1.0, 4)
def neg(x: f64) = taylor(fn(y) => y ^ -1.0, x, 1.0, 2)
def zero(x: f64) = taylor(fn(y) => (y * 0.0) ^ 2.0, x, 1.0, 2)
`)
	nan := math.NaN()
	tyCheck(t, "x²", tyFloats(t, p, "sq", 0.0), []float64{0, 0, 1, 0, 0}, 0)
	tyCheck(t, "x³", tyFloats(t, p, "cube", 0.0), []float64{0, 0, 0, 8, 0}, 0)
	tyCheck(t, "(x²)^1.5", tyFloats(t, p, "half", 0.0), []float64{0, 0, 0, 1, 0}, 0)
	tyCheck(t, "x^2.5", tyFloats(t, p, "frac", 0.0), []float64{0, 0, 0, nan, nan}, 0)
	tyCheck(t, "x^-1", tyFloats(t, p, "neg", 0.0), []float64{math.Inf(1), nan, nan}, 0)
	tyCheck(t, "0^2", tyFloats(t, p, "zero", 0.0), []float64{0, 0, 0}, 0)
}

// TestTaylorErrors: what Taylor mode cannot do is a positioned error.
func TestTaylorErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`def g(x: f64, dx: f64) = (f(x), f(2.0 * x) * dx)
@jvp(g)
def f(x: f64): f64 = x
def t(x: f64) = taylor(f, x, 1.0, 3)
`, "t.nab:1:33: Taylor mode: the @jvp rule g calls f at another point"},
		{`def fake(x: f64, ybar: f64): f64 = ybar
@vjp(fake)
def f(x: f64): f64 = x
def t(x: f64) = taylor(fn(y) => taylor(f, y, 1.0, 2)[1], x, 1.0, 3)
`, "t.nab:4:33: taylor: Taylor mode of f"},
	}
	for _, c := range cases {
		p, err := lang.Load("t.nab", []byte(c.src), lang.Options{})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		_, err = ad.Expand(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Expand(%q) = %v; want an error containing %q", c.src, err, c.want)
		}
	}
}
