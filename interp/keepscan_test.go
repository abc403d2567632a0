package interp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/interp"
)

// TestLetScans checks that the one-pass answers about lets (keepscan.go,
// fieldscan.go) are those of the per-let scans they replace, on every let
// of the optimized test programs, of generated programs with their
// derivatives, and of progen's loop programs.
func TestLetScans(t *testing.T) {
	sources := map[string]string{"loops": progen.Loops(60)}
	files, _ := filepath.Glob(filepath.Join("..", "tests", "testdata", "*.nab"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[filepath.Base(f)] = string(b)
	}
	for i := range 60 {
		sources[fmt.Sprint("random ", i)] = progen.Random([]byte(fmt.Sprint("letscan ", i))).Src + progen.DerivativeDefs("")
	}
	lets := 0
	for name, src := range sources {
		res, err := pipeline.Compile(context.Background(), "t.nab", []byte(src), pipeline.Options{})
		if err != nil {
			continue // the test programs include ones that must fail
		}
		for _, stage := range [][]string{interp.LetScansDisagree(res.Opt), interp.LetScansDisagree(res.AD)} {
			for _, d := range stage {
				t.Errorf("%s: %s", name, d)
			}
		}
		lets++
	}
	if lets < 50 {
		t.Errorf("only %d programs compiled", lets)
	}
}
