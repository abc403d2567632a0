package lang

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

var updateElab = flag.Bool("update-elab", false, "rewrite the golden files in testdata/elab")

// TestElabGolden pins the core IR that representative programs elaborate
// to (testdata/elab/NAME.nab -> NAME.ir). Every elaborated program must also
// pass the IR validator. Regenerate with: go test ./lang -run ElabGolden -update-elab
func TestElabGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "elab", "*.nab"))
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Load(filepath.Base(f), src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Validate(p); err != nil {
				t.Fatalf("invalid IR: %v", err)
			}
			got := ir.Print(p)
			golden := strings.TrimSuffix(f, ".nab") + ".ir"
			if *updateElab {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-elab to create it)", err)
			}
			if got != string(want) {
				t.Errorf("IR differs from %s (run with -update-elab to accept):\n%s", golden, got)
			}
		})
	}
}

// TestConformanceIRValid: the IR of every conformance program passes the
// validator.
func TestConformanceIRValid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "conformance", "*", "*.nab"))
	if len(files) == 0 {
		t.Skip("no conformance suite beside the repository")
	}
	for _, f := range files {
		p, err := LoadFile(f, Options{})
		if err != nil {
			continue // error cases are covered by TestConformanceFilesCheck
		}
		if err := ir.Validate(p); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
