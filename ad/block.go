package ad

import "github.com/nabla-lang/nabla/ir"

// block accumulates let bindings, in order, for code being generated: the
// A-normal form that both modes produce.
type block struct {
	binds []binding
	pos   ir.Pos
}

type binding struct {
	v   *ir.Var
	val ir.Expr
}

// bind binds e to a fresh variable (unless it is already an atom) and
// returns the atom.
func (b *block) bind(name string, e ir.Expr) ir.Expr {
	if e == nil || ir.IsAtom(e) {
		return e
	}
	v := ir.NewVar(name, e.Type(), b.pos)
	b.binds = append(b.binds, binding{v, e})
	return v
}

// bindVar binds e to a fresh variable even if e is an atom.
func (b *block) bindVar(name string, e ir.Expr) *ir.Var {
	v := ir.NewVar(name, e.Type(), b.pos)
	b.binds = append(b.binds, binding{v, e})
	return v
}

// close wraps the bindings around result.
func (b *block) close(result ir.Expr) ir.Expr {
	for i := len(b.binds) - 1; i >= 0; i-- {
		result = &ir.Let{Var: b.binds[i].v, Value: b.binds[i].val, Body: result, P: b.pos}
	}
	return result
}

// builder returns an ir.Builder positioned at the block's position.
func (b *block) builder() *ir.Builder { return &ir.Builder{Pos: b.pos} }
