// Command stdgen writes the generated Go file of a standard-library
// package; each package's go:generate line runs it:
//
//	stdgen -pkg optim -o optim_nabla.go optim.nab
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/nabla-lang/nabla/stdlib/go/internal/stdgen"
)

func main() {
	pkg := flag.String("pkg", "", "Go package name")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *pkg == "" || *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: stdgen -pkg PKG -o OUT FILE.nab")
		os.Exit(2)
	}
	src, err := stdgen.Generate(context.Background(), flag.Arg(0), *pkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
