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
