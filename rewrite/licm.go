package rewrite

// licm: loop-invariant lets moved out of for loops.
//
// Reverse mode's loops over the elements of a row read, at every
// iteration, rows that depend only on an enclosing loop's index:
//
//	loop rev_7 = ... for i_16 < d do
//	  let y_15 = y[i_13] in let y_16 = y_15[i_15] in ... y_16[i_16] ...
//
// A let of the body whose value mentions neither the loop's index, nor
// its state, nor a let of the body that does, is computed the same at
// every iteration; licm binds it once, before the loop (and, loop by
// loop from the inside out, before the outermost loop it does not
// depend on). It moves only values that cannot fail and make no array
// that anything updates in place (sizewalk.go's safe: variables,
// projections, sizes, indexes proved in range, total scalar primitives),
// and none that read an array something updates in place (the loop
// might update it between iterations). So a loop of no iterations stays
// without error and without effect, and every value is the same. A let
// of the body that nothing uses and that cannot fail is dropped (dce
// keeps reads it cannot prove in range, such as the element reads
// reverse mode leaves in loops over a row).

import (
	"github.com/nabla-lang/nabla/ir"
)

// licm hoists the invariant lets of every for loop of e; it fails when
// there is none.
func licm(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	r := newSizeWalk(c, "licm")
	r.onLoop = r.hoist
	return r.run(e)
}

// hoist returns l preceded by the lets of its body that do not vary, and
// false when there is none. Lets of lets in the body (left there by the
// hoisting out of an inner loop) are flattened first.
func (r *sizeWalk) hoist(l *ir.Loop) (ir.Expr, bool) {
	variant := map[*ir.Var]bool{l.Index: true, l.State: true}
	used := uses(l.Body)
	var out, kept []*ir.Let
	dropped := 0
	var walk func(e ir.Expr) ir.Expr
	walk = func(e ir.Expr) ir.Expr {
		for {
			let, ok := e.(*ir.Let)
			if !ok {
				return e
			}
			val := let.Value
			if inner, ok := val.(*ir.Let); ok {
				val = walk(inner)
			}
			switch {
			case used[let.Var] == 0 && r.safe(val):
				// Unused and cannot fail: dropped (dce keeps an index
				// it cannot prove in range).
				dropped++
			case !ir.Mentions(val, variant) && r.safe(val) && !ir.Mentions(val, r.c.mutable):
				// A copy: the use counts see the value's nodes anew at
				// their new, less lazy, place.
				val = ir.Copy(val)
				r.learn(let.Var, val)
				out = append(out, &ir.Let{Var: let.Var, Value: val, P: let.P})
			default:
				variant[let.Var] = true
				kept = append(kept, &ir.Let{Var: let.Var, Value: val, P: let.P})
			}
			e = let.Body
		}
	}
	final := walk(l.Body)
	if len(out) == 0 && dropped == 0 {
		return nil, false
	}
	body := final
	for i := len(kept) - 1; i >= 0; i-- {
		body = &ir.Let{Var: kept[i].Var, Value: kept[i].Value, Body: body, P: kept[i].P}
	}
	// A copy: the hoisted variables' uses that stay in the body are now
	// further from their binders (lazy where they were eager), which the
	// use counts learn only from nodes they have not seen.
	body = ir.Copy(body)
	var res ir.Expr = &ir.Loop{State: l.State, Init: l.Init, Index: l.Index, Count: l.Count, Cond: l.Cond, Body: body, P: l.P}
	for i := len(out) - 1; i >= 0; i-- {
		res = &ir.Let{Var: out[i].Var, Value: out[i].Value, Body: res, P: out[i].P}
	}
	return res, true
}
