package rulecheck

// Testing a rule with a where clause. The clause tests the subterms the
// variables matched, not their values: is_zero(z) holds of the literal
// 0.0, not of a variable that happens to be 0 at run time. An input is
// therefore one the rule could meet if some subterms with these values
// satisfy the clause: each variable's subterm may be a literal of its
// value, a variable or another term, and is_zero and is_one hold only of
// literals of value 0 and 1. Inputs for which none does are skipped, and
// variables that is_zero or is_one mention are drawn as 0 or 1 half of
// the time so that enough inputs remain.

import (
	"math/rand/v2"
	"slices"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// minWhereInputs is the fewest inputs satisfying a where clause for a
// rule to count as tested.
const minWhereInputs = 10

// termKind is what a rule variable's matched subterm is, as far as a
// where clause can tell.
type termKind int

const (
	literal termKind = iota
	variable
	compound
)

// condPreds lists the predicates of a where clause.
func condPreds(c ir.RuleCond) []*ir.CondPred {
	switch c := c.(type) {
	case *ir.CondNot:
		return condPreds(c.X)
	case *ir.CondAnd:
		return append(condPreds(c.X), condPreds(c.Y)...)
	case *ir.CondOr:
		return append(condPreds(c.X), condPreds(c.Y)...)
	case *ir.CondPred:
		return []*ir.CondPred{c}
	}
	return nil
}

// whereTargets maps each variable that is_zero or is_one mentions to the
// values worth drawing for it (0, 1 or both).
func whereTargets(c ir.RuleCond) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range condPreds(c) {
		x := map[string]float64{"is_zero": 0, "is_one": 1}
		if v, ok := x[p.Pred]; ok && !slices.Contains(out[p.Var], v) {
			out[p.Var] = append(out[p.Var], v)
		}
	}
	return out
}

// biasInput sets, half of the time, each variable whose name targets
// lists to one of its target values (all elements of an array).
func biasInput(rng *rand.Rand, targets map[string][]float64, params []*ir.Var, args []runtime.Value) {
	for i, v := range params {
		ts := targets[v.Name]
		if len(ts) == 0 || rng.IntN(2) == 0 {
			continue
		}
		args[i] = filled(v.T, args[i], ts[rng.IntN(len(ts))])
	}
}

// filled is a value of the shape of v with every number set to x; other
// values are left as they are.
func filled(t ir.Type, v runtime.Value, x float64) runtime.Value {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return runtime.F64(x)
		case ir.I64:
			return runtime.I64(int64(x))
		}
	case *ir.Array:
		a := v.Array()
		c := *a
		c.F = slices.Clone(a.F)
		for i := range c.F {
			c.F[i] = x
		}
		c.I = slices.Clone(a.I)
		for i := range c.I {
			c.I[i] = int64(x)
		}
		return runtime.Arr(&c)
	}
	return v
}

// valueFacts is what a where clause can learn from a variable's value.
type valueFacts struct {
	fn        bool // a function, never a literal
	zero, one bool // every number in it is 0, or 1
}

func factsOf(t ir.Type, v runtime.Value) valueFacts {
	if _, ok := t.(*ir.Func); ok {
		return valueFacts{fn: true}
	}
	return valueFacts{zero: allEqual(t, v, 0), one: allEqual(t, v, 1)}
}

// allEqual reports whether every number in v, of type t, is x (true of
// an empty array, as is_zero is of the literal []).
func allEqual(t ir.Type, v runtime.Value, x float64) bool {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return v.F == x
		case ir.I64:
			return float64(v.I) == x
		}
	case *ir.Array:
		a := v.Array()
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		switch a.Kind {
		case runtime.ElemF64:
			return !slices.ContainsFunc(a.F[:n], func(f float64) bool { return f != x })
		case runtime.ElemI64:
			return !slices.ContainsFunc(a.I[:n], func(i int64) bool { return float64(i) != x })
		}
	case *ir.Tuple:
		for i, e := range v.Tuple() {
			if !allEqual(t.Elems[i], e, x) {
				return false
			}
		}
		return true
	}
	return false
}

// whereHolds reports whether some subterms with values of these facts
// satisfy c.
func whereHolds(c ir.RuleCond, facts map[string]valueFacts) bool {
	var names []string
	for _, p := range condPreds(c) {
		names = append(names, p.Var)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	kinds := map[string]termKind{}
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(names) {
			return evalWhere(c, kinds, facts)
		}
		for _, k := range []termKind{literal, variable, compound} {
			if k == literal && facts[names[i]].fn {
				continue
			}
			kinds[names[i]] = k
			if try(i + 1) {
				return true
			}
		}
		return false
	}
	return try(0)
}

// evalWhere evaluates c with each variable's subterm of the given kind.
func evalWhere(c ir.RuleCond, kinds map[string]termKind, facts map[string]valueFacts) bool {
	switch c := c.(type) {
	case *ir.CondLit:
		return c.Val
	case *ir.CondNot:
		return !evalWhere(c.X, kinds, facts)
	case *ir.CondAnd:
		return evalWhere(c.X, kinds, facts) && evalWhere(c.Y, kinds, facts)
	case *ir.CondOr:
		return evalWhere(c.X, kinds, facts) || evalWhere(c.Y, kinds, facts)
	case *ir.CondPred:
		k := kinds[c.Var]
		switch c.Pred {
		case "is_const":
			return k == literal
		case "is_var":
			return k == variable
		case "is_zero":
			return k == literal && facts[c.Var].zero
		case "is_one":
			return k == literal && facts[c.Var].one
		}
	}
	return false
}
