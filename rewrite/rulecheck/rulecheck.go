// Package rulecheck tests rewrite rules by evaluation (SPEC §7, `nabla
// check --rules`): both sides of a rule, elaborated by the front end for
// chosen types of its variables, are run by the interpreter on random
// inputs and their results compared. It is apart from package rewrite,
// which applies rules and needs neither the front end nor the
// interpreter.
//
// A rule is tested by elaborating both of its sides as ordinary
// expressions over its variables and evaluating them on random inputs.
// The variables need types, which a rule does not give, so they are
// chosen by trying: a variable applied as a function (f(x), or the
// function argument of map, reduce, scan, fold or build) is a function of
// f64 (or of i64, for build), one used as an index or a count is an i64,
// one used as a condition a bool, and every other variable is tried as
// an f64 scalar and as an f64 vector: first all scalars, then all
// vectors, then mixtures, and last all f64 matrices and all i64
// scalars (integer literals in patterns match i64 constants too). Each assignment under which both sides
// type-check with equal types is tested (up to maxTypings of them). A
// rule that no assignment types, or whose sides fail on every input, is
// reported as untested, with the reason.
//
// Inputs: f64 values uniform in [-2, 2] with now and then 0, 1 or -1;
// vectors of 1 to 5 elements (all of one length in a trial), matrices of
// that many rows and 1 to 3 columns; indices
// within the vectors; functions drawn from small families of smooth
// functions with random coefficients (for the operator of reduce and scan,
// one of + * max min, which are associative). Results are compared with a
// relative tolerance of 1e-9 (NaN equals NaN); both sides failing counts
// as agreement, one side failing as a disagreement.
//
// A where clause tests the matched subterms, not their values, so an
// input is kept when some subterms with those values satisfy it (is_zero
// and is_one hold only of literals of value 0 and 1; is_const and is_var
// of any value), and skipped otherwise; the variables that is_zero and
// is_one mention are drawn as 0 or 1 half of the time. A rule for which
// fewer than 10 inputs remain is reported as untested.
package rulecheck

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// Status is the outcome of testing a rule.
type Status int

const (
	// Agrees: the two sides agreed on every input tried.
	Agrees Status = iota
	// Disagrees: a counterexample was found.
	Disagrees
	// Untested: the rule could not be typed or evaluated.
	Untested
)

func (s Status) String() string {
	switch s {
	case Agrees:
		return "agrees"
	case Disagrees:
		return "disagrees"
	}
	return "untested"
}

// Report is what testing one rule found.
type Report struct {
	Rule   *ir.RewriteRule
	Status Status
	// Typings lists the variable types the rule was tested at
	// ("x: f64, y: f64").
	Typings []string
	// Inputs is the number of inputs on which both sides were compared.
	Inputs int
	// Rejected is the number of random inputs skipped because no match
	// of the rule could have them: its where clause rules them out.
	Rejected int
	// Detail is the counterexample (Disagrees), the reason (Untested), or
	// how inputs were drawn for a rule with a where clause (Agrees).
	Detail string
}

// Options configure Check.
type Options struct {
	// Trials is the number of random inputs per typing (default 60).
	Trials int
	// Seed makes the inputs reproducible; rules are also seeded by name.
	Seed uint64
}

const maxTypings = 6

// CheckAll tests every rule declared in p (a program after AD
// expansion, whose defs the rules may call), in declaration order.
func CheckAll(p *ir.Program, opts Options) []Report {
	var out []Report
	for _, r := range p.Rules {
		out = append(out, Check(p, r, opts))
	}
	return out
}

// varRole is what a rule variable's uses say about its type.
type varRole struct {
	fn      bool // applied as a function
	arity   int
	intArg  bool // a function of i64 (build)
	assoc   bool // the operator of reduce or scan
	index   bool // an index: i64 within the vectors
	count   bool // a count: i64 in [0, n]
	boolean bool // a condition
}

// roles infers the variables' roles from both sides of a rule.
func roles(d *lang.RuleDecl) map[string]*varRole {
	vars := map[string]*varRole{}
	for _, v := range d.Vars {
		vars[v.Name] = &varRole{}
	}
	role := func(e lang.Expr) *varRole {
		for {
			p, ok := e.(*lang.Paren)
			if !ok {
				break
			}
			e = p.X
		}
		if id, ok := e.(*lang.Ident); ok {
			return vars[id.Name]
		}
		return nil
	}
	var walk func(e lang.Expr)
	walk = func(e lang.Expr) {
		switch e := e.(type) {
		case *lang.Call:
			if r := role(e.Fn); r != nil {
				r.fn, r.arity = true, len(e.Args)
			}
			if id, ok := e.Fn.(*lang.Ident); ok && len(e.Args) > 0 {
				switch id.Name {
				case "map":
					if r := role(e.Args[0]); r != nil {
						r.fn, r.arity = true, len(e.Args)-1
					}
				case "reduce", "scan":
					if r := role(e.Args[0]); r != nil {
						r.fn, r.arity, r.assoc = true, 2, true
					}
				case "fold":
					if r := role(e.Args[0]); r != nil {
						r.fn, r.arity = true, 2
					}
				case "build":
					if r := role(e.Args[0]); r != nil {
						r.count = true
					}
					if len(e.Args) > 1 {
						if r := role(e.Args[1]); r != nil {
							r.fn, r.arity, r.intArg = true, 1, true
						}
					}
				case "iota", "zeros", "ones", "fill":
					if r := role(e.Args[0]); r != nil {
						r.count = true
					}
				case "take", "drop":
					if len(e.Args) > 1 {
						if r := role(e.Args[1]); r != nil {
							r.count = true
						}
					}
				}
			}
			walk(e.Fn)
			for _, a := range e.Args {
				walk(a)
			}
		case *lang.Index:
			for _, ix := range e.Indices {
				if r := role(ix); r != nil {
					r.index = true
				}
				walk(ix)
			}
			walk(e.X)
		case *lang.If:
			if r := role(e.Cond); r != nil {
				r.boolean = true
			}
			walk(e.Cond)
			walk(e.Then)
			walk(e.Else)
		case *lang.Unary:
			if r := role(e.X); r != nil && e.Op == "!" {
				r.boolean = true
			}
			walk(e.X)
		case *lang.Binary:
			if e.Op == "&&" || e.Op == "||" {
				for _, x := range []lang.Expr{e.X, e.Y} {
					if r := role(x); r != nil {
						r.boolean = true
					}
				}
			}
			walk(e.X)
			walk(e.Y)
		case *lang.Paren:
			walk(e.X)
		case *lang.Field:
			walk(e.X)
		case *lang.Slice:
			walk(e.X)
			if e.Lo != nil {
				walk(e.Lo)
			}
			if e.Hi != nil {
				walk(e.Hi)
			}
		case *lang.TupleLit:
			for _, a := range e.Elems {
				walk(a)
			}
		case *lang.ArrayLit:
			for _, a := range e.Elems {
				walk(a)
			}
		case *lang.Comprehension:
			for _, g := range e.Gens {
				walk(g.Bound)
			}
			walk(e.Body)
		case *lang.Let:
			walk(e.Value)
			walk(e.Body)
		case *lang.Lambda:
			walk(e.Body)
		case *lang.Loop:
			walk(e.Init)
			if e.Count != nil {
				walk(e.Count)
			}
			if e.Cond != nil {
				walk(e.Cond)
			}
			walk(e.Body)
		}
	}
	walk(d.LHS)
	walk(d.RHS)
	return vars
}

// typing is one assignment of types to a rule's variables.
type typing struct {
	vars  map[string]*ir.Var
	shape map[string]int // 0 scalar, 1 vector, 2 function of a pair
}

func (ty typing) String(order []string) string {
	parts := make([]string, 0, len(order))
	for _, n := range order {
		t := ty.vars[n].T.String()
		if ty.shape[n] == 3 {
			t = strings.Replace(t, "?", "m", 1)
		}
		parts = append(parts, n+": "+strings.ReplaceAll(t, "?", "n"))
	}
	return strings.Join(parts, ", ")
}

// typings lists the assignments to try, in order.
func typings(r *ir.RewriteRule, rs map[string]*varRole) []typing {
	var free []string // variables to try as scalar or vector
	var pairFns []string
	for _, n := range r.Vars {
		switch ro := rs[n]; {
		case ro.fn && ro.arity == 1 && !ro.intArg:
			pairFns = append(pairFns, n)
		case ro.fn, ro.index, ro.count, ro.boolean:
		default:
			free = append(free, n)
		}
	}
	vec := ir.ArrayOf(ir.Unknown, ir.TF64)
	var masks []uint
	k := min(len(free), 8)
	all := uint(1)<<k - 1
	masks = append(masks, 0)
	if all != 0 {
		masks = append(masks, all)
	}
	var mixed []uint
	for m := uint(1); m < all; m++ {
		mixed = append(mixed, m)
	}
	sort.SliceStable(mixed, func(i, j int) bool { return popcount(mixed[i]) < popcount(mixed[j]) })
	masks = append(masks, mixed...)
	if k > 0 {
		masks = append(masks, matrices, integers)
	}
	var out []typing
	for _, pairs := range []bool{false, true} {
		if pairs && len(pairFns) == 0 {
			break
		}
		for _, m := range masks {
			ty := typing{vars: map[string]*ir.Var{}, shape: map[string]int{}}
			bit := 0
			for _, n := range r.Vars {
				ro := rs[n]
				var t ir.Type
				switch {
				case ro.fn:
					ps := make([]ir.Type, ro.arity)
					for i := range ps {
						ps[i] = ir.TF64
						if ro.intArg {
							ps[i] = ir.TI64
						}
					}
					if pairs && ro.arity == 1 && !ro.intArg {
						ps[0] = ir.TupleOf(ir.TF64, ir.TF64)
						ty.shape[n] = 2
					}
					t = &ir.Func{Params: ps, Result: ir.TF64}
				case ro.index, ro.count:
					t = ir.TI64
				case ro.boolean:
					t = ir.TBool
				default:
					t = ir.TF64
					switch {
					case m == matrices:
						t = ir.ArrayOf(ir.Unknown, vec)
						ty.shape[n] = 3
					case m == integers:
						t = ir.TI64
					case bit < 8 && m&(1<<bit) != 0:
						t = vec
						ty.shape[n] = 1
					}
					bit++
				}
				ty.vars[n] = ir.NewVar(n, t, r.P)
			}
			out = append(out, ty)
		}
	}
	return out
}

// matrices and integers are the masks that make every free variable an
// f64 matrix or an i64.
const (
	matrices = ^uint(0)
	integers = ^uint(0) - 1
)

func popcount(m uint) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// Check tests one rule of program p by evaluation. The rule must have
// been checked by the front end (lang.Load), whose declaration says how
// its variables are used.
func Check(p *ir.Program, r *ir.RewriteRule, opts Options) Report {
	rep := Report{Rule: r}
	if opts.Trials <= 0 {
		opts.Trials = 60
	}
	h := fnv.New64a()
	h.Write([]byte(r.Name))
	rng := rand.New(rand.NewPCG(opts.Seed, h.Sum64()))
	d := lang.RuleDeclOf(r)
	if d == nil {
		rep.Status, rep.Detail = Untested, "it has no declaration in source"
		return rep
	}
	rs := roles(d)
	var firstErr error
	allFailed := ""
	for _, ty := range typings(r, rs) {
		if len(rep.Typings) == maxTypings {
			break
		}
		lhs, rhs, err := r.RHS.Sides(ty.vars)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if _, isFn := lhs.Type().(*ir.Func); isFn {
			continue // functions cannot be compared
		}
		rep.Typings = append(rep.Typings, ty.String(r.Vars))
		n, cex, failed, err := runTrials(p, r, ty, lhs, rhs, rs, rng, opts.Trials, &rep.Rejected)
		if err != nil {
			rep.Status, rep.Detail = Untested, err.Error()
			return rep
		}
		rep.Inputs += n
		if cex != "" {
			rep.Status, rep.Detail = Disagrees, cex
			return rep
		}
		if n == 0 && allFailed == "" {
			allFailed = failed
		}
	}
	switch {
	case len(rep.Typings) == 0:
		rep.Status = Untested
		rep.Detail = "its sides could not be typed with f64 scalars or vectors for its variables"
		if firstErr != nil {
			msg := firstErr.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Count(msg[:i], ":") >= 2 {
				msg = msg[i+2:]
			}
			rep.Detail += " (" + strings.TrimSpace(msg) + ")"
		}
	case r.Where != nil && rep.Inputs < minWhereInputs:
		rep.Status = Untested
		rep.Detail = fmt.Sprintf("too few random inputs satisfy its where condition: %d of %d", rep.Inputs, rep.Inputs+rep.Rejected)
		if allFailed != "" {
			rep.Detail += " (the others fail on both sides: " + allFailed + ")"
		}
	case rep.Inputs == 0:
		rep.Status = Untested
		rep.Detail = "both sides fail on every input tried: " + allFailed
	case r.Where != nil:
		rep.Detail = fmt.Sprintf("inputs drawn to satisfy its where condition, %d others skipped", rep.Rejected)
	}
	return rep
}

// runTrials evaluates both sides on random inputs. It returns the number
// of inputs compared, a counterexample if one was found, and an error of
// both sides when none could be compared; it counts in *rejected the
// inputs skipped because no match could have them (see where.go).
func runTrials(p *ir.Program, r *ir.RewriteRule, ty typing, lhs, rhs ir.Expr, rs map[string]*varRole, rng *rand.Rand, trials int, rejected *int) (int, string, string, error) {
	var targets map[string][]float64
	if r.Where != nil {
		targets = whereTargets(r.Where)
	}
	var params []*ir.Var
	var fnVars []string
	for _, n := range r.Vars {
		if _, isFn := ty.vars[n].T.(*ir.Func); isFn {
			fnVars = append(fnVars, n)
		} else {
			params = append(params, ty.vars[n])
		}
	}
	compared, failed := 0, ""
	const batches = 6
	for b := 0; b < batches; b++ {
		fns := map[*ir.Var]ir.Expr{}
		var fnDesc []string
		for _, n := range fnVars {
			lam, desc := randomFunc(rng, ty.vars[n].T.(*ir.Func), rs[n].assoc)
			fns[ty.vars[n]] = lam
			fnDesc = append(fnDesc, n+" = "+desc)
		}
		mk := func(name string, body ir.Expr) *ir.Def {
			body = substCopies(body, fns)
			ps := make([]*ir.Var, len(params))
			sub := map[*ir.Var]ir.Expr{}
			for i, v := range params {
				ps[i] = ir.NewVar(v.Name, v.T, v.P)
				sub[v] = ps[i]
			}
			body = ir.Subst(body, sub)
			return &ir.Def{Name: name, Params: ps, HasParams: true, Result: body.Type(), Body: body, P: r.P}
		}
		defs := append([]*ir.Def(nil), p.Defs...)
		defs = append(defs, mk("$lhs", lhs), mk("$rhs", rhs))
		it, err := interp.New(ir.NewProgram(defs))
		if err != nil {
			return 0, "", "", fmt.Errorf("its sides cannot be evaluated: %v", err)
		}
		for i := 0; i < (trials+batches-1)/batches; i++ {
			n := 1 + rng.IntN(5)
			args := make([]runtime.Value, len(params))
			for j, v := range params {
				args[j] = randomValue(rng, v.T, rs[v.Name], n)
			}
			if r.Where != nil {
				biasInput(rng, targets, params, args)
				facts := map[string]valueFacts{}
				for _, n := range fnVars {
					facts[n] = valueFacts{fn: true}
				}
				for j, v := range params {
					facts[v.Name] = factsOf(v.T, args[j])
				}
				if !whereHolds(r.Where, facts) {
					*rejected++
					continue
				}
			}
			var desc []string
			for j, v := range params {
				js, _ := jsonv.Encode(v.T, args[j])
				desc = append(desc, v.Name+" = "+string(js))
			}
			lim := runtime.Limits{Steps: 1 << 20, Memory: 1 << 26}
			a, errA := it.Call(context.Background(), "$lhs", cloneArgs(args), lim)
			b, errB := it.Call(context.Background(), "$rhs", cloneArgs(args), lim)
			where := strings.Join(append(desc, fnDesc...), ", ")
			switch {
			case errA != nil && errB != nil:
				failed = firstLine(errA)
				continue
			case errA != nil:
				return compared, fmt.Sprintf("with %s the left-hand side fails (%s) but the right-hand side gives %s", where, firstLine(errA), encode(lhs.Type(), b)), "", nil
			case errB != nil:
				return compared, fmt.Sprintf("with %s the left-hand side gives %s but the right-hand side fails (%s)", where, encode(lhs.Type(), a), firstLine(errB)), "", nil
			}
			compared++
			if !SameValue(lhs.Type(), a, b) {
				return compared, fmt.Sprintf("with %s the left-hand side gives %s, the right-hand side %s", where, encode(lhs.Type(), a), encode(lhs.Type(), b)), "", nil
			}
		}
	}
	return compared, "", failed, nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if i := strings.Index(s, ": "); i >= 0 && strings.Count(s[:i], ":") >= 2 {
		s = s[i+2:]
	}
	return s
}

func encode(t ir.Type, v runtime.Value) string {
	b, err := jsonv.Encode(t, v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// cloneArgs copies array arguments, so that neither side can see what
// the other did to them.
func cloneArgs(args []runtime.Value) []runtime.Value {
	out := make([]runtime.Value, len(args))
	for i, a := range args {
		out[i] = a
		if arr := a.Array(); arr != nil {
			c := *arr
			c.F = append([]float64(nil), arr.F...)
			c.I = append([]int64(nil), arr.I...)
			out[i] = runtime.Arr(&c)
		}
	}
	return out
}

// substCopies replaces function variables by fresh copies of lambdas.
func substCopies(e ir.Expr, fns map[*ir.Var]ir.Expr) ir.Expr {
	for v, lam := range fns {
		e = ir.ReplaceVar(e, v, func() ir.Expr { return ir.Copy(lam) })
	}
	return e
}

// randomValue draws an input of type t.
func randomValue(rng *rand.Rand, t ir.Type, ro *varRole, n int) runtime.Value {
	switch {
	case ro != nil && ro.index:
		return runtime.I64(int64(rng.IntN(n)))
	case ro != nil && ro.count:
		return runtime.I64(int64(rng.IntN(n + 1)))
	}
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return runtime.F64(randomF64(rng))
		case ir.I64:
			return runtime.I64(int64(rng.IntN(7)) - 3)
		}
		return runtime.Bool(rng.IntN(2) == 1)
	case *ir.Array:
		if _, isMatrix := t.Elem.(*ir.Array); isMatrix {
			cols := n%3 + 1
			xs := make([]float64, n*cols)
			for i := range xs {
				xs[i] = randomF64(rng)
			}
			a := runtime.FromF64(xs)
			a.Shape = []int{n, cols}
			return runtime.Arr(a)
		}
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = randomF64(rng)
		}
		return runtime.Arr(runtime.FromF64(xs))
	}
	return runtime.Value{}
}

func randomF64(rng *rand.Rand) float64 {
	switch rng.IntN(12) {
	case 0:
		return 0
	case 1:
		return 1
	case 2:
		return -1
	}
	return math.Round((rng.Float64()*4-2)*1e4) / 1e4
}

// randomFunc builds a function of type t from a family of smooth ones;
// assoc asks for an associative operator.
func randomFunc(rng *rand.Rand, t *ir.Func, assoc bool) (ir.Expr, string) {
	b := &ir.Builder{}
	a := math.Round((rng.Float64()*3-1.5)*100) / 100
	c := math.Round((rng.Float64()*2-1)*100) / 100
	names := []string{"u", "v", "w", "z"}
	ps := make([]string, len(t.Params))
	for i := range ps {
		ps[i] = names[min(i, 3)]
	}
	k := rng.IntN(3)
	var desc string
	lam := b.Lambda(ps, t.Params, func(v []*ir.Var) ir.Expr {
		x := func(i int) ir.Expr {
			if tt, ok := v[0].T.(*ir.Tuple); ok && len(t.Params) == 1 && len(tt.Elems) == 2 {
				return b.Proj(v[0], i)
			}
			if ir.Identical(v[i].T, ir.TI64) {
				return b.Prim(ir.PrimToF64, v[i])
			}
			return v[i]
		}
		mul := func(p, q ir.Expr) ir.Expr { return b.Prim(ir.PrimMul, p, q) }
		add := func(p, q ir.Expr) ir.Expr { return b.Prim(ir.PrimAdd, p, q) }
		arity := len(t.Params)
		if tt, ok := v[0].T.(*ir.Tuple); ok && arity == 1 && len(tt.Elems) == 2 {
			arity = 2
		}
		if arity == 2 && assoc {
			ops := []*ir.Prim{ir.PrimAdd, ir.PrimMul, ir.PrimMax, ir.PrimMin}
			op := ops[rng.IntN(len(ops))]
			desc = "fn(u, v) => " + op.Name + "(u, v)"
			return b.Prim(op, x(0), x(1))
		}
		switch {
		case arity == 1 && k == 0:
			desc = fmt.Sprintf("fn(u) => %g * u + %g", a, c)
			return add(mul(b.F64(a), x(0)), b.F64(c))
		case arity == 1 && k == 1:
			desc = fmt.Sprintf("fn(u) => sin(%g * u) + %g", a, c)
			return add(b.Prim(ir.PrimSin, mul(b.F64(a), x(0))), b.F64(c))
		case arity == 1:
			desc = fmt.Sprintf("fn(u) => %g * u * u + %g", a, c)
			return add(mul(b.F64(a), mul(x(0), x(0))), b.F64(c))
		case k == 0:
			desc = fmt.Sprintf("fn(u, v) => %g * u + %g * v", a, c)
			return add(mul(b.F64(a), x(0)), mul(b.F64(c), x(1)))
		case k == 1:
			desc = fmt.Sprintf("fn(u, v) => u * v + %g", a)
			return add(mul(x(0), x(1)), b.F64(a))
		}
		desc = fmt.Sprintf("fn(u, v) => sin(u) + %g * v", c)
		var s ir.Expr = b.Prim(ir.PrimSin, x(0))
		for i := 1; i < arity; i++ {
			s = add(s, mul(b.F64(c), x(i)))
		}
		return s
	})
	return lam, desc
}

// sameValue compares two values of type t: f64 to a relative tolerance
// (NaN equal to NaN), everything else exactly.
func SameValue(t ir.Type, a, b runtime.Value) bool {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return closeF64(a.F, b.F)
		}
		return a.I == b.I
	case *ir.Array:
		x, y := a.Array(), b.Array()
		if x == nil || y == nil || !runtime.SameShape(x.Shape, y.Shape) {
			return false
		}
		if k, ok := ir.Leaf(t); ok {
			switch k {
			case ir.F64:
				for i := range x.F {
					if !closeF64(x.F[i], y.F[i]) {
						return false
					}
				}
			case ir.I64:
				for i := range x.I {
					if x.I[i] != y.I[i] {
						return false
					}
				}
			default:
				for i := range x.B {
					if x.B[i] != y.B[i] {
						return false
					}
				}
			}
			return true
		}
		elem := t.Elem
		for i := 0; i < x.Len(); i++ {
			if !SameValue(elem, x.At(i), y.At(i)) {
				return false
			}
		}
		return true
	case *ir.Tuple:
		x, y := a.Tuple(), b.Tuple()
		if len(x) != len(y) || len(x) != len(t.Elems) {
			return false
		}
		for i := range x {
			if !SameValue(t.Elems[i], x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func closeF64(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
