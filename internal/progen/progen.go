// Package progen generates Nabla programs of a chosen size, for measuring
// how compile time grows with the size of the program. The compile-time
// benchmarks (tests/compiletime_test.go), the near-linearity test and
// `nablabench compile` use the same programs.
package progen

import (
	"fmt"
	"strings"
)

// A Kind is a family of generated programs.
type Kind struct {
	Name string // short name, used in benchmark names
	What string // one line saying what the program is
	// Gen returns a program of about n lines (for Nested, n is the
	// nesting depth of grad).
	Gen func(n int) string
	// Depths reports that n is a depth, not a number of lines.
	Depths bool
}

// Kinds are the families measured, in table order.
var Kinds = []Kind{
	{Name: "straight", What: "straight-line def", Gen: Straight},
	{Name: "grad", What: "grad of a straight-line def", Gen: StraightGrad},
	{Name: "loops", What: "def of loops and comprehensions, and its grad", Gen: Loops},
	{Name: "nested", What: "grad nested n deep", Gen: Nested, Depths: true},
	{Name: "lets", What: "dependent lets (issue 15)", Gen: Lets},
}

// Sizes are the program sizes (lines) measured; NestedDepths the depths
// of the nested family.
var (
	Sizes        = []int{500, 1000, 2000, 4000, 8000}
	NestedDepths = []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
)

// line returns line i (1-based) of a straight-line body: a let of a
// scalar computed from the two previous values and the parameters, with
// the operations varying from line to line as in real code.
func line(i int) string {
	a, b := prev(i, 1), prev(i, 2)
	var rhs string
	switch i % 8 {
	case 0:
		rhs = fmt.Sprintf("%s * %s + x", a, b)
	case 1:
		rhs = fmt.Sprintf("sin(%s) * y + %s", a, b)
	case 2:
		rhs = fmt.Sprintf("%s - 0.5 * %s * %s", a, b, a)
	case 3:
		rhs = fmt.Sprintf("tanh(%s + %s)", a, y(i))
	case 4:
		rhs = fmt.Sprintf("%s / (1.0 + %s * %s)", a, b, b)
	case 5:
		rhs = fmt.Sprintf("cos(%s) + 2.0 * %s", b, a)
	case 6:
		rhs = fmt.Sprintf("exp(-%s * %s) * %s", a, a, b)
	default:
		rhs = fmt.Sprintf("%s * %s - %s * x", a, a, b)
	}
	return fmt.Sprintf("  let v%d = %s\n", i, rhs)
}

func y(i int) string {
	if i%2 == 0 {
		return "y"
	}
	return "x"
}

// prev names the value k lines before line i.
func prev(i, k int) string {
	switch j := i - k; {
	case j >= 1:
		return fmt.Sprintf("v%d", j)
	case j == 0:
		return "x"
	}
	return "y"
}

// straightDef is a def f(x, y) of n lines.
func straightDef(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "def %s(x: f64, y: f64): f64 =\n", name)
	for i := 1; i < n; i++ {
		b.WriteString(line(i))
	}
	fmt.Fprintf(&b, "  in %s + %s\n", prev(n, 1), prev(n, 2))
	return b.String()
}

// Straight is one straight-line def of n lines.
func Straight(n int) string { return straightDef("f", n) }

// StraightGrad is a straight-line def of n lines and its gradient.
func StraightGrad(n int) string {
	return straightDef("f", n) + "def g(x: f64, y: f64) = grad(f)(x, y)\n"
}

// Loops is a def of n lines in which every line is a loop or a
// comprehension over an array, and its gradient.
func Loops(n int) string {
	var b strings.Builder
	b.WriteString("def f(xs: [m]f64, y: f64): f64 =\n  let a0 = xs\n")
	for i := 1; i < n; i++ {
		a := fmt.Sprintf("a%d", i-1)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  let a%d = [%s[j] * y + sin(%s[j]) for j < m]\n", i, a, a)
		case 1:
			fmt.Fprintf(&b, "  let a%d = loop s = %s for k < 2 do s * 0.5 + y\n", i, a)
		case 2:
			fmt.Fprintf(&b, "  let a%d = map(fn(v) => tanh(v) + y, %s)\n", i, a)
		default:
			fmt.Fprintf(&b, "  let a%d = %s + sum(%s) * 0.01\n", i, a, a)
		}
	}
	fmt.Fprintf(&b, "  in sum(a%d)\n", n-1)
	b.WriteString("def g(xs: [m]f64, y: f64) = grad(f)(xs, y)\n")
	return b.String()
}

// Nested is grad nested n deep: d1 = grad(f), d2 = grad(d1), ...
func Nested(n int) string {
	var b strings.Builder
	b.WriteString("def d0(x: f64): f64 = sin(x) * exp(x) + x * x * x\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "def d%d(x: f64): f64 = grad(d%d)(x)\n", i, i-1)
	}
	return b.String()
}

// Lets is issue 15's program: n dependent lets in one def.
func Lets(n int) string {
	var b strings.Builder
	b.WriteString("def main() =\n  let x0 = 1.0 in\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  let x%d = x%d + 1.0 in\n", i, i-1)
	}
	fmt.Fprintf(&b, "  x%d\n", n-1)
	return b.String()
}

// PlusChain is a single expression 1.0 + 1.0 + ... of n terms on one line.
func PlusChain(n int) string {
	var b strings.Builder
	b.Grow(len("def main() = ") + 6*n)
	b.WriteString("def main() = 1.0")
	for i := 1; i < n; i++ {
		b.WriteString(" + 1.0")
	}
	b.WriteString("\n")
	return b.String()
}
