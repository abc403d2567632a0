package rewrite

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Strategy is a rewrite strategy (SPEC §7): applied to a term, it
// succeeds with a new term or fails. Rules and built-in passes are the
// leaves; combinators (Seq, Choice, Try, Repeat, All, One, Some, TopDown,
// BottomUp, Innermost, Outermost, Normalize) build the rest.
type Strategy interface {
	// String renders the strategy in the surface syntax.
	String() string
	apply(c *ctx, e ir.Expr) (ir.Expr, bool, error)
}

// Limits of one def's rewriting. A repeat or normalize that makes more
// than its fuel of rewrites stops with an error naming the strategy and
// the rule that kept firing; the fuel is DefaultFuel, or ten rewrites per
// node of the term it starts on when that is more. maxSteps bounds all
// rewrites in one def, and traversals may nest at most slackDepth levels
// deeper than twice the def's body, so that a rule that grows the term
// under topdown stops with an error too.
const (
	DefaultFuel = 10000
	maxSteps    = 1000000
	slackDepth  = 1000
)

// DefaultMaxSteps is the step budget of rewriting a whole program when
// Options.MaxSteps is 0 (see there): about a minute of work on one core,
// and several times what the largest programs of the compile-time
// benchmark need (docs/benchmarks.md).
const DefaultMaxSteps = 200_000_000

// checkEvery is how many steps pass between looks at the context.
const checkEvery = 4096

// ctx is the state of rewriting one def.
type ctx struct {
	env   *env
	def   string
	trace *Trace
	fuel  int // per repeat/normalize; 0 means the default

	pos       ir.Pos // the nearest enclosing valid position
	protected bool   // the current term's value flows into an in-place primitive's accumulator
	depth     int
	maxDepth  int
	steps     int
	recent    [64]string // the names of the last rewrites, a ring
	nrecent   int
	inplace   bool             // the def uses in-place primitives
	mutable   map[*ir.Var]bool // see ir.MutableVars; mset.Vars
	mset      *ir.MutableSet
	mutOld    map[*ir.Var]bool // with checkUses: mutable as computed by ir.MutableVars

	// facts and uses answer, in O(1), questions that would otherwise walk
	// a subterm at every node (see ir.Facts and ir.UseCounts). uses
	// describes the def's body as rewritten so far: every rewrite that
	// takes effect updates it (fire, wholeS), and try rolls back those
	// that a failing strategy discards.
	facts *ir.Facts
	uses  *ir.UseCounts
	lazy  int              // the lazy depth of the current position (ir.LazyChild)
	far   map[*ir.Var]bool // let variables whose single use was beyond let_inline's reach

	normal map[ir.Expr]bool // the terms the innermost normalize knows to be normal
	policy *rematS          // the def's checkpointing policy (remat.go)
	walked int              // c.uses.Walked() at the last tick
}

func newCtx(e *env, def string, body ir.Expr, trace *Trace, fuel int) *ctx {
	c := &ctx{env: e, def: def, trace: trace, fuel: fuel, maxDepth: 2*ir.Depth(body) + slackDepth}
	c.facts = ir.NewFacts()
	if c.facts.HasInPlace(body) {
		c.trackInPlace()
		c.mset.Add(body)
		if checkUses {
			c.mutOld = ir.MutableVars(body)
		}
	}
	c.uses = ir.NewUseCounts(body)
	// What is remembered about a node that a rewrite dropped from the
	// term is let go: the memos would otherwise keep every node ever
	// built alive (gigabytes for a long let chain).
	c.uses.OnDrop = func(e ir.Expr) {
		c.facts.Forget(e)
		delete(c.normal, e)
		if c.mset != nil {
			c.mset.Forget(e)
		}
	}
	c.far = map[*ir.Var]bool{}
	return c
}

// trackInPlace starts tracking the variables that in-place primitives
// overwrite, from an empty set.
func (c *ctx) trackInPlace() {
	c.inplace = true
	c.mset = ir.NewMutableSet()
	c.mutable = c.mset.Vars
	if checkUses {
		c.mutOld = map[*ir.Var]bool{}
	}
}

// try applies s to e, the term at the current position. A strategy that
// fails leaves the term as it was, so the use counts go back to what
// they were too.
func (c *ctx) try(s Strategy, e ir.Expr) (ir.Expr, bool, error) {
	if err := c.tick(1); err != nil {
		return e, false, err
	}
	mark := c.uses.Mark()
	out, ok, err := s.apply(c, e)
	if !ok && err == nil {
		c.uses.Rollback(mark)
	}
	return out, ok, err
}

// tick counts n steps (and the nodes the use counts walked since the
// last tick), and now and then checks the context and the budget.
func (c *ctx) tick(n int) error {
	e := c.env
	if e == nil {
		return nil
	}
	w := c.uses.Walked()
	e.steps += int64(n + w - c.walked)
	c.walked = w
	if e.steps < e.nextCheck {
		return nil
	}
	e.nextCheck = e.steps + checkEvery
	if e.cancel != nil {
		if err := e.cancel.Err(); err != nil {
			return fmt.Errorf("rewriting def %s: %w", c.def, err)
		}
	}
	if e.maxSteps > 0 && e.steps > e.maxSteps {
		return &stratError{fmt.Sprintf("rewriting the program takes more than %d steps (rewrite.Options.MaxSteps), reached in def %s; %s", e.maxSteps, c.def, c.culprit())}
	}
	return nil
}

// varUses is ir.VarUses(l.Body, l.Var) for the let l at the current
// position, from the use counts.
func (c *ctx) varUses(l *ir.Let) (n int, lazy bool) {
	n, lazy = c.uses.Uses(l.Var)
	if checkUses {
		if wn, wl := ir.VarUses(l.Body, l.Var); wn != n || wl != lazy {
			panic(fmt.Sprintf("rewrite: use counts of %s in def %s: have (%d, %v), want (%d, %v)", l.Var.Name, c.def, n, lazy, wn, wl))
		}
	}
	return n, lazy
}

// checkUses makes varUses compare the use counts with a walk of the
// let's body (tests turn it on).
var checkUses = false

// stratError is an error of the rewriting itself (fuel exhausted); the
// caller positions it.
type stratError struct{ msg string }

func (e *stratError) Error() string { return e.msg }

// fire records a successful rewrite of before into after by the rule or
// pass name.
func (c *ctx) fire(name string, before, after ir.Expr) error {
	c.uses.Replace(before, after, c.lazy)
	return c.note(name, before, after)
}

// note records a rewrite like fire, for a pass that rewrites a copy of
// the term (cse) and reports the result as a whole.
func (c *ctx) note(name string, before, after ir.Expr) error {
	c.addMutable(after)
	return c.fireText(name, c.posOf(before), func() (string, string) { return short(before), short(after) })
}

// addMutable adds the variables that e, new in the term, overwrites in
// place to c.mutable, from facts remembered per node: ir.MutableVars(e)
// would walk all of e, which is most of the def for a rewrite of a let
// near its start. Every pass that puts new code in the term calls it.
func (c *ctx) addMutable(e ir.Expr) {
	if !c.inplace {
		return
	}
	c.mset.Add(e)
	if checkUses {
		for v := range ir.MutableVars(e) {
			c.mutOld[v] = true
		}
		if !maps.Equal(c.mutOld, c.mutable) {
			panic(fmt.Sprintf("rewrite: mutable variables of def %s: have %d, want %d", c.def, len(c.mutable), len(c.mutOld)))
		}
	}
}

// fireText records a rewrite whose description text gives (called only
// when tracing).
func (c *ctx) fireText(name string, pos ir.Pos, text func() (before, after string)) error {
	if c.trace != nil {
		b, a := text()
		c.trace.Steps = append(c.trace.Steps, Step{Name: name, Def: c.def, Pos: pos, Before: b, After: a})
	}
	return c.count(name)
}

func (c *ctx) count(name string) error {
	c.steps++
	c.recent[c.nrecent%len(c.recent)] = name
	c.nrecent++
	if c.steps > maxSteps {
		return &stratError{fmt.Sprintf("more than %d rewrites in def %s; %s", maxSteps, c.def, c.culprit())}
	}
	return nil
}

// culprit names the rule that fired most among the last rewrites.
func (c *ctx) culprit() string {
	counts := map[string]int{}
	n := min(c.nrecent, len(c.recent))
	for i := 0; i < n; i++ {
		counts[c.recent[i]]++
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	if len(names) == 0 {
		return "no rule fired"
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	return "rule " + names[0] + " kept firing"
}

func (c *ctx) posOf(e ir.Expr) ir.Pos {
	if p := e.Pos(); p.IsValid() {
		return p
	}
	return c.pos
}

// fuelFor is the number of rewrites a repeat or normalize may make.
func (c *ctx) fuelFor(e ir.Expr) int {
	if c.fuel > 0 {
		return c.fuel
	}
	return max(DefaultFuel, 10*ir.Size(e))
}

func (c *ctx) outOfFuel(s Strategy, n int) error {
	return &stratError{fmt.Sprintf("%s made more than %d rewrites without reaching a normal form; %s", s, n, c.culprit())}
}

// childProtected reports whether child i of e (in children order) holds
// a value that flows into an in-place accumulator, given whether e does.
func (c *ctx) childProtected(e ir.Expr, i int, parent bool) bool {
	if !c.inplace {
		return false
	}
	if parent && ir.IsFlowKid(e, i) {
		return true
	}
	switch e := e.(type) {
	case *ir.PrimCall:
		return e.Op.InPlace() && i == 0
	case *ir.Let:
		return i == 0 && c.mutable[e.Var]
	case *ir.Loop:
		return (i == 0 || i == len(ir.Children(e))-1) && c.mutable[e.State]
	}
	return false
}

// eachChild rebuilds e with f applied to its children, keeping the
// context (position, protection, depth) right for each.
func (c *ctx) eachChild(e ir.Expr, f func(i int, k ir.Expr) (ir.Expr, error)) (ir.Expr, error) {
	out, err := c.descend(e, f)
	if err == nil && out != e {
		c.uses.Known(out)
	}
	return out, err
}

// descend is eachChild for a pass that rebuilds the term on its own
// (cse): the parent it rebuilds is not yet part of the term.
func (c *ctx) descend(e ir.Expr, f func(i int, k ir.Expr) (ir.Expr, error)) (ir.Expr, error) {
	savedPos, savedProt, savedLazy := c.pos, c.protected, c.lazy
	if p := e.Pos(); p.IsValid() {
		c.pos = p
	}
	c.depth++
	defer func() { c.pos, c.protected, c.lazy = savedPos, savedProt, savedLazy; c.depth-- }()
	if c.depth > c.maxDepth {
		return nil, &stratError{fmt.Sprintf("traversal deeper than %d levels in def %s (the term keeps growing); %s", c.maxDepth, c.def, c.culprit())}
	}
	pos := c.pos
	return ir.MapChildren(e, func(i int, k ir.Expr) (ir.Expr, error) {
		c.pos = pos
		c.protected = c.childProtected(e, i, savedProt)
		c.lazy = savedLazy
		if ir.LazyChild(e, i) {
			c.lazy++
		}
		return f(i, k)
	})
}

// ---- combinators ----

type idS struct{}
type failS struct{}

// Id succeeds with the term unchanged; Fail always fails.
var (
	Id   Strategy = idS{}
	Fail Strategy = failS{}
)

func (idS) String() string                                   { return "id" }
func (idS) apply(_ *ctx, e ir.Expr) (ir.Expr, bool, error)   { return e, true, nil }
func (failS) String() string                                 { return "fail" }
func (failS) apply(_ *ctx, e ir.Expr) (ir.Expr, bool, error) { return e, false, nil }

type seqS []Strategy

// Seq applies each strategy to the result of the previous one; it fails
// when any fails.
func Seq(ss ...Strategy) Strategy { return seqS(ss) }

func (s seqS) String() string { return join(s, "; ") }
func (s seqS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	for _, x := range s {
		var ok bool
		var err error
		if e, ok, err = c.try(x, e); err != nil || !ok {
			return e, false, err
		}
	}
	return e, true, nil
}

type choiceS []Strategy

// Choice is left choice: the first strategy that succeeds.
func Choice(ss ...Strategy) Strategy { return choiceS(ss) }

func (s choiceS) String() string { return join(s, " <+ ") }
func (s choiceS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	for _, x := range s {
		out, ok, err := c.try(x, e)
		if err != nil || ok {
			return out, ok, err
		}
	}
	return e, false, nil
}

func join(ss []Strategy, sep string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
		switch s.(type) {
		case seqS, choiceS:
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, sep)
}

// unary is a combinator of one strategy.
type unary struct {
	name string
	s    Strategy
	run  func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error)
}

func (u *unary) String() string                                 { return u.name + "(" + u.s.String() + ")" }
func (u *unary) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) { return u.run(u, c, e) }

// Try applies s, or succeeds unchanged where s fails.
func Try(s Strategy) Strategy {
	return &unary{name: "try", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		out, ok, err := c.try(u.s, e)
		if err != nil || !ok {
			return e, err == nil, err
		}
		return out, true, nil
	}}
}

// Repeat applies s until it fails; it always succeeds.
func Repeat(s Strategy) Strategy {
	return &unary{name: "repeat", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		fuel := c.fuelFor(e)
		for n := 0; ; n++ {
			out, ok, err := c.try(u.s, e)
			if err != nil {
				return e, false, err
			}
			if !ok {
				return e, true, nil
			}
			if n >= fuel {
				return e, false, c.outOfFuel(u, fuel)
			}
			e = out
		}
	}}
}

// All applies s to every child; it fails when s fails on one. A term
// without children succeeds unchanged.
func All(s Strategy) Strategy {
	return &unary{name: "all", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		failed := false
		out, err := c.eachChild(e, func(_ int, k ir.Expr) (ir.Expr, error) {
			if failed {
				return k, nil
			}
			y, ok, err := c.try(u.s, k)
			if !ok {
				failed = true
			}
			return y, err
		})
		if err != nil || failed {
			return e, false, err
		}
		return out, true, nil
	}}
}

// One applies s to the first child on which it succeeds; it fails when
// there is none.
func One(s Strategy) Strategy {
	return &unary{name: "one", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		done := false
		out, err := c.eachChild(e, func(_ int, k ir.Expr) (ir.Expr, error) {
			if done {
				return k, nil
			}
			y, ok, err := c.try(u.s, k)
			if ok {
				done = true
				return y, err
			}
			return k, err
		})
		if err != nil || !done {
			return e, false, err
		}
		return out, true, nil
	}}
}

// Some applies s to every child on which it succeeds; it fails when it
// succeeds on none.
func Some(s Strategy) Strategy {
	return &unary{name: "some", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		any := false
		out, err := c.eachChild(e, func(_ int, k ir.Expr) (ir.Expr, error) {
			y, ok, err := c.try(u.s, k)
			if ok {
				any = true
				return y, err
			}
			return k, err
		})
		if err != nil || !any {
			return e, false, err
		}
		return out, true, nil
	}}
}

// TopDown applies s to the term and then, top down, to every subterm of
// the result: s; all(topdown(s)). It fails where s fails; topdown(try(s))
// is the usual form.
func TopDown(s Strategy) Strategy {
	var self *unary
	self = &unary{name: "topdown", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		out, ok, err := c.try(u.s, e)
		if err != nil || !ok {
			return e, false, err
		}
		return c.try(All(self), out)
	}}
	return self
}

// BottomUp applies s to every subterm, children first, then to the term:
// all(bottomup(s)); s.
func BottomUp(s Strategy) Strategy {
	var self *unary
	self = &unary{name: "bottomup", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		out, ok, err := c.try(All(self), e)
		if err != nil || !ok {
			return e, false, err
		}
		return c.try(u.s, out)
	}}
	return self
}

// oncetd applies s at the first position, top down, where it succeeds.
func oncetd(c *ctx, s Strategy, e ir.Expr) (ir.Expr, bool, error) {
	out, ok, err := c.try(s, e)
	if err != nil || ok {
		return out, ok, err
	}
	done := false
	out, err = c.eachChild(e, func(_ int, k ir.Expr) (ir.Expr, error) {
		if done {
			return k, nil
		}
		y, ok, err := oncetd(c, s, k)
		if ok {
			done = true
			return y, err
		}
		return k, err
	})
	if err != nil || !done {
		return e, false, err
	}
	return out, true, nil
}

// Outermost rewrites with s at the outermost, leftmost position where it
// applies, again and again, until it applies nowhere; it always succeeds.
func Outermost(s Strategy) Strategy {
	return &unary{name: "outermost", s: s, run: func(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
		fuel := c.fuelFor(e)
		for n := 0; ; n++ {
			out, ok, err := oncetd(c, u.s, e)
			if err != nil {
				return e, false, err
			}
			if !ok {
				return e, true, nil
			}
			if n >= fuel {
				return e, false, c.outOfFuel(u, fuel)
			}
			e = out
		}
	}}
}

// Innermost rewrites with s until it applies nowhere, children before
// their parent; it always succeeds.
func Innermost(s Strategy) Strategy { return &unary{name: "innermost", s: s, run: runNormal} }

// Normalize rewrites with s anywhere in the term until it applies
// nowhere, and always succeeds. It is innermost(s) (the cheapest order:
// each subterm is normalized once and remembered).
func Normalize(s Strategy) Strategy { return &unary{name: "normalize", s: s, run: runNormal} }

// runNormal normalizes bottom up. Subterms already in normal form are
// remembered by identity, so after a rewrite only the new parts of the
// result are visited again; this is sound because every leaf strategy
// looks only at the term it is given.
func runNormal(u *unary, c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	fuel := c.fuelFor(e)
	n := 0
	normal := map[ir.Expr]bool{}
	saved := c.normal
	c.normal = normal
	defer func() { c.normal = saved }()
	var norm func(e ir.Expr) (ir.Expr, error)
	norm = func(e ir.Expr) (ir.Expr, error) {
		if normal[e] {
			return e, nil
		}
		var err error
		if e, err = c.eachChild(e, func(_ int, k ir.Expr) (ir.Expr, error) { return norm(k) }); err != nil {
			return nil, err
		}
		for {
			out, ok, err := c.try(u.s, e)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			if n++; n > fuel {
				return nil, c.outOfFuel(u, fuel)
			}
			if out, err = c.eachChild(out, func(_ int, k ir.Expr) (ir.Expr, error) { return norm(k) }); err != nil {
				return nil, err
			}
			e = out
		}
		normal[e] = true
		return e, nil
	}
	out, err := norm(e)
	if err != nil {
		return e, false, err
	}
	return out, true, nil
}

// named is a user strategy declaration, shown by its name.
type named struct {
	name string
	s    Strategy
}

func (n *named) String() string                                 { return n.name }
func (n *named) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) { return c.try(n.s, e) }

// ---- traces ----

// Step is one successful rule or pass application.
type Step struct {
	Name   string // the rule ("mul_one"), built-in rule ("simplify.mul_one") or pass ("cse")
	Def    string // the def being rewritten
	Pos    ir.Pos // where: the rewritten term's position, or the nearest enclosing one
	Before string // short forms of the term before and after
	After  string
}

// String renders the step as one line, beginning with its name.
func (s Step) String() string {
	return fmt.Sprintf("%s %s: %s => %s", s.Name, s.Pos, s.Before, s.After)
}

// Trace lists rewrites in the order they happened.
type Trace struct{ Steps []Step }

// String renders one step per line.
func (t *Trace) String() string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, s := range t.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// short renders a term on one line, cut to about 60 bytes.
func short(e ir.Expr) string {
	s := strings.Join(strings.Fields(ir.PrintExpr(e)), " ")
	s = strings.NewReplacer("( ", "(", " )", ")").Replace(s)
	if len(s) > 60 {
		cut := 57
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
