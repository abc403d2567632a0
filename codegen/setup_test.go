package codegen_test

import (
	"context"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// mustCompile runs a test program through the whole pipeline.
func mustCompile(t *testing.T, name, src string) *pipeline.Result {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), name, []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustLoad loads an optimized program on backend b.
func mustLoad(t *testing.T, b pipeline.Backend, p *ir.Program) pipeline.Runner {
	t.Helper()
	r, err := b.Load(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
