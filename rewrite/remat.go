package rewrite

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// The checkpointing passes. Reverse mode emits a comprehension of a VJP
// def in two forms, one that saves what its reverse loop reads and one
// that recomputes it there, joined by checkpointing points
// (ir.PrimRemat); a checkpointing pass decides each point and keeps one
// form. A def's policy is the checkpointing pass its strategy names
// (that of the def it differentiates, for f$vjp; remat when none does):
// it runs before anything else rewrites the def, each decision one trace
// line at the comprehension's position, and where it stands in the
// strategy it then succeeds unchanged. (Other passes never see both
// forms: they thread the same in-place accumulators.)

// rematS is a checkpointing pass: decide says, for one point, whether to
// save and the name of the rule that says so.
type rematS struct {
	name   string
	decide func(s ir.RematSite) (save bool, rule string)
}

func (p *rematS) String() string { return p.name }

var (
	// rematDefault is remat, the default policy: recompute forward code
	// that is scalar arithmetic on elements (ir.CheapForward), save the
	// rest.
	rematDefault = &rematS{name: "remat", decide: func(s ir.RematSite) (bool, string) {
		if s.Cheap() {
			return false, "remat.cheap_body"
		}
		return true, "remat.save"
	}}
	// saveAllS saves every comprehension's tape (nothing runs twice);
	// rematAllS recomputes every one (the least memory).
	saveAllS  = &rematS{name: "save_all", decide: func(ir.RematSite) (bool, string) { return true, "save_all" }}
	rematAllS = &rematS{name: "remat_all", decide: func(ir.RematSite) (bool, string) { return false, "remat_all" }}
)

// apply resolves the checkpointing points of e; without any, it succeeds
// unchanged.
func (p *rematS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	out, err := p.resolve(c, e)
	if err != nil || out == e {
		return e, err == nil, err
	}
	c.uses.Replace(e, out, c.lazy)
	return out, true, nil
}

// resolve is apply without the use counts: e itself, or a fresh copy
// (inline's).
func (p *rematS) resolve(c *ctx, e ir.Expr) (ir.Expr, error) {
	if !ir.HasRemat(e) {
		return e, nil
	}
	save := map[int64]bool{}
	for _, s := range ir.RematSites(e) {
		keep, rule := p.decide(s)
		save[s.ID] = keep
		if err := c.fireText(rule, s.Pos, func() (string, string) {
			if keep {
				return short(s.Orig), fmt.Sprintf("save %d value%s per element in the forward sweep", s.Saved(), plural(s.Saved()))
			}
			return short(s.Orig), "recompute in the reverse loop (the primal runs twice)"
		}); err != nil {
			return e, err
		}
	}
	out, err := ir.ResolveRemat(e, func(id int64) bool { return save[id] })
	if err != nil {
		return e, &stratError{err.Error()}
	}
	return out, nil
}

// policyOf is the checkpointing pass s names (the first, in the order
// it is written), or nil.
func policyOf(s Strategy) *rematS {
	switch s := s.(type) {
	case *rematS:
		return s
	case seqS:
		for _, x := range s {
			if p := policyOf(x); p != nil {
				return p
			}
		}
	case choiceS:
		for _, x := range s {
			if p := policyOf(x); p != nil {
				return p
			}
		}
	case *unary:
		return policyOf(s.s)
	case *named:
		return policyOf(s.s)
	}
	return nil
}

// policyFor is the checkpointing policy of def d rewritten with s: the
// pass s names (unless s is default, which d gets by default), else the
// one the strategy of the def d differentiates names (its @checkpoint
// attribute, which reverse mode sets), else remat.
func (e *env) policyFor(d *ir.Def, s Strategy) *rematS {
	if p := policyOf(s); p != nil && s != e.rw.Default() {
		return p
	}
	if at := d.Attr("checkpoint"); at != nil {
		if src := e.prog.Def(at.Fn); src != nil {
			if st := src.Attr("strategy"); st != nil && st.Strategy != nil {
				if ss, err := e.compile(st.Strategy, st.P.File, map[string]bool{}); err == nil {
					if p := policyOf(ss); p != nil {
						return p
					}
				}
			}
		}
	}
	return rematDefault
}

// traceRecomputed lists in the trace, after the checkpointing pass's own
// decisions, the forward values of d that reverse mode decided itself to
// recompute (ir.Def.Recomputed): operations on views inside nested
// comprehensions and loops, which a def whose strategy names save_all
// saves instead.
func traceRecomputed(c *ctx, d *ir.Def) error {
	for _, n := range d.Recomputed {
		if err := c.fireText(n.Rule, n.Pos, func() (string, string) {
			return short(n.Expr), "recompute in the reverse pass (not saved; save_all saves it)"
		}); err != nil {
			return err
		}
	}
	return nil
}
