package ir

import (
	"hash/maphash"
	"math"
)

// AlphaEqual reports whether a and b are the same term up to the renaming
// of the variables they bind. Free variables must be the same *Var.
func AlphaEqual(a, b Expr) bool {
	return eqTerm(a, b, map[*Var]*Var{})
}

func eqTerm(a, b Expr, ren map[*Var]*Var) bool {
	if a == b {
		return true
	}
	switch a := a.(type) {
	case *Var:
		b, ok := b.(*Var)
		if !ok {
			return false
		}
		if r, bound := ren[a]; bound {
			return r == b
		}
		return false
	case *Const:
		b, ok := b.(*Const)
		return ok && SameConst(a.Val, b.Val)
	case *Global:
		b, ok := b.(*Global)
		return ok && a.Name == b.Name
	case *Let:
		b, ok := b.(*Let)
		if !ok || !eqTerm(a.Value, b.Value, ren) {
			return false
		}
		ren[a.Var] = b.Var
		defer delete(ren, a.Var)
		return eqTerm(a.Body, b.Body, ren)
	case *Lambda:
		b, ok := b.(*Lambda)
		if !ok || len(a.Params) != len(b.Params) {
			return false
		}
		for i, p := range a.Params {
			if !Identical(p.T, b.Params[i].T) {
				return false
			}
			ren[p] = b.Params[i]
		}
		defer func() {
			for _, p := range a.Params {
				delete(ren, p)
			}
		}()
		return eqTerm(a.Body, b.Body, ren)
	case *Call:
		b, ok := b.(*Call)
		return ok && eqTerm(a.Fn, b.Fn, ren) && eqList(a.Args, b.Args, ren)
	case *PrimCall:
		b, ok := b.(*PrimCall)
		return ok && a.Op == b.Op && SameAux(a.Aux, b.Aux) && eqList(a.Args, b.Args, ren)
	case *MakeTuple:
		b, ok := b.(*MakeTuple)
		return ok && eqList(a.Elems, b.Elems, ren)
	case *Proj:
		b, ok := b.(*Proj)
		return ok && a.Index == b.Index && eqTerm(a.X, b.X, ren)
	case *If:
		b, ok := b.(*If)
		return ok && eqTerm(a.Cond, b.Cond, ren) && eqTerm(a.Then, b.Then, ren) && eqTerm(a.Else, b.Else, ren)
	case *Loop:
		b, ok := b.(*Loop)
		if !ok || (a.Count == nil) != (b.Count == nil) || (a.Cond == nil) != (b.Cond == nil) {
			return false
		}
		if !eqTerm(a.Init, b.Init, ren) || a.Count != nil && !eqTerm(a.Count, b.Count, ren) {
			return false
		}
		ren[a.State] = b.State
		defer delete(ren, a.State)
		if a.Cond != nil && !eqTerm(a.Cond, b.Cond, ren) {
			return false
		}
		if a.Index != nil {
			ren[a.Index] = b.Index
			defer delete(ren, a.Index)
		}
		return eqTerm(a.Body, b.Body, ren)
	}
	return false
}

func eqList(a, b []Expr, ren map[*Var]*Var) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqTerm(a[i], b[i], ren) {
			return false
		}
	}
	return true
}

// SameConst compares literal values; floats by bits, so that 0.0 and
// -0.0 differ and a NaN equals itself (a term is equal to itself).
func SameConst(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	}
	return a == b
}

// SameAux compares the static parameters of two primitive calls. Aux
// values of kinds it does not know are never equal, so terms carrying
// them are never merged.
func SameAux(a, b any) bool {
	switch a.(type) {
	case nil, int, int64, Dim, [2]Dim, DimCheck:
		return a == b
	}
	return false
}

var hashSeed = maphash.MakeSeed()

// Hash hashes e consistently with AlphaEqual: alpha-equal terms hash
// alike. Variables bound inside e contribute their binding depth, free
// variables their name and type.
func Hash(e Expr) uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	ids := map[*Var]uint64{}
	depth := uint64(0)
	var rec func(e Expr)
	bind := func(v *Var) {
		depth++
		ids[v] = depth
	}
	word := func(x uint64) {
		var b [8]byte
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		h.Write(b[:])
	}
	rec = func(e Expr) {
		switch e := e.(type) {
		case *Var:
			if id, ok := ids[e]; ok {
				word(1)
				word(id)
				return
			}
			word(2)
			h.WriteString(e.Name)
			h.WriteString(e.T.String())
			return
		case *Const:
			word(3)
			switch v := e.Val.(type) {
			case float64:
				word(math.Float64bits(v))
			case int64:
				word(uint64(v) ^ 0x55)
			case bool:
				if v {
					word(7)
				} else {
					word(8)
				}
			}
			return
		case *Global:
			word(4)
			h.WriteString(e.Name)
			return
		case *PrimCall:
			word(5)
			h.WriteString(e.Op.Name)
		case *Let:
			word(6)
			rec(e.Value)
			bind(e.Var)
			rec(e.Body)
			return
		case *Lambda:
			word(7)
			for _, p := range e.Params {
				bind(p)
			}
			rec(e.Body)
			return
		case *Loop:
			word(8)
			rec(e.Init)
			if e.Count != nil {
				rec(e.Count)
			}
			bind(e.State)
			if e.Cond != nil {
				rec(e.Cond)
			}
			if e.Index != nil {
				bind(e.Index)
			}
			rec(e.Body)
			return
		case *Proj:
			word(9)
			word(uint64(e.Index))
		case *Call:
			word(10)
		case *MakeTuple:
			word(11)
		case *If:
			word(12)
		}
		kids := Children(e)
		word(uint64(len(kids)))
		for _, k := range kids {
			rec(k)
		}
	}
	rec(e)
	return h.Sum64()
}

// A Hasher hashes the subterms of one term consistently with AlphaEqual,
// each in O(1) from its children's hashes, which it remembers. Hash
// numbers the variables bound inside the term it is given, so the hash
// of a subterm depends on where hashing started, and a pass that hashes
// every subterm (cse) pays O(size) at each node: O(n^2) on deep
// expressions. A Hasher gives each variable one hash for the whole term
// instead: a variable bound by a let hashes as the let's value does, a
// lambda's parameter by its place in the parameter list, a loop's state
// and index by their role, and any other variable (bound outside the
// term) by its identity. Alpha-equal terms still hash alike (by
// induction on the term), and a subterm's hash no longer depends on the
// context, so it is computed once.
//
// Binders must be declared before any term that uses them is hashed:
// BindLet for a let's variable, after its value; Enter for the
// parameters of a lambda and the state and index of a loop, before
// their bodies. Hash declares the binders inside the terms it hashes.
type Hasher struct {
	memo map[Expr]uint64
	vars map[*Var]uint64
	free uint64
}

// NewHasher returns a Hasher that has hashed nothing.
func NewHasher() *Hasher { return &Hasher{memo: map[Expr]uint64{}, vars: map[*Var]uint64{}} }

// hashKey is the per-process key of Hasher's mixing, so that hashes
// (and collisions) cannot be predicted from outside.
var hashKey = maphash.Comparable(hashSeed, 0x6e61626c61)

// mix combines a running hash with one more word.
func mix(h, x uint64) uint64 {
	h ^= x + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
	h *= 0xbf58476d1ce4e5b9 ^ hashKey
	return h ^ h>>31
}

// Tags of node kinds and variable roles in a Hasher's hashes.
const (
	hkFree = iota + 1
	hkLetVar
	hkParam
	hkState
	hkIndex
	hkF64
	hkI64
	hkBool
	hkGlobal
	hkPrim
	hkLet
	hkLambda
	hkLoop
	hkProj
	hkCall
	hkTuple
	hkIf
)

// BindLet declares v, bound by a let to value.
func (h *Hasher) BindLet(v *Var, value Expr) { h.vars[v] = mix(hkLetVar, h.Hash(value)) }

// Enter declares the variables that e binds for its body, if e is a
// lambda or a loop.
func (h *Hasher) Enter(e Expr) {
	switch e := e.(type) {
	case *Lambda:
		for i, p := range e.Params {
			h.vars[p] = mix(hkParam, uint64(i))
		}
	case *Loop:
		h.vars[e.State] = mix(hkState, 0)
		if e.Index != nil {
			h.vars[e.Index] = mix(hkIndex, 0)
		}
	}
}

// Hash returns e's hash.
func (h *Hasher) Hash(e Expr) uint64 {
	switch e := e.(type) {
	case *Var:
		x, ok := h.vars[e]
		if !ok {
			h.free++
			x = mix(hkFree, h.free)
			h.vars[e] = x
		}
		return x
	case *Const:
		switch v := e.Val.(type) {
		case float64:
			return mix(hkF64, math.Float64bits(v))
		case int64:
			return mix(hkI64, uint64(v))
		case bool:
			if v {
				return mix(hkBool, 1)
			}
			return mix(hkBool, 0)
		}
		return hkF64
	case *Global:
		return mix(hkGlobal, maphash.String(hashSeed, e.Name))
	}
	if x, ok := h.memo[e]; ok {
		return x
	}
	var x uint64
	switch e := e.(type) {
	case *Let:
		x = mix(hkLet, h.Hash(e.Value))
		h.BindLet(e.Var, e.Value)
		x = mix(x, h.Hash(e.Body))
	case *Lambda:
		h.Enter(e)
		x = mix(mix(hkLambda, uint64(len(e.Params))), h.Hash(e.Body))
	case *Loop:
		h.Enter(e)
		x = hkLoop
		for _, k := range Children(e) {
			x = mix(x, h.Hash(k))
		}
		if e.Count != nil {
			x = mix(x, 1)
		}
		if e.Index != nil {
			x = mix(x, 2)
		}
	default:
		switch e := e.(type) {
		case *PrimCall:
			x = mix(hkPrim, maphash.String(hashSeed, e.Op.Name))
		case *Proj:
			x = mix(hkProj, uint64(e.Index))
		case *Call:
			x = hkCall
		case *MakeTuple:
			x = hkTuple
		case *If:
			x = hkIf
		}
		kids := Children(e)
		x = mix(x, uint64(len(kids)))
		for _, k := range kids {
			x = mix(x, h.Hash(k))
		}
	}
	h.memo[e] = x
	return x
}
