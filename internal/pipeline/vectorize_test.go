package pipeline_test

// Tests of the ad stage's vectorization of element-wise comprehensions
// (rewrite/vectorize.go): which comprehensions each rule rewrites and
// which it must leave, and, by running every case compiled with and
// without it on random inputs of sizes 0, 1 and more, that it changes no
// value (bit for bit, or within 1e-12 where a kernel adds in another
// order) and no error (the same message at the same position).

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// vecCase is a program whose def f is called on arguments made from
// args, one spec per parameter: "s" an f64, "n" a vector of n f64, "m,n"
// a matrix, "I n" a vector of i64, "i:n" the i64 n. The sizes n, m, ...
// are drawn per run; fixed adds runs with given sizes.
type vecCase struct {
	name  string
	src   string
	args  []string
	rules []string         // the vectorize steps the compilation makes, in order
	exact bool             // the values are the same bits (else within 1e-12)
	fixed []map[string]int // sizes run besides the random ones
}

var vecCases = []vecCase{
	{name: "sub", src: `def f(a: [n]f64, b: [n]f64): [n]f64 = [a[i] - b[i] for i < n]`,
		args: []string{"n", "n"}, rules: []string{"build_map"}, exact: true},
	{name: "scalar operand and functions", src: `def f(a: [n]f64, s: f64): [n]f64 = [exp(a[i]) * s + sin(a[i]) / 3.0 for i < n]`,
		args: []string{"n", "s"}, rules: []string{"build_map"}, exact: true},
	{name: "identity", src: `def f(a: [n]f64): [n]f64 = [a[i] for i < n]`,
		args: []string{"n"}, rules: []string{"build_map"}, exact: true},
	{name: "let in the body", src: `def f(a: [n]f64, b: [n]f64): [n]f64 = [let t = a[i] * b[i] in t * t + t for i < n]`,
		args: []string{"n", "n"}, rules: []string{"build_map"}, exact: true},
	// sum(a ^ 2) becomes dot(a, a) after AD (lower), which adds in
	// another order than the sum of the comprehension.
	{name: "square", src: `def f(a: [n]f64): f64 = sum([a[i] * a[i] for i < n])`,
		args: []string{"n"}, rules: []string{"build_map"}},
	{name: "square elements", src: `def f(a: [n]f64): [n]f64 = [a[i] * a[i] for i < n]`,
		args: []string{"n"}, rules: []string{"build_map"}, exact: true},
	{name: "row of a matrix by an outer index", src: `def f(a: [m][n]f64, b: [n]f64): [m][n]f64 = [[a[r][c] * b[c] for c < n] for r < m]`,
		args: []string{"m,n", "n"}, rules: []string{"build_map"}, exact: true},
	{name: "constant size", src: `def f(a: [3]f64, b: [3]f64): [3]f64 = [a[i] + b[i] for i < 3]`,
		args: []string{"3", "3"}, rules: []string{"build_map"}, exact: true},
	{name: "matvec by sum", src: `def f(a: [m][n]f64, v: [n]f64): [m]f64 = [sum([a[r][c] * v[c] for c < n]) for r < m]`,
		args: []string{"m,n", "n"}, rules: []string{"build_map", "build_matvec"}},
	{name: "matvec by dot", src: `def f(a: [m][n]f64, v: [n]f64): [m]f64 = [dot(v, a[r]) for r < m]`,
		args: []string{"m,n", "n"}, rules: []string{"build_matvec"}},
	{name: "matvec of a call's declared sizes", src: `
def q(v: [p]f64, d: i64): [d][d]f64 = [v[(r + c) % p] for r < d, c < d]
def f(v: [p]f64, x: [n]f64): [n]f64 =
  let a = q(v, n)
  in [sum([a[r][c] * x[c] for c < n]) for r < n]`,
		args: []string{"p", "n"}, rules: []string{"build_map", "build_matvec"}},

	// Left as written.
	{name: "sizes differ", src: `def f(a: [n]f64, b: [m]f64): [n]f64 = [a[i] - b[i] for i < n]`,
		args: []string{"n", "m"}, exact: true},
	{name: "row longer than the count", src: `def f(a: [p]f64, b: [d]f64): [d]f64 = [a[i] + b[i] for i < d]`,
		args: []string{"p", "d"}, exact: true},
	{name: "count not a size", src: `def f(a: [n]f64, k: i64) = [a[i] for i < k]`,
		args: []string{"n", "i:k"}, exact: true},
	{name: "operand index may be out of range", src: `def f(a: [n]f64, b: [m]f64, j: i64): [n]f64 = [a[i] * b[j] for i < n]`,
		args: []string{"n", "m", "i:j"}, exact: true, fixed: []map[string]int{{"n": 0, "m": 2, "j": 5}, {"n": 3, "m": 2, "j": 5}}},
	{name: "body mentions the index", src: `def f(a: [n]f64): [n]f64 = [a[i] * f64(i) for i < n]`,
		args: []string{"n"}, exact: true},
	{name: "index by another variable", src: `def f(a: [n][m]f64, j: i64): [m]f64 = [a[j][i] for i < m]`,
		args: []string{"n,m", "i:j"}, exact: true},
	{name: "diagonal", src: `def f(a: [n][n]f64): [n]f64 = [a[i][i] for i < n]`,
		args: []string{"n,n"}, exact: true},
	{name: "i64", src: `def f(a: [n]i64, b: [n]i64): [n]i64 = [a[i] + b[i] for i < n]`,
		args: []string{"I n", "I n"}, exact: true},
	{name: "i64 division in a scalar operand", src: `def f(a: [n]f64, k: i64, j: i64): [n]f64 = [a[i] * f64(k / j) for i < n]`,
		args: []string{"n", "i:k", "i:j"}, exact: true, fixed: []map[string]int{{"n": 0, "k": 1, "j": 0}, {"n": 2, "k": 1, "j": 0}}},
	{name: "if in the body", src: `def f(a: [n]f64): [n]f64 = [if a[i] > 0.0 then a[i] else 0.0 for i < n]`,
		args: []string{"n"}, exact: true},
	{name: "own strategy", src: "@strategy(default)\ndef f(a: [n]f64, b: [n]f64): [n]f64 = [a[i] - b[i] for i < n]",
		args: []string{"n", "n"}, exact: true},
	{name: "matvec sizes differ", src: `def f(a: [m][n]f64, v: [k]f64): [m]f64 = [dot(a[r], v) for r < m]`,
		args: []string{"m,n", "k"}, exact: true},
	{name: "matvec rows differ", src: `def f(a: [m][n]f64, v: [n]f64, k: i64) = [dot(a[r], v) for r < k]`,
		args: []string{"m,n", "n", "i:k"}, exact: true},
	{name: "matvec row by the index of another build", src: `def f(a: [m][n]f64, v: [n]f64): [m][m]f64 = [[dot(a[r], v) for c < m] for r < m]`,
		args: []string{"m,n", "n"}, exact: true},
}

// sizes draws a size for each name in specs.
func sizes(r *rand.Rand, specs []string) map[string]int {
	sz := map[string]int{}
	for _, s := range specs {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "I "), "i:")
		for _, name := range strings.Split(s, ",") {
			if _, err := strconv.Atoi(name); err != nil && name != "s" {
				sz[name] = []int{0, 1, 2, 5}[r.IntN(4)]
			}
		}
	}
	return sz
}

// makeArgs makes f's arguments from specs and sizes.
func makeArgs(r *rand.Rand, specs []string, sz map[string]int) []runtime.Value {
	size := func(name string) int {
		if n, err := strconv.Atoi(name); err == nil {
			return n
		}
		return sz[name]
	}
	var out []runtime.Value
	for _, s := range specs {
		switch {
		case s == "s":
			out = append(out, runtime.F64(r.NormFloat64()))
		case strings.HasPrefix(s, "i:"):
			out = append(out, runtime.I64(int64(size(s[2:]))))
		case strings.HasPrefix(s, "I "):
			n := size(s[2:])
			a := &runtime.Array{Shape: []int{n}, Kind: runtime.ElemI64, I: make([]int64, n)}
			for k := range a.I {
				a.I[k] = r.Int64N(2001) - 1000
			}
			out = append(out, runtime.Arr(a))
		default:
			var shape []int
			total := 1
			for _, name := range strings.Split(s, ",") {
				shape = append(shape, size(name))
				total *= size(name)
			}
			a := &runtime.Array{Shape: shape, Kind: runtime.ElemF64, F: make([]float64, total)}
			for k := range a.F {
				a.F[k] = r.NormFloat64()
			}
			out = append(out, runtime.Arr(a))
		}
	}
	return out
}

// compileVec compiles src with or without vectorization and returns its
// runner and the names of the vectorize steps.
func compileVec(t *testing.T, name, src string, vectorize bool) (pipeline.Runner, []string) {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), name, []byte(src), pipeline.Options{Trace: true, NoVectorize: !vectorize})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var steps []string
	for _, s := range res.Trace.Steps {
		if r, ok := strings.CutPrefix(s.Name, "vectorize."); ok {
			steps = append(steps, r)
		}
	}
	run, err := pipeline.Interp.Load(context.Background(), res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	return run, steps
}

// flatValue lists the numbers of v, and its shape, as the bits of f64s
// (integers and sizes converted), so that tolerances apply to values and
// never let a size or an integer differ.
func flatValue(v runtime.Value) []uint64 {
	switch {
	case v.Array() != nil:
		a := v.Array()
		var out []uint64
		for _, f := range a.F {
			out = append(out, math.Float64bits(f))
		}
		for _, i := range a.I {
			out = append(out, math.Float64bits(float64(i)))
		}
		for _, b := range a.Box {
			out = append(out, flatValue(b)...)
		}
		for _, n := range a.Shape {
			out = append(out, math.Float64bits(float64(n)))
		}
		return out
	case v.Tuple() != nil:
		var out []uint64
		for _, x := range v.Tuple() {
			out = append(out, flatValue(x)...)
		}
		return out
	}
	return []uint64{math.Float64bits(v.F), math.Float64bits(float64(v.I))}
}

// floats reads flattened bits back as f64s, for messages.
func floats(bits []uint64) []float64 {
	out := make([]float64, len(bits))
	for k, b := range bits {
		out[k] = math.Float64frombits(b)
	}
	return out
}

// closeBits reports whether two flattened values are within rel of each
// other, read as f64s (shapes and integers compare exactly as f64s too).
func closeBits(a, b []uint64, rel float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		x, y := math.Float64frombits(a[k]), math.Float64frombits(b[k])
		if a[k] != b[k] && !(math.Abs(x-y) <= rel*math.Max(math.Abs(x), math.Abs(y))) {
			return false
		}
	}
	return true
}

func TestVectorizeRules(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 9))
	ctx := context.Background()
	for _, c := range vecCases {
		t.Run(c.name, func(t *testing.T) {
			vec, steps := compileVec(t, "v.nab", c.src, true)
			ref, none := compileVec(t, "v.nab", c.src, false)
			if len(none) != 0 {
				t.Fatalf("vectorize steps %v with NoVectorize", none)
			}
			if !slices.Equal(steps, c.rules) {
				t.Errorf("vectorize steps %v, want %v", steps, c.rules)
			}
			runs := c.fixed
			for range 12 {
				runs = append(runs, sizes(r, c.args))
			}
			for _, sz := range runs {
				args := makeArgs(r, c.args, sz)
				got, gerr := vec.Call(ctx, "f", args, runtime.Limits{})
				want, werr := ref.Call(ctx, "f", args, runtime.Limits{})
				if fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Fatalf("sizes %v: error %v, without vectorization %v", sz, gerr, werr)
				}
				if gerr != nil {
					continue
				}
				g, w := flatValue(got), flatValue(want)
				if c.exact && !slices.Equal(g, w) || !closeBits(g, w, 1e-12) {
					t.Fatalf("sizes %v: %v, without vectorization %v", sz, floats(g), floats(w))
				}
			}
		})
	}
}

// TestVectorizeErrors checks programs that fail: vectorized or not, the
// same positioned message (the comprehensions around the failing part
// are left as written, or the failure comes before them).
func TestVectorizeErrors(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		src  string
		args []string
		sz   map[string]int
		want string // a part of the message
	}{
		{"operand shorter", `def f(a: [n]f64, b: [m]f64): [n]f64 = [a[i] - b[i] for i < n]`,
			[]string{"n", "m"}, map[string]int{"n": 3, "m": 2}, "v.nab:1:"},
		{"row shorter than the count", `def f(a: [p]f64, b: [d]f64): [d]f64 = [a[i] + b[i] for i < d]`,
			[]string{"p", "d"}, map[string]int{"p": 1, "d": 3}, "v.nab:1:"},
		{"matvec sizes differ", `def f(a: [m][n]f64, v: [k]f64): [m]f64 = [dot(a[r], v) for r < m]`,
			[]string{"m,n", "k"}, map[string]int{"m": 2, "n": 3, "k": 2}, "v.nab:1:"},
		{"scalar operand out of range", `def f(a: [n]f64, b: [m]f64, j: i64): [n]f64 = [a[i] * b[j] for i < n]`,
			[]string{"n", "m", "i:j"}, map[string]int{"n": 2, "m": 2, "j": 7}, "v.nab:1:"},
		{"i64 division by zero", `def f(a: [n]f64, k: i64, j: i64): [n]f64 = [a[i] * f64(k / j) for i < n]`,
			[]string{"n", "i:k", "i:j"}, map[string]int{"n": 2, "k": 1, "j": 0}, "v.nab:1:"},
		{"call's declared size", `
def q(v: [p]f64, d: i64): [d][d]f64 = [v[r] for r < d, c < p]
def f(v: [p]f64, x: [n]f64): [n]f64 =
  let a = q(v, n)
  in [sum([a[r][c] * x[c] for c < n]) for r < n]`,
			[]string{"p", "n"}, map[string]int{"p": 3, "n": 2}, "v.nab:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			vec, _ := compileVec(t, "v.nab", c.src, true)
			ref, _ := compileVec(t, "v.nab", c.src, false)
			args := makeArgs(r, c.args, c.sz)
			_, gerr := vec.Call(ctx, "f", args, runtime.Limits{})
			_, werr := ref.Call(ctx, "f", args, runtime.Limits{})
			if werr == nil || !strings.Contains(werr.Error(), c.want) {
				t.Fatalf("without vectorization: error %v, want one with %q", werr, c.want)
			}
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("error %v, without vectorization %v", gerr, werr)
			}
		})
	}
}

// TestVectorizeGMM checks the element-wise GMM of nablabench's adbench
// (cmd/nablabench/gmm_elem.nab, with gmm.nab's helpers): vectorized, its
// value and gradient are within 1e-12 of gmm.nab's array GMM and of
// itself left element-wise, and its vjp differentiates the array form.
func TestVectorizeGMM(t *testing.T) {
	vecSrc, err := os.ReadFile("../../tests/testdata/gmm.nab")
	if err != nil {
		t.Fatal(err)
	}
	elemSrc, err := os.ReadFile("../../cmd/nablabench/gmm_elem.nab")
	if err != nil {
		t.Fatal(err)
	}
	src := string(vecSrc) + string(elemSrc)
	vec, steps := compileVec(t, "gmm.nab", src, true)
	ref, _ := compileVec(t, "gmm.nab", src, false)
	// diff, the product row by row, the matrix-vector product, qd^2.
	if want := []string{"build_map", "build_map", "build_matvec", "build_map"}; !slices.Equal(steps, want) {
		t.Errorf("vectorize steps %v, want %v", steps, want)
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []map[string]int{{"k": 3, "d": 2, "n": 7}, {"k": 2, "d": 4, "n": 5}, {"k": 1, "d": 1, "n": 1}} {
		d := sz["d"]
		sz["p"] = d * (d + 1) / 2
		sz["m"] = 1
		args := makeArgs(r, []string{"k", "k,d", "k,p", "n,d", "s", "i:m"}, sz)
		args[4] = runtime.F64(1 + r.Float64())
		for _, pair := range [][3]string{{"gmm_elem", "gmm", ""}, {"gmm_elem_grad", "gmm_grad", ""}} {
			got, err := vec.Call(ctx, pair[0], args, runtime.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			arr, err := vec.Call(ctx, pair[1], args, runtime.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			elem, err := ref.Call(ctx, pair[0], args, runtime.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !closeBits(flatValue(got), flatValue(arr), 1e-12) {
				t.Errorf("sizes %v: %s %v, %s %v", sz, pair[0], floats(flatValue(got)), pair[1], floats(flatValue(arr)))
			}
			if !closeBits(flatValue(got), flatValue(elem), 1e-12) {
				t.Errorf("sizes %v: %s %v, element-wise %v", sz, pair[0], floats(flatValue(got)), floats(flatValue(elem)))
			}
		}
	}
}

// randomBody is a random scalar f64 expression of the elements a[i] and
// b[i], the scalar s and constants: arithmetic, smooth functions, lets,
// squares of one variable, and (rarely) the index itself, which keeps
// the comprehension as written.
func randomBody(r *rand.Rand, depth int, leaves []string) string {
	if depth == 0 || r.IntN(4) == 0 {
		switch k := r.IntN(len(leaves) + 3); {
		case k < len(leaves):
			return leaves[k]
		case k == len(leaves):
			return []string{"0.5", "2.0", "-1.25"}[r.IntN(3)]
		case k == len(leaves)+1 && r.IntN(8) == 0:
			return "f64(i)"
		default:
			return "s"
		}
	}
	d := depth - 1
	switch r.IntN(7) {
	case 0:
		return fmt.Sprintf("%s(%s)", []string{"tanh", "sin", "cos", "sigmoid", "-"}[r.IntN(5)], randomBody(r, d, leaves))
	case 1:
		return fmt.Sprintf("(%s / (2.0 + %s * %s))", randomBody(r, d, leaves), leaves[0], leaves[0])
	case 2:
		t := fmt.Sprintf("t%d", len(leaves))
		return fmt.Sprintf("(let %s = %s in %s)", t, randomBody(r, d, leaves), randomBody(r, d, append(slices.Clone(leaves), t)))
	case 3:
		v := leaves[r.IntN(len(leaves))]
		return fmt.Sprintf("(%s * %s)", v, v)
	}
	return fmt.Sprintf("(%s %s %s)", randomBody(r, d, leaves), []string{"+", "-", "*"}[r.IntN(3)], randomBody(r, d, leaves))
}

// TestVectorizeRandomBodies compiles comprehensions of random
// element-wise bodies, and the gradient of their sum, with and without
// vectorization, and compares them on random inputs: the comprehension
// bit for bit, the sum and its gradient within 1e-10 of their scale
// (sums of arrays may add in another order). Most must vectorize.
func TestVectorizeRandomBodies(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 29))
	ctx := context.Background()
	fired := 0
	const programs = 60
	for p := range programs {
		body := randomBody(r, 4, []string{"a[i]", "b[i]"})
		src := fmt.Sprintf(`def f(a: [n]f64, b: [n]f64, s: f64): [n]f64 = [%s for i < n]
def e(a: [n]f64, b: [n]f64, s: f64): f64 = sum([%[1]s for i < n])
def g(a: [n]f64, b: [n]f64, s: f64) = grad(e)(a, b, s)
`, body)
		vec, steps := compileVec(t, "r.nab", src, true)
		ref, _ := compileVec(t, "r.nab", src, false)
		if len(steps) > 0 {
			fired++
		}
		for _, n := range []int{0, 1, 2, 7} {
			args := makeArgs(r, []string{"n", "n", "s"}, map[string]int{"n": n})
			for _, def := range []string{"f", "e", "g"} {
				got, gerr := vec.Call(ctx, def, args, runtime.Limits{})
				want, werr := ref.Call(ctx, def, args, runtime.Limits{})
				if gerr != nil || werr != nil {
					t.Fatalf("program %d, %s, n = %d: errors %v and %v\n%s", p, def, n, gerr, werr, src)
				}
				g, w := flatValue(got), flatValue(want)
				ok := slices.Equal(g, w)
				if def != "f" {
					scale := 1.0
					for _, x := range w {
						scale += math.Abs(math.Float64frombits(x))
					}
					ok = len(g) == len(w)
					for k := range g {
						ok = ok && math.Abs(math.Float64frombits(g[k])-math.Float64frombits(w[k])) <= 1e-10*scale
					}
				}
				if !ok {
					t.Fatalf("program %d, %s, n = %d: %v, without vectorization %v\n%s", p, def, n, floats(g), floats(w), src)
				}
			}
		}
	}
	t.Logf("%d of %d programs vectorized", fired, programs)
	if fired < programs/2 {
		t.Errorf("only %d of %d programs vectorized", fired, programs)
	}
}

// TestVectorizeGoBackend builds the vectorized element-wise GMM and
// comprehensions of random bodies with the Go backend (one Go build) and
// checks that it gives the interpreter's results, within rounding (the
// generated code may fuse loops and add in another order).
func TestVectorizeGoBackend(t *testing.T) {
	vecSrc, err := os.ReadFile("../../tests/testdata/gmm.nab")
	if err != nil {
		t.Fatal(err)
	}
	elemSrc, err := os.ReadFile("../../cmd/nablabench/gmm_elem.nab")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(vecSrc)
	b.Write(elemSrc)
	r := rand.New(rand.NewPCG(9, 29))
	const bodies = 12
	for k := range bodies {
		body := randomBody(r, 4, []string{"a[i]", "b[i]"})
		fmt.Fprintf(&b, `
def f%d(a: [n]f64, b: [n]f64, s: f64): [n]f64 = [%s for i < n]
def e%[1]d(a: [n]f64, b: [n]f64, s: f64): f64 = sum([%[2]s for i < n])
def g%[1]d(a: [n]f64, b: [n]f64, s: f64) = grad(e%[1]d)(a, b, s)
`, k, body)
	}
	src := b.String()
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, "gov.nab", []byte(src), pipeline.Options{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	gp, err := codegen.Backend.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		def  string
		args []runtime.Value
	}
	var calls []call
	for _, sz := range []map[string]int{{"k": 3, "d": 2, "n": 7}, {"k": 2, "d": 4, "n": 5}} {
		d := sz["d"]
		sz["p"] = d * (d + 1) / 2
		sz["m"] = 1
		args := makeArgs(r, []string{"k", "k,d", "k,p", "n,d", "s", "i:m"}, sz)
		args[4] = runtime.F64(1 + r.Float64())
		calls = append(calls, call{"gmm_elem", args}, call{"gmm_elem_grad", args})
	}
	for k := range bodies {
		for _, n := range []int{0, 1, 6} {
			args := makeArgs(r, []string{"n", "n", "s"}, map[string]int{"n": n})
			for _, f := range []string{"f", "e", "g"} {
				calls = append(calls, call{fmt.Sprint(f, k), args})
			}
		}
	}
	for _, c := range calls {
		want, werr := ip.Call(ctx, c.def, c.args, runtime.Limits{})
		got, gerr := gp.Call(ctx, c.def, c.args, runtime.Limits{})
		if werr != nil || gerr != nil {
			t.Fatalf("%s: interpreter error %v, Go backend error %v", c.def, werr, gerr)
		}
		w, g := floats(flatValue(want)), floats(flatValue(got))
		ok := len(w) == len(g)
		for i := range w {
			ok = ok && math.Abs(w[i]-g[i]) <= 1e-12+1e-10*math.Abs(w[i])
		}
		if !ok {
			t.Errorf("%s: the interpreter gives %v, the Go backend %v", c.def, w, g)
		}
	}
}
