package rewrite

import (
	_ "embed"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// BuiltinRulesSource is builtin.rules: the rules of the passes simplify,
// fuse and lower and the strategy default, in Nabla's rule language. The
// front end checks it (its positions name BuiltinRulesFile) and New
// assembles the passes from the result.
//
//go:embed builtin.rules
var BuiltinRulesSource string

// BuiltinRulesFile is the file name to check BuiltinRulesSource under.
const BuiltinRulesFile = "builtin.rules"

// The built-in passes that rewrite at the root or work on a whole term and
// have no rules.
var (
	betaS       = &passS{name: "beta", gos: betaRules}
	inlineS     = &passS{name: "inline", gos: inlineRules}
	constfoldS  = &passS{name: "constfold", gos: constfoldRules}
	cseS        = &wholeS{name: "cse", run: cse}
	dceS        = &wholeS{name: "dce", run: dce}
	deadfieldS  = &wholeS{name: "deadfield", run: deadfield}
	shapeZerosS = &wholeS{name: "shapezeros", run: shapeZeros}
	licmS       = &wholeS{name: "licm", run: licm}
)

// A Rewriter applies strategies to programs: the built-in passes, whose
// rules and default strategy come from builtin.rules as the front end
// checked it, and each program's own rules and strategies. It is built
// once (New) and then only read, so it may be used concurrently.
type Rewriter struct {
	passes map[string]Strategy // the built-in passes and default, by name
	rules  []*ir.RewriteRule   // the rules of the passes, in pass order
	pass   map[string]string   // each rule's pass, by the rule's name
}

// New assembles the built-in passes from builtins, the checked form of
// BuiltinRulesSource: its strategies simplify, fuse and lower list the
// rules of the passes of those names (after the pass's rewrites written
// in Go), and its strategy default, in which simplify, fuse and lower
// name the passes, is the strategy of every def without @strategy.
func New(builtins *ir.Program) (*Rewriter, error) {
	rw := &Rewriter{pass: map[string]string{}}
	if err := rw.build(builtins); err != nil {
		return nil, fmt.Errorf("rewrite: %s: %v", BuiltinRulesFile, err)
	}
	return rw, nil
}

func (rw *Rewriter) build(p *ir.Program) error {
	if len(p.Defs) > 0 {
		return fmt.Errorf("def %s: the built-in rules declare no defs", p.Defs[0].Name)
	}
	rules := map[string]*ir.RewriteRule{}
	for _, r := range p.Rules {
		if r.RHS == nil {
			return fmt.Errorf("rule %s has no right-hand side", r.Name)
		}
		rules[r.Name] = r
	}
	simplifyS := &passS{name: "simplify", gos: simplifyRules}
	fuseS := &passS{name: "fuse", gos: fuseRules}
	lowerS := &passS{name: "lower"}
	byName := map[string]*passS{"simplify": simplifyS, "fuse": fuseS, "lower": lowerS}
	var def *ir.RewriteStrategy
	for _, s := range p.Strats {
		if s.Name == "default" {
			def = s
			continue
		}
		pass := byName[s.Name]
		if pass == nil {
			return fmt.Errorf("strategy %s is neither a pass with rules nor default", s.Name)
		}
		for _, name := range choiceNames(s.Body) {
			r := rules[name]
			if r == nil {
				return fmt.Errorf("strategy %s lists %s, which is not a rule", s.Name, name)
			}
			pass.addRule(newRuleS(s.Name+"."+name, r, true))
			rw.rules = append(rw.rules, r)
			rw.pass[name] = s.Name
		}
	}
	if len(rw.rules) != len(rules) {
		return fmt.Errorf("%d rules, %d listed in a pass", len(rules), len(rw.rules))
	}
	if def == nil {
		return fmt.Errorf("no strategy default")
	}
	rw.passes = map[string]Strategy{
		"beta": betaS, "inline": inlineS, "constfold": constfoldS, "simplify": simplifyS,
		"cse": cseS, "dce": dceS, "deadfield": deadfieldS, "fuse": fuseS, "lower": lowerS,
		"shapezeros": shapeZerosS, "licm": licmS,
		"remat": rematDefault, "save_all": saveAllS, "remat_all": rematAllS,
	}
	// default's names are the built-in ones: compiled as if in a file
	// that declares nothing.
	body, err := rw.newEnv(ir.NewProgram(nil)).compile(def.Body, "", map[string]bool{})
	if err != nil {
		return err
	}
	rw.passes["default"] = &named{name: "default", s: body}
	for _, name := range ir.BuiltinStrategies() {
		n, _ := ir.StrategyArity(name)
		if _, ok := rw.builtinStrategy(name, make([]Strategy, n)); !ok {
			return fmt.Errorf("built-in strategy %s is not implemented", name)
		}
	}
	return nil
}

// choiceNames lists the names in a strategy of the form a <+ b <+ ...
func choiceNames(s ir.Strat) []string {
	switch s := s.(type) {
	case *ir.StratName:
		return []string{s.Name}
	case *ir.StratChoice:
		var out []string
		for _, a := range s.Alts {
			out = append(out, choiceNames(a)...)
		}
		return out
	}
	return nil
}

// Default returns the standard pipeline, the strategy of every def
// without @strategy, as builtin.rules declares it:
//
//	remat; try(cse);
//	normalize(beta <+ inline <+ simplify <+ constfold); try(shapezeros); try(cse); try(deadfield);
//	normalize(fuse <+ beta <+ simplify <+ constfold);
//	normalize(lower <+ simplify <+ constfold);
//	try(licm; normalize(simplify <+ constfold));
//	try(cse); try(deadfield); try(dce)
func (rw *Rewriter) Default() Strategy { return rw.passes["default"] }

// BuiltinRules returns the rules of the built-in passes, with the pass
// each belongs to (by rule name).
func (rw *Rewriter) BuiltinRules() ([]*ir.RewriteRule, map[string]string) {
	return rw.rules, rw.pass
}

// combinators builds the built-in combinators by name.
var combinators = map[string]func(s Strategy) Strategy{
	"try": Try, "repeat": Repeat, "all": All, "one": One, "some": Some,
	"topdown": TopDown, "bottomup": BottomUp, "innermost": Innermost,
	"outermost": Outermost, "normalize": Normalize,
}

// builtinStrategy returns the built-in strategy name applied to args, or
// false when name is not built in.
func (rw *Rewriter) builtinStrategy(name string, args []Strategy) (Strategy, bool) {
	switch name {
	case "id":
		return Id, true
	case "fail":
		return Fail, true
	}
	if f := combinators[name]; f != nil && len(args) == 1 {
		return f(args[0]), true
	}
	if s := rw.passes[name]; s != nil && len(args) == 0 {
		return s, true
	}
	return nil, false
}
