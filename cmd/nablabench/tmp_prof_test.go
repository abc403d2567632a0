package main

import (
	"context"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

func BenchmarkTmpGMMElem(b *testing.B) {
	p, err := nabla.Compile("gmm_elem.nab", append(append([]byte(nil), gmmSrc...), gmmElemSrc...))
	if err != nil {
		b.Fatal(err)
	}
	g := randomGMM(gmmSize{"", 2, 10, 1000})
	args := []runtime.Value{vecValue(g.alphas), matValue(g.means), matValue(g.icf), matValue(g.x), runtime.F64(g.gamma), runtime.I64(g.m)}
	for _, name := range []string{"gmm_elem", "gmm_elem_grad", "gmm"} {
		f, _ := p.Func(name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := f.CallValues(context.Background(), args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
