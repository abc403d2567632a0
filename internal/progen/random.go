package progen

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Random programs for differential testing (issue 15): well-typed by
// construction, terminating (every loop count is small or n, every while
// loop counts its iterations), free of run-time errors (indices are taken
// modulo n, divisions are by 1 + x², logarithms of 1 + x²) and
// differentiable almost everywhere. Each program has
//
//	def f(x: f64, v: [n]f64): f64        a scalar function
//	def h(x: f64, v: [n]f64): [n]f64     a vector function
//
// and the helper defs they call (twice, g1, g2). The constructs are those of SPEC §4–§6:
// arithmetic, the scalar builtins (smooth and with kinks), let, tuples,
// if, both loop forms, comprehensions, map, reduce, scan, fold, indexing,
// update, matrix products, calls of defs, lambdas, a function-typed
// parameter and grad nested inside the program.

// A RandomProgram is a generated program.
type RandomProgram struct {
	Src string
	// Constructs counts the productions used, by name, for reports of
	// what a run covered.
	Constructs map[string]int
}

// Random generates a program from data: its bytes are read as the
// generator's choices, so that a fuzzer mutating data changes the program
// piece by piece; when they run out the choices come from a generator
// seeded by data's hash. The same data always gives the same program.
func Random(data []byte) *RandomProgram { return RandomNamed(data, "") }

// RandomNamed is Random with every def's name prefixed, so that several
// programs can be joined into one.
func RandomNamed(data []byte, prefix string) *RandomProgram {
	h := fnv.New64a()
	h.Write(data)
	g := &rgen{data: data, rng: rand.New(rand.NewPCG(h.Sum64(), 0x6e61626c61)), used: map[string]int{}, prefix: prefix}
	var b strings.Builder
	fmt.Fprintf(&b, "def %stwice(k: f64 -> f64, a: f64): f64 = k(k(a))\n", prefix)
	nHelpers := g.intn(3)
	for i := 1; i <= nHelpers; i++ {
		name := fmt.Sprintf("%sg%d", prefix, i)
		s := g.newScope([]string{"a"}, []string{"w"})
		if g.intn(2) == 0 {
			fmt.Fprintf(&b, "def %s(a: f64, w: [n]f64): f64 =\n  %s\n", name, g.f64(s, 3))
			g.scalarHelpers = append(g.scalarHelpers, name)
		} else {
			fmt.Fprintf(&b, "def %s(a: f64, w: [n]f64): [n]f64 =\n  %s\n", name, g.vec(s, 3))
			g.vecHelpers = append(g.vecHelpers, name)
		}
	}
	fmt.Fprintf(&b, "def %sf(x: f64, v: [n]f64): f64 =\n  %s\n", prefix, g.f64(g.newScope([]string{"x"}, []string{"v"}), 5))
	fmt.Fprintf(&b, "def %sh(x: f64, v: [n]f64): [n]f64 =\n  %s\n", prefix, g.vec(g.newScope([]string{"x"}, []string{"v"}), 4))
	return &RandomProgram{Src: b.String(), Constructs: g.used}
}

type rgen struct {
	data          []byte
	pos           int
	rng           *rand.Rand
	fresh         int
	used          map[string]int
	scalarHelpers []string
	vecHelpers    []string
	prefix        string // of every def's name
}

// scope holds the variables in scope by type: f64 values, [n]f64
// vectors and non-negative i64 values.
type scope struct {
	fs, vs, is []string
}

func (g *rgen) newScope(fs, vs []string) *scope {
	return &scope{fs: fs, vs: vs, is: []string{"n"}}
}

func (s *scope) with(kind byte, name string) *scope {
	c := &scope{fs: s.fs, vs: s.vs, is: s.is}
	switch kind {
	case 'f':
		c.fs = append(append([]string(nil), s.fs...), name)
	case 'v':
		c.vs = append(append([]string(nil), s.vs...), name)
	case 'i':
		c.is = append(append([]string(nil), s.is...), name)
	}
	return c
}

// intn is the next choice in [0, n).
func (g *rgen) intn(n int) int {
	if g.pos < len(g.data) {
		b := int(g.data[g.pos])
		g.pos++
		return b % n
	}
	return g.rng.IntN(n)
}

func (g *rgen) pick(xs []string) string { return xs[g.intn(len(xs))] }

func (g *rgen) name(prefix string) string {
	g.fresh++
	return fmt.Sprintf("%s%d", prefix, g.fresh)
}

func (g *rgen) note(what string) { g.used[what]++ }

// constants are f64 literals; integer literals, which are f64 only where
// an f64 is expected, come from their own production.
var constants = []string{"0.5", "1.0", "2.0", "-1.5", "0.25", "3.0", "0.0", "-0.75"}

// smooth are scalar builtins differentiable everywhere on the reals
// (given their arguments as written below).
var smooth = []string{"sin", "cos", "tanh", "atan", "sigmoid", "softplus", "erf"}

// kinked are differentiable except at a few points.
var kinked = []string{"abs", "relu"}

// f64 is an f64 expression of at most depth levels.
func (g *rgen) f64(s *scope, depth int) string {
	if depth <= 0 {
		return g.f64Leaf(s)
	}
	d := depth - 1
	switch g.intn(32) {
	case 0, 1, 2:
		return g.f64Leaf(s)
	case 3, 4:
		g.note("arith")
		return fmt.Sprintf("(%s %s %s)", g.f64(s, d), g.pick([]string{"+", "-", "*"}), g.f64(s, d))
	case 5:
		g.note("divide")
		a := g.f64(s, d)
		return fmt.Sprintf("(%s / (1.0 + %s * %s))", g.f64(s, d), a, a)
	case 6, 7:
		g.note("smooth")
		return fmt.Sprintf("%s(%s)", g.pick(smooth), g.f64(s, d))
	case 8:
		g.note("kinked")
		switch g.intn(3) {
		case 0:
			return fmt.Sprintf("%s(%s)", g.pick(kinked), g.f64(s, d))
		case 1:
			return fmt.Sprintf("%s(%s, %s)", g.pick([]string{"max", "min"}), g.f64(s, d), g.f64(s, d))
		}
		return fmt.Sprintf("(if %s then %s else %s)", g.boolean(s, d), g.f64(s, d), g.f64(s, d))
	case 9:
		g.note("exp_log")
		a := g.f64(s, d)
		switch g.intn(4) {
		case 0:
			return fmt.Sprintf("exp(tanh(%s))", a)
		case 1:
			return fmt.Sprintf("log(1.0 + %s * %s)", a, a)
		case 2:
			return fmt.Sprintf("sqrt(1.0 + %s * %s)", a, a)
		}
		return fmt.Sprintf("log1p(%s * %s)", a, a)
	case 10:
		g.note("power")
		if g.intn(2) == 0 {
			return fmt.Sprintf("(%s ^ %d)", g.f64(s, d), 2+g.intn(2))
		}
		return fmt.Sprintf("pow(1.0 + %s * %s, tanh(%s))", g.f64Leaf(s), g.f64Leaf(s), g.f64(s, d))
	case 11:
		g.note("let")
		y := g.name("y")
		return fmt.Sprintf("(let %s = %s in %s)", y, g.f64(s, d), g.f64(s.with('f', y), d))
	case 12:
		g.note("let_vec")
		w := g.name("w")
		return fmt.Sprintf("(let %s = %s in %s)", w, g.vec(s, d), g.f64(s.with('v', w), d))
	case 13:
		g.note("tuple")
		p, q := g.name("p"), g.name("q")
		return fmt.Sprintf("(let (%s, %s) = (%s, %s) in %s)", p, q, g.f64(s, d), g.vec(s, d), g.f64(s.with('f', p).with('v', q), d))
	case 14:
		g.note("if")
		return fmt.Sprintf("(if %s then %s else %s)", g.boolean(s, d), g.f64(s, d), g.f64(s, d))
	case 15, 16:
		g.note("reduction")
		v := g.vec(s, d)
		switch g.intn(7) {
		case 0:
			return fmt.Sprintf("sum(%s)", v)
		case 1:
			return fmt.Sprintf("mean(%s)", v)
		case 2:
			return fmt.Sprintf("dot(%s, %s)", v, g.vec(s, d))
		case 3:
			return fmt.Sprintf("logsumexp(%s)", v)
		case 4:
			return fmt.Sprintf("%s(%s)", g.pick([]string{"maximum", "minimum"}), v)
		case 5:
			return fmt.Sprintf("(%s @ %s)", v, g.vec(s, d))
		}
		return fmt.Sprintf("sum(flatten(outer(%s, %s)))", v, g.vec(s, d))
	case 17:
		g.note("index")
		return fmt.Sprintf("%s[(%s) %% n]", g.vecAtom(s, d), g.index(s, d))
	case 18:
		g.note("reduce")
		ops := []string{"fn(a, b) => a + b, 0.0", "fn(a, b) => a * b, 1.0", "max, -inf", "min, inf", "fn(a, b) => max(a, b), -inf"}
		return fmt.Sprintf("reduce(%s, %s)", g.pick(ops), g.vec(s, d))
	case 19:
		g.note("fold")
		acc, e := g.name("acc"), g.name("e")
		body := g.f64(s.with('f', acc).with('f', e), d)
		return fmt.Sprintf("fold(fn(%s, %s) => %s, %s, %s)", acc, e, body, g.f64(s, d), g.vec(s, d))
	case 20:
		g.note("scan")
		return fmt.Sprintf("scan(fn(a, b) => a + b, 0.0, %s)[(%s) %% n]", g.vec(s, d), g.index(s, d))
	case 21:
		g.note("loop_for")
		st, i := g.name("s"), g.name("i")
		body := g.f64(s.with('f', st).with('i', i), d)
		return fmt.Sprintf("(loop %s = %s for %s < %s do %s)", st, g.f64(s, d), i, g.count(), body)
	case 22:
		g.note("loop_while")
		st, k := g.name("s"), g.name("k")
		body := g.f64(s.with('f', st).with('i', k), d)
		cond := fmt.Sprintf("%s < %d", k, 1+g.intn(3))
		if g.intn(2) == 0 {
			cond += fmt.Sprintf(" && %s < %s", st, g.f64Leaf(s))
		}
		return fmt.Sprintf("(loop (%s, %s) = (%s, 0) while %s do (%s, %s + 1)).0", st, k, g.f64(s, d), cond, body, k)
	case 23:
		g.note("lambda")
		y := g.name("y")
		return fmt.Sprintf("(fn(%s: f64) => %s)(%s)", y, g.f64(s.with('f', y), d), g.f64(s, d))
	case 24:
		g.note("function_param")
		y := g.name("y")
		return fmt.Sprintf("%stwice(fn(%s: f64) => %s, %s)", g.prefix, y, g.f64(s.with('f', y), d), g.f64(s, d))
	case 25:
		if len(g.scalarHelpers) > 0 {
			g.note("call")
			return fmt.Sprintf("%s(%s, %s)", g.pick(g.scalarHelpers), g.f64(s, d), g.vec(s, d))
		}
		return g.f64Leaf(s)
	case 26:
		if depth <= 2 {
			g.note("nested_grad")
			y := g.name("y")
			return fmt.Sprintf("grad(fn(%s: f64) => %s)(%s)", y, g.f64(s.with('f', y), d), g.f64(s, d))
		}
		return g.f64Leaf(s)
	case 27:
		g.note("int_to_f64")
		return fmt.Sprintf("(0.25 * f64(%s))", g.index(s, d))
	case 28:
		g.note("negate")
		return fmt.Sprintf("(-%s)", g.f64(s, d))
	case 29:
		g.note("int_literal")
		if g.intn(2) == 0 {
			return fmt.Sprintf("(2 * %s)", g.f64(s, d))
		}
		return fmt.Sprintf("(%s - 3)", g.f64(s, d))
	case 30:
		return g.tupleLoop(s, d)
	}
	g.note("sum_comprehension")
	i := g.name("i")
	return fmt.Sprintf("sum([%s for %s < n])", g.f64(s.with('i', i), d), i)
}

// tupleLoop is a for loop whose state is a tuple of two or three fields,
// f64 or [n]f64, each updated from any of them, of which one f64 field is
// the result: the fields the result does not depend on are dead, which is
// what deadfield removes and what reverse mode must not save.
func (g *rgen) tupleLoop(s *scope, d int) string {
	g.note("loop_tuple")
	fields := 2 + g.intn(2)
	names := make([]string, fields)
	vec := make([]bool, fields) // field 0, the result's candidate, stays f64
	inner := s.with('i', g.name("i"))
	i := inner.is[len(inner.is)-1]
	for k := range names {
		names[k] = g.name("t")
		vec[k] = k > 0 && g.intn(3) == 0
		if vec[k] {
			inner = inner.with('v', names[k])
		} else {
			inner = inner.with('f', names[k])
		}
	}
	var init, body []string
	// Shallower than the other productions: a tuple loop is several
	// expressions at once, and programs should stay small.
	sub := max(d-2, 0)
	for k := range names {
		if vec[k] {
			init = append(init, g.vec(s, 0))
			body = append(body, g.vec(inner, sub))
		} else {
			init = append(init, g.f64(s, 0))
			body = append(body, g.f64(inner, sub))
		}
	}
	var result []int
	for k := range names {
		if !vec[k] {
			result = append(result, k)
		}
	}
	return fmt.Sprintf("(loop (%s) = (%s) for %s < %s do (%s)).%d",
		strings.Join(names, ", "), strings.Join(init, ", "), i, g.count(), strings.Join(body, ", "), result[g.intn(len(result))])
}

func (g *rgen) f64Leaf(s *scope) string {
	switch g.intn(6) {
	case 0:
		return g.pick(constants)
	case 1:
		return fmt.Sprintf("%s[0]", g.pick(s.vs))
	}
	return g.pick(s.fs)
}

// vecAtom is a vector safe to index without parentheses.
func (g *rgen) vecAtom(s *scope, depth int) string {
	return "(" + g.vec(s, depth) + ")"
}

// vec is an [n]f64 expression.
func (g *rgen) vec(s *scope, depth int) string {
	if depth <= 0 {
		return g.pick(s.vs)
	}
	d := depth - 1
	switch g.intn(22) {
	case 0, 1, 2:
		return g.pick(s.vs)
	case 3, 4:
		g.note("vec_arith")
		switch g.intn(3) {
		case 0:
			return fmt.Sprintf("(%s %s %s)", g.vec(s, d), g.pick([]string{"+", "-", "*"}), g.vec(s, d))
		case 1:
			return fmt.Sprintf("(%s * %s)", g.f64(s, d), g.vec(s, d))
		}
		return fmt.Sprintf("(%s + %s)", g.vec(s, d), g.f64(s, d))
	case 5:
		g.note("vec_lifted")
		return fmt.Sprintf("%s(%s)", g.pick(smooth), g.vec(s, d))
	case 6, 7:
		g.note("map")
		e := g.name("e")
		if g.intn(2) == 0 {
			return fmt.Sprintf("map(fn(%s) => %s, %s)", e, g.f64(s.with('f', e), d), g.vec(s, d))
		}
		e2 := g.name("e")
		return fmt.Sprintf("map(fn(%s, %s) => %s, %s, %s)", e, e2, g.f64(s.with('f', e).with('f', e2), d), g.vec(s, d), g.vec(s, d))
	case 8, 9:
		g.note("comprehension")
		i := g.name("i")
		return fmt.Sprintf("[%s for %s < n]", g.f64(s.with('i', i), d), i)
	case 10:
		g.note("vec_scan")
		return fmt.Sprintf("scan(fn(a, b) => a + b, 0.0, %s)", g.vec(s, d))
	case 11:
		g.note("reverse")
		return fmt.Sprintf("reverse(%s)", g.vec(s, d))
	case 12:
		g.note("softmax")
		return fmt.Sprintf("softmax(%s)", g.vec(s, d))
	case 13:
		g.note("update")
		return fmt.Sprintf("update(%s, (%s) %% n, %s)", g.vec(s, d), g.index(s, d), g.f64(s, d))
	case 14:
		g.note("vec_loop")
		w, i := g.name("w"), g.name("i")
		return fmt.Sprintf("(loop %s = %s for %s < %s do %s)", w, g.vec(s, d), i, g.count(), g.vec(s.with('v', w).with('i', i), d))
	case 15:
		g.note("vec_if")
		return fmt.Sprintf("(if %s then %s else %s)", g.boolean(s, d), g.vec(s, d), g.vec(s, d))
	case 16:
		// tanh keeps a product applied in a loop from growing as a
		// power of the iteration count.
		g.note("matvec")
		if g.intn(2) == 0 {
			return fmt.Sprintf("(outer(%s, tanh(%s)) @ tanh(%s))", g.vec(s, d), g.vec(s, d), g.vec(s, d))
		}
		return fmt.Sprintf("(transpose(outer(tanh(%s), %s)) @ tanh(%s))", g.vec(s, d), g.vec(s, d), g.vec(s, d))
	case 17:
		g.note("vec_let")
		w := g.name("w")
		return fmt.Sprintf("(let %s = %s in %s)", w, g.vec(s, d), g.vec(s.with('v', w), d))
	case 18:
		if len(g.vecHelpers) > 0 {
			g.note("vec_call")
			return fmt.Sprintf("%s(%s, %s)", g.pick(g.vecHelpers), g.f64(s, d), g.vec(s, d))
		}
		return g.pick(s.vs)
	case 19:
		g.note("fill")
		if g.intn(2) == 0 {
			return fmt.Sprintf("(zeros(n) + %s)", g.f64(s, d))
		}
		return fmt.Sprintf("fill(n, %s)", g.f64(s, d))
	case 20:
		g.note("vec_while")
		w, k := g.name("w"), g.name("k")
		return fmt.Sprintf("(loop (%s, %s) = (%s, 0) while %s < %d do (%s, %s + 1)).0", w, k, g.vec(s, d), k, 1+g.intn(3), g.vec(s.with('v', w), d), k)
	}
	g.note("gather")
	j := g.name("j")
	return fmt.Sprintf("gather(%s, [(%s) %% n for %s < n])", g.vec(s, d), g.index(s.with('i', j), d), j)
}

// index is a non-negative i64 expression.
func (g *rgen) index(s *scope, depth int) string {
	if depth <= 0 || g.intn(3) > 0 {
		if g.intn(3) == 0 {
			return fmt.Sprintf("%d", g.intn(4))
		}
		return g.pick(s.is)
	}
	d := depth - 1
	switch g.intn(4) {
	case 0:
		return fmt.Sprintf("(%s + %s)", g.index(s, d), g.index(s, d))
	case 1:
		return fmt.Sprintf("(%s * %d)", g.index(s, d), 1+g.intn(3))
	case 2:
		g.note("argmax")
		return fmt.Sprintf("%s(%s)", g.pick([]string{"argmax", "argmin"}), g.vec(s, d))
	}
	return fmt.Sprintf("len(%s)", g.vec(s, d))
}

// count is a loop count: small, or n.
func (g *rgen) count() string {
	if g.intn(4) == 0 {
		return "n"
	}
	return fmt.Sprintf("%d", g.intn(4))
}

func (g *rgen) boolean(s *scope, depth int) string {
	d := max(depth-1, 0)
	switch g.intn(5) {
	case 0:
		if depth > 0 {
			return fmt.Sprintf("(%s && %s)", g.boolean(s, d), g.boolean(s, d))
		}
	case 1:
		if depth > 0 {
			return fmt.Sprintf("!(%s)", g.boolean(s, d))
		}
	case 2:
		return fmt.Sprintf("(%s < %d)", g.index(s, d), g.intn(4))
	}
	return fmt.Sprintf("(%s %s %s)", g.f64(s, d), g.pick([]string{"<", ">", "<=", ">="}), g.f64(s, d))
}

// DerivativeDefs are the derivatives of a random program's f and h that
// the differential tests compare (its defs' names prefixed by prefix, as
// RandomNamed's): a JVP and the gradient of f, a JVP and a VJP of h.
// Appended to a program's source.
func DerivativeDefs(prefix string) string {
	return strings.NewReplacer("$", prefix).Replace(`
def $jv(x: f64, v: [n]f64, dx: f64, dv: [n]f64): f64 = jvp($f, (x, v), (dx, dv)).1
def $gr(x: f64, v: [n]f64) = grad($f)(x, v)
def $hj(x: f64, v: [n]f64, dx: f64, dv: [n]f64): [n]f64 = jvp($h, (x, v), (dx, dv)).1
def $hv(x: f64, v: [n]f64, yb: [n]f64) = vjp($h, (x, v), yb).1
`)
}

// RandomJoined joins count programs generated from data (each from data
// and its index, its names prefixed p0_, p1_, ...) with their
// derivative defs into one source, so that one compilation or one Go
// build serves them all. It returns the source and the prefixes.
func RandomJoined(data []byte, count int) (string, []string) {
	var src strings.Builder
	var prefixes []string
	for i := range count {
		prefix := fmt.Sprintf("p%d_", i)
		prefixes = append(prefixes, prefix)
		src.WriteString(RandomNamed(append([]byte(fmt.Sprint(i)), data...), prefix).Src)
		src.WriteString(DerivativeDefs(prefix))
	}
	return src.String(), prefixes
}
