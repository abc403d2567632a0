package specialize_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
	"github.com/nabla-lang/nabla/specialize"
)

func load(t *testing.T, src string) *ir.Program {
	t.Helper()
	p, err := lang.Load("test.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func specialized(t *testing.T, src string) *ir.Program {
	t.Helper()
	p, err := specialize.Program(load(t, src))
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Validate(p); err != nil {
		t.Fatalf("invalid output: %v\n%s", err, ir.Print(p))
	}
	return p
}

// copies lists the specialized copies of template in p.
func copies(p *ir.Program, template string) []string {
	var out []string
	for _, d := range p.Defs {
		if d.Origin == template {
			out = append(out, d.Name)
		}
	}
	return out
}

// Ten calls of linalg.cg with three different matvecs (up to the names of
// what they close over and the sizes of their types) make three copies.
func TestOneCopyPerFunctionArgument(t *testing.T) {
	p := specialized(t, `
import "std/linalg"
def a1(a: [n][n]f64, b: [n]f64): [n]f64 = linalg.cg(fn(v) => a @ v, b, zeros(n), 1e-10, 50)
def a2(m: [k][k]f64, c: [k]f64): [k]f64 = linalg.cg(fn(w) => m @ w, c, zeros(k), 1e-10, 50)
def a3(a: [n][n]f64, b: [n]f64): [n]f64 = linalg.cg(fn(v) => a @ v, b, b, 1e-8, 10)
def d1(d: [n]f64, b: [n]f64): [n]f64 = linalg.cg(fn(v) => d * v, b, zeros(n), 1e-10, 50)
def d2(e: [n]f64, b: [n]f64): [n]f64 = linalg.cg(fn(v) => e * v, b, zeros(n), 1e-10, 50)
def s1(b: [n]f64): [n]f64 = linalg.cg(fn(v) => 2.0 * v, b, zeros(n), 1e-10, 50)
def s2(b: [n]f64): [n]f64 = linalg.cg(fn(u) => 2.0 * u, b, zeros(n), 1e-10, 50)
def main(): f64 =
  let a = [[4.0, 1.0], [1.0, 3.0]]
  let b = [1.0, 2.0]
  in sum(linalg.cg(fn(v) => a @ v, b, b, 1e-9, 20)) + sum(linalg.cg(fn(v) => b * v, b, b, 1e-9, 20))
     + sum(linalg.cg(fn(v) => 2.0 * v, b, b, 1e-9, 20))
`)
	got := copies(p, "linalg.cg")
	if len(got) != 3 {
		t.Fatalf("got %d copies of linalg.cg, want 3: %v\n%s", len(got), got, ir.Print(p))
	}
	calls := 0
	for _, d := range p.Defs {
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if c, ok := x.(*ir.Call); ok && enter {
				if g, ok := c.Fn.(*ir.Global); ok && strings.HasPrefix(g.Name, "linalg.cg$") {
					calls++
				}
				if g, ok := c.Fn.(*ir.Global); ok && g.Name == "linalg.cg" {
					t.Errorf("a call of the template itself remains in %s", d.Name)
				}
			}
		}, nil)
	}
	if calls != 10 {
		t.Errorf("%d calls of the copies, want 10", calls)
	}
}

// A copy is an ordinary first-order def: the lambda is inlined in its
// body and its free variables are parameters.
func TestCopyIsFirstOrder(t *testing.T) {
	p := specialized(t, `
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def main(a: f64): f64 = apply2(fn(x) => a * x, 3.0)
`)
	c := p.Def("apply2$1")
	if c == nil {
		t.Fatalf("no copy apply2$1:\n%s", ir.Print(p))
	}
	if len(c.Params) != 2 || c.Params[0].Name != "x" || c.Params[1].Name != "a" {
		t.Errorf("copy's parameters = %v, want x then the lifted a", ir.PrintDef(c))
	}
	if specialize.IsTemplate(c) {
		t.Errorf("the copy still takes a function")
	}
	ir.Walk(c.Body, func(x ir.Expr, enter bool) {
		if _, ok := x.(*ir.Lambda); ok && enter {
			t.Errorf("a lambda remains in the copy: %s", ir.PrintDef(c))
		}
	}, nil)
}

// Specializing a specialized program changes nothing.
func TestIdempotent(t *testing.T) {
	src := `
import "std/linalg"
def make(a: f64): f64 -> f64 = fn(x) => a * x
def twice(f: f64 -> f64, x: f64): f64 = f(f(x))
def outer(g: f64 -> f64, x: f64): f64 = twice(g, x) + twice(fn(y) => g(y) + 1.0, x)
def main(a: f64): f64 =
  let h = make(a)
  in outer(h, 2.0) + outer(fn(x) => x * x, 1.0) + sum(linalg.cg(fn(v) => a * v, [1.0], [0.0], 1e-9, 5))
`
	once := specialized(t, src)
	twice, err := specialize.Program(once)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ir.Print(once), ir.Print(twice); a != b {
		t.Errorf("second run changed the program:\n--- once\n%s\n--- twice\n%s", a, b)
	}
}

// Specialization preserves meaning: each program gives the same value
// before (the interpreter calls function values) and after.
func TestSameValues(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      float64
	}{
		{"closure", `
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def main(): f64 = let a = 3.0 in apply2(fn(x) => a * x, 2.0)`, 18},
		{"def as argument", `
def sq(x: f64): f64 = x * x
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def main(): f64 = apply2(sq, 3.0)`, 81},
		{"template through template", `
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def compose(f: f64 -> f64, g: f64 -> f64, x: f64): f64 = apply2(fn(y) => f(g(y)), x)
def main(): f64 = let c = 1.0 in compose(fn(x) => x + c, fn(x) => 2.0 * x, 1.0)`, 7},
		{"returned lambda", `
def make(a: f64): f64 -> f64 = fn(x) => a * x
def main(): f64 = make(2.0)(5.0)`, 10},
		{"builtin as value", `
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def main(): f64 = apply2(exp, 0.0)`, 2.718281828459045},
		{"sizes of the caller", `
def total(f: [n]f64 -> [n]f64, x: [n]f64): f64 = sum(f(x))
def main(): f64 = let w = [1.0, 2.0, 3.0] in total(fn(v) => w * v, [1.0, 1.0, 1.0]) + total(fn(v) => v, [5.0])`, 11},
		{"grad through a copy", `
import "std/linalg"
def f(a: f64): f64 = sum(linalg.cg(fn(v) => a * v, [1.0, 2.0], zeros(2), 1e-12, 50))
def main(): f64 = grad(f)(2.0)`, -0.75},
		{"grad of a returned lambda", `
def make(a: f64): f64 -> f64 = fn(x) => a * x * x
def main(): f64 = grad(make(3.0))(2.0)`, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ad.Expand(load(t, tc.src))
			if err != nil {
				t.Fatal(err)
			}
			in, err := interp.New(p)
			if err != nil {
				t.Fatal(err)
			}
			v, err := in.Call(context.Background(), "main", nil, runtime.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if d := v.F - tc.want; d > 1e-12 || d < -1e-12 {
				t.Errorf("main() = %v, want %v", v.F, tc.want)
			}
		})
	}
}

// A template inlined because its function argument is chosen at run time
// keeps its entry checks: the sizes its parameters share, and its
// constant sizes.
func TestInlinedTemplateKeepsEntryChecks(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"def h(r: [n]f64 -> f64, x: [n]f64, y: [n]f64): f64 = r(x) + y[1]\ndef main(x: [k]f64, y: [j]f64, c: bool) = h(if c then fn(v: [k]f64) => sum(v) else fn(v: [k]f64) => 0.0, x, y)",
			`check_dim[0, "y", "[n]f64", "n"]`},
		{"def h(r: f64 -> f64, x: [2]f64): f64 = r(x[0])\ndef main(x: [k]f64, c: bool) = h(if c then sin else cos, x)",
			`check_dim[0, "x", "[2]f64", "2"]`},
	} {
		p := specialized(t, tc.src)
		if got := ir.PrintDef(p.Def("main")); !strings.Contains(got, tc.want) {
			t.Errorf("main does not check %s:\n%s", tc.want, got)
		}
	}
}
