package lang

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nabla-lang/nabla/ir"
)

// FuzzParse feeds arbitrary bytes to ParseFile. It must never panic or
// hang; an error must be a non-empty ir.ErrorList of positioned one-line
// messages; and a successful parse must format to text that parses back
// to the same tree and formats identically (FormatFile is a fixpoint).
//
// The corpus starts from every conformance file and every golden input.
// Inputs the fuzzer found failing are kept in testdata/fuzz/FuzzParse and
// replayed by every "go test".
func FuzzParse(f *testing.F) {
	var seeds []string
	filepath.WalkDir(ptestConformanceDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".nab") {
			seeds = append(seeds, path)
		}
		return nil
	})
	golden, _ := filepath.Glob(filepath.Join("testdata", "parse", "*.nab"))
	seeds = append(seeds, golden...)
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("def f(x: f64) = let a = x let (b, c) = (a, t.1.0) in if a < b then 2^-a else -b^2"))
	f.Add([]byte("@strategy(a; b <+ c)\nexport def f = fn(x, y: [n]f64) => x @ y\n@jvp(g) def h = 1"))

	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseFile("fuzz.nab", src)
		if err != nil {
			var list ir.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty ir.ErrorList", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.nab" || e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("error without a valid position: %v", e)
				}
				if e.Msg == "" || strings.Contains(e.Msg, "\n") {
					t.Fatalf("error message is not one line: %q", e.Msg)
				}
			}
			return
		}
		if msg := ptestRoundTrip("fuzz.nab", file); msg != "" {
			t.Fatalf("input %q: %s", src, msg)
		}
		if !utf8.ValidString(FormatFile(file)) && utf8.Valid(src) {
			t.Fatalf("formatting valid UTF-8 produced invalid UTF-8")
		}
	})
}
