package pipeline

import (
	"fmt"
	"sync"

	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/rewrite"
)

var std struct {
	once sync.Once
	rw   *rewrite.Rewriter
	err  error
}

// Rewriter returns the standard rewriter: package rewrite's passes with
// the rules and the default strategy of rewrite.BuiltinRulesSource, as
// package lang checks them. It is built on first use and shared; a
// Rewriter may be used concurrently.
func Rewriter() (*rewrite.Rewriter, error) {
	std.once.Do(func() {
		p, err := lang.Load(rewrite.BuiltinRulesFile, []byte(rewrite.BuiltinRulesSource), lang.Options{})
		if err != nil {
			std.err = fmt.Errorf("rewrite: %s: %v", rewrite.BuiltinRulesFile, err)
			return
		}
		std.rw, std.err = rewrite.New(p)
	})
	return std.rw, std.err
}
