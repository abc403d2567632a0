package rewrite

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// loadSrc checks a program named t.nab and expands its AD operators.
func loadSrc(t testing.TB, src string) *ir.Program {
	t.Helper()
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	ep, err := ad.Expand(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return ep
}

// testRewriter is the standard rewriter (pipeline.Rewriter, which these
// tests cannot import: it imports rewrite).
func testRewriter(t testing.TB) *Rewriter {
	t.Helper()
	stdOnce.Do(func() {
		p, err := lang.Load(BuiltinRulesFile, []byte(BuiltinRulesSource), lang.Options{})
		if err != nil {
			stdErr = err
			return
		}
		stdRW, stdErr = New(p)
	})
	if stdErr != nil {
		t.Fatal(stdErr)
	}
	return stdRW
}

var (
	stdOnce sync.Once
	stdRW   *Rewriter
	stdErr  error
)

// expand is ad.Expand, recovering from a panic in AD code still in
// progress (reported as an error).
func expand(p *ir.Program) (out *ir.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ad.Expand panicked: %v", r)
		}
	}()
	return ad.Expand(p)
}
