package rewrite

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

//go:embed builtin.rules
var builtinSource []byte

// builtinFile is the name positions in builtin.rules carry.
const builtinFile = "builtin.rules"

// builtins holds the built-in passes, made once.
var builtins struct {
	once   sync.Once
	err    error
	passes map[string]Strategy
	rules  []*ir.RewriteRule // every rule of builtin.rules, for tests
	pass   map[string]string
}

// The built-in passes that rewrite at the root.
var (
	betaS      = &passS{name: "beta", gos: betaRules}
	inlineS    = &passS{name: "inline", gos: inlineRules}
	constfoldS = &passS{name: "constfold", gos: constfoldRules}
	cseS       = &wholeS{name: "cse", run: cse}
	dceS       = &wholeS{name: "dce", run: dce}
)

// loadBuiltins parses builtin.rules and assembles the passes.
func loadBuiltins() error {
	builtins.once.Do(func() {
		builtins.err = buildBuiltins()
	})
	return builtins.err
}

func buildBuiltins() error {
	p, err := lang.Load(builtinFile, builtinSource, lang.Options{})
	if err != nil {
		return fmt.Errorf("rewrite: builtin.rules: %v", err)
	}
	rules := map[string]*ir.RewriteRule{}
	for _, r := range p.Rules {
		rules[r.Name] = r
	}
	simplifyS := &passS{name: "simplify", gos: simplifyRules}
	fuseS := &passS{name: "fuse", gos: fuseRules}
	lowerS := &passS{name: "lower"}
	byName := map[string]*passS{"simplify": simplifyS, "fuse": fuseS, "lower": lowerS}
	builtins.pass = map[string]string{}
	for _, sd := range p.Strats {
		pass := byName[sd.Name]
		if pass == nil {
			return fmt.Errorf("rewrite: builtin.rules: strategy %s is not a pass", sd.Name)
		}
		for _, name := range choiceNames(sd.Body) {
			r := rules[name]
			if r == nil {
				return fmt.Errorf("rewrite: builtin.rules: strategy %s lists %s, which is not a rule", sd.Name, name)
			}
			pass.addRule(newRuleS(sd.Name+"."+name, r, true))
			builtins.rules = append(builtins.rules, r)
			builtins.pass[name] = sd.Name
		}
	}
	if len(builtins.rules) != len(rules) {
		return fmt.Errorf("rewrite: builtin.rules: %d rules, %d listed in a pass", len(rules), len(builtins.rules))
	}
	defaultS := &named{name: "default", s: Seq(
		Try(cseS),
		Normalize(Choice(betaS, inlineS, simplifyS, constfoldS)),
		Try(cseS),
		Normalize(Choice(fuseS, betaS, simplifyS, constfoldS)),
		Normalize(Choice(lowerS, simplifyS, constfoldS)),
		Try(cseS),
		Try(dceS),
	)}
	builtins.passes = map[string]Strategy{
		"beta": betaS, "inline": inlineS, "constfold": constfoldS, "simplify": simplifyS,
		"cse": cseS, "dce": dceS, "fuse": fuseS, "lower": lowerS, "default": defaultS,
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
// without @strategy:
//
//	try(cse);
//	normalize(beta <+ inline <+ simplify <+ constfold); try(cse);
//	normalize(fuse <+ beta <+ simplify <+ constfold);
//	normalize(lower <+ simplify <+ constfold);
//	try(cse); try(dce)
func Default() Strategy {
	if err := loadBuiltins(); err != nil {
		panic(err)
	}
	return builtins.passes["default"]
}

// BuiltinRules returns the rules of builtin.rules, with the pass each
// belongs to.
func BuiltinRules() ([]*ir.RewriteRule, map[string]string, error) {
	if err := loadBuiltins(); err != nil {
		return nil, nil, err
	}
	return builtins.rules, builtins.pass, nil
}

// combinators builds the built-in combinators by name.
var combinators = map[string]func(s Strategy) Strategy{
	"try": Try, "repeat": Repeat, "all": All, "one": One, "some": Some,
	"topdown": TopDown, "bottomup": BottomUp, "innermost": Innermost,
	"outermost": Outermost, "normalize": Normalize,
}

// builtinStrategy returns the built-in strategy name applied to args, or
// false when name is not built in.
func builtinStrategy(name string, args []Strategy) (Strategy, bool) {
	switch name {
	case "id":
		return Id, true
	case "fail":
		return Fail, true
	}
	if f := combinators[name]; f != nil && len(args) == 1 {
		return f(args[0]), true
	}
	if s := builtins.passes[name]; s != nil && len(args) == 0 {
		return s, true
	}
	return nil, false
}
