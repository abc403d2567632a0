package tests

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDerivativeIRValid expands the AD operators of every program in
// testdata and of the repository's examples, and checks the output with
// ir.Validate. (ad_test.go does the same for each program together with
// the derivative wrappers it generates.)
func TestDerivativeIRValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.nab"))
	if err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*.nab"))
	files = append(files, examples...)
	if len(files) < 7 {
		t.Fatalf("found only %d programs: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			expandValid(t, f, src)
		})
	}
}
