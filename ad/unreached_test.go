package ad_test

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
)

// TestExpandDropsUnreached: every def that AD makes (a name with '$') is
// reached from a def of the source, through calls, attributes or
// recomputation notes, and every def of the source is kept. Derivatives
// of higher order make defs on the way that nothing calls in the end (a
// VJP def's flat twin once the def is split); before they were dropped,
// grad nested 4 deep left 6 of its 27 defs unreached.
func TestExpandDropsUnreached(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"nested4", progen.Nested(4)},
		{"nested6", progen.Nested(6)},
		{"split call", `
def f(x: [n]f64): f64 = sum(exp(x) * x)
def g(x: [n]f64): f64 = f(x) * f(x + 1.0)
def hg(x: [n]f64, v: [n]f64) = jvp(grad(g), x, v)
def gg(x: [n]f64) = grad(fn(y) => sum(grad(g)(y)))(x)
`},
		{"custom rule", `
def sumsq_vjp(x: [n]f64, ybar: f64): [n]f64 = 2.0 * x * ybar
@vjp(sumsq_vjp)
def sumsq(x: [n]f64): f64 = sum(x * x)
def use(x: [n]f64): f64 = sumsq(sin(x)) * sumsq(x)
def gu(x: [n]f64) = grad(use)(x)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := expandSource(t, tc.src)
			reached := map[string]bool{}
			var visit func(name string)
			visit = func(name string) {
				d := p.Def(name)
				if d == nil || reached[name] {
					return
				}
				reached[name] = true
				walk := func(e ir.Expr) {
					ir.Walk(e, func(x ir.Expr, enter bool) {
						if g, ok := x.(*ir.Global); ok && enter {
							visit(g.Name)
						}
					}, nil)
				}
				walk(d.Body)
				for _, a := range d.Attrs {
					visit(a.Fn)
				}
				for _, n := range d.Recomputed {
					walk(n.Expr)
				}
			}
			src := 0
			for _, d := range p.Defs {
				if !strings.Contains(d.Name, "$") {
					src++
					visit(d.Name)
				}
			}
			for _, d := range p.Defs {
				if !reached[d.Name] {
					t.Errorf("%s: no def of the source reaches %s", tc.name, d.Name)
				}
			}
			t.Logf("%d defs of the source, %d made by AD", src, len(p.Defs)-src)
		})
	}
}
