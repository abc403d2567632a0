package ir

import (
	"fmt"
)

// Checkpointing points. Reverse mode (package ad) can run a
// comprehension's forward code once and save what its reverse loop reads
// (a tape), or recompute that code in the reverse loop. Rather than pick
// one itself, it emits both forms side by side, joined by remat markers
// that share the comprehension's id, and the rewrite stage decides (its
// passes remat, save_all and remat_all):
//
//	remat(id, recompute, save)  the value of the recompute or the save form
//	remat(id, saved)            a value only the save form needs (the tape)
//
// A decision replaces every marker of one id: the three-argument markers
// by one of their forms, the two-argument ones by their value when the
// save form is kept and something reads it, and otherwise it drops the
// let that binds them. Markers never run: evaluating one is an error.

// PrimRemat is the checkpointing marker.
var PrimRemat = Register(&Prim{Name: "remat", Arity: -1, MinArgs: 2, Doc: "remat(id, recompute, save) or remat(id, saved): a checkpointing point that the rewrite stage resolves",
	Class: Internal, Fails: MayFail, Storage: Shared, NoDerivative: true,
	Type: func(args []Type, _ any) (Type, error) {
		if len(args) > 3 {
			return nil, fmt.Errorf("remat: %d arguments, want 2 or 3", len(args))
		}
		if err := needKind("remat", 0, args[0], I64); err != nil {
			return nil, err
		}
		if len(args) == 3 && !Equal(args[1], args[2]) {
			return nil, fmt.Errorf("remat: the forms have types %s and %s", args[1], args[2])
		}
		return args[1], nil
	},
	Eval: func(*Site) (Impl, error) {
		return nil, fmt.Errorf("internal error: a remat checkpointing point was not resolved before evaluation")
	}})

// A RematSite is one comprehension whose checkpointing is to be decided.
type RematSite struct {
	ID   int64
	Pos  Pos
	Orig Expr      // the comprehension as the recompute form computes it
	Tape *PrimCall // the save form's forward code: build(n, fn(i) => ...; (y, saved...))
}

// Saved is the number of values the save form keeps per element, the
// comprehension's result included.
func (s RematSite) Saved() int {
	if s.Tape == nil {
		return 0
	}
	if t, ok := s.Tape.T.(*Array); ok {
		if tt, ok := t.Elem.(*Tuple); ok {
			return len(tt.Elems)
		}
	}
	return 1
}

// HasRemat reports whether e holds a checkpointing point.
func HasRemat(e Expr) bool {
	found := false
	Walk(e, func(x Expr, enter bool) {
		if pc, ok := x.(*PrimCall); ok && enter && pc.Op == PrimRemat {
			found = true
		}
	}, nil)
	return found
}

func rematID(pc *PrimCall) int64 {
	if k, ok := pc.Args[0].(*Const); ok {
		if id, ok := k.Val.(int64); ok {
			return id
		}
	}
	return -1
}

// RematSites lists the checkpointing points of e by id, in the order
// their first marker appears.
func RematSites(e Expr) []RematSite {
	var out []RematSite
	at := map[int64]int{}
	Walk(e, func(x Expr, enter bool) {
		pc, ok := x.(*PrimCall)
		if !ok || !enter || pc.Op != PrimRemat {
			return
		}
		id := rematID(pc)
		i, seen := at[id]
		if !seen {
			i = len(out)
			at[id] = i
			out = append(out, RematSite{ID: id, Pos: pc.P})
		}
		s := &out[i]
		if len(pc.Args) == 3 && s.Orig == nil {
			s.Orig = pc.Args[1]
		}
		if b, ok := pc.Args[1].(*PrimCall); ok && len(pc.Args) == 2 && b.Op == PrimBuild && s.Tape == nil {
			s.Tape = b
		}
	}, nil)
	return out
}

// ResolveRemat replaces every checkpointing point of e by the form save
// chooses for its id. A value only the save form needs that is read
// after a recompute decision is an internal error.
func ResolveRemat(e Expr, save func(id int64) bool) (Expr, error) {
	var err error
	// seen counts the occurrences of each variable in the resolved code
	// built so far (every piece rec returns is kept): whether x's resolved
	// body reads x is then a difference of counts, not a walk of the body,
	// which made resolving a def quadratic in its length.
	seen := map[*Var]int{}
	var rec func(e Expr) Expr
	rec = func(e Expr) Expr {
		switch x := e.(type) {
		case *Var:
			seen[x]++
		case *Let:
			pc, ok := x.Value.(*PrimCall)
			if !ok || pc.Op != PrimRemat {
				break
			}
			before := seen[x.Var]
			body := rec(x.Body)
			if len(pc.Args) == 2 {
				used := seen[x.Var] > before
				if used && save(rematID(pc)) {
					return flattenLet(x.Var, rec(pc.Args[1]), body, x.P)
				}
				if used && err == nil {
					err = fmt.Errorf("internal error: %s, which only the save form of checkpointing point %d needs, is read after it is recomputed", x.Var.Name, rematID(pc))
				}
				return body
			}
			return flattenLet(x.Var, rec(pick(pc, save)), body, x.P)
		case *PrimCall:
			if x.Op == PrimRemat {
				if len(x.Args) == 2 {
					if err == nil {
						err = fmt.Errorf("internal error: checkpointing point %d keeps a value outside a let", rematID(x))
					}
					return x
				}
				return rec(pick(x, save))
			}
		}
		return Rebuild(e, rec)
	}
	out := rec(e)
	return out, err
}

func pick(pc *PrimCall, save func(id int64) bool) Expr {
	if save(rematID(pc)) {
		return pc.Args[2]
	}
	return pc.Args[1]
}

// flattenLet is let v = val in body with the lets that val begins with
// moved in front, as reverse mode binds the code of either form: the
// resolved code is then the code reverse mode would have emitted for it.
func flattenLet(v *Var, val, body Expr, p Pos) Expr {
	if l, ok := val.(*Let); ok {
		return &Let{Var: l.Var, Value: l.Value, Body: flattenLet(v, l.Body, body, p), P: l.P}
	}
	return &Let{Var: v, Value: val, Body: body, P: p}
}

// CheapForward reports whether forward code, a chain of lets (as reverse
// mode binds it), is scalar arithmetic on elements read from arrays:
// every value a primitive of rank 0 without function arguments, an
// index, or a scalar projection. Recomputing such code in the reverse
// loop costs less than saving its values (a tuple per element and a
// second array to take the results from). Code with a call, a loop, a
// comprehension or an array result is not.
func CheapForward(e Expr) bool {
	for {
		l, ok := e.(*Let)
		if !ok {
			return true
		}
		switch v := l.Value.(type) {
		case *PrimCall:
			if v.Op != PrimIndex {
				if Rank(v.T) > 0 {
					return false
				}
				for _, a := range v.Args {
					if _, isFn := a.Type().(*Func); isFn {
						return false
					}
				}
			}
		case *Proj:
			if Rank(l.Var.T) > 0 {
				return false
			}
		default:
			return false
		}
		e = l.Body
	}
}

// Cheap reports whether the site's forward code is cheap (CheapForward).
func (s RematSite) Cheap() bool {
	if s.Tape == nil {
		return false
	}
	lam, ok := s.Tape.Args[1].(*Lambda)
	return ok && CheapForward(lam.Body)
}

// ResolveRematProgram resolves the checkpointing points of every def of p
// as the default policy does (recompute cheap forward code, save the
// rest), for code that runs without the rewrite stage.
func ResolveRematProgram(p *Program) (*Program, error) {
	out := NewProgram(nil)
	out.Rules, out.Strats = p.Rules, p.Strats
	for _, d := range p.Defs {
		if d.Body != nil && HasRemat(d.Body) {
			body, err := ResolveRematDefault(d.Body)
			if err != nil {
				return nil, fmt.Errorf("def %s: %v", d.Name, err)
			}
			nd := *d
			nd.Body = body
			d = &nd
		}
		out.Add(d)
	}
	return out, nil
}

// ResolveRematDefault resolves e's checkpointing points by the default
// policy.
func ResolveRematDefault(e Expr) (Expr, error) {
	save := map[int64]bool{}
	for _, s := range RematSites(e) {
		save[s.ID] = !s.Cheap()
	}
	return ResolveRemat(e, func(id int64) bool { return save[id] })
}
