// Command _asm writes the AVX2+FMA kernels of package runtime: the
// assembly file kernels_amd64.s and its Go declarations
// kernels_amd64_stubs.go. It is a module of its own so that the main
// module does not depend on avo; run it through go generate:
//
//	go generate ./runtime
//
// which runs, in this directory,
//
//	go run . -out ../kernels_amd64.s -stubs ../kernels_amd64_stubs.go
//
// The generated files are checked in; runtime/asm_generate_test.go
// regenerates them into a temporary directory and fails when the bytes
// differ, so the assembly never drifts from this program.
//
// The numerical contract of every kernel (in particular the fixed order of
// the floating-point operations in the reductions, which the pure-Go
// kernels in runtime/kernels_go.go reproduce bit for bit) is described in
// runtime/kernels_simd.go; the comments beside each generator below say
// how the assembly follows it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
)

func main() {
	// A flag set of our own: importing avo's build package registers its
	// flags (of the same names) on the default one.
	fs := flag.NewFlagSet("_asm", flag.ExitOnError)
	out := fs.String("out", "../kernels_amd64.s", "assembly `file` to write")
	stubs := fs.String("stubs", "../kernels_amd64_stubs.go", "Go declarations `file` to write")
	fs.Parse(os.Args[1:])
	if fs.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run . [-out file.s] [-stubs file.go]")
		os.Exit(2)
	}
	asm, decls, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Write only once both outputs exist, so that a failed run leaves the
	// checked-in files as they were.
	for _, f := range []struct {
		name string
		data []byte
	}{{*out, asm}, {*stubs, decls}} {
		if err := os.WriteFile(f.name, f.data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// generate builds every kernel and returns the assembly and the Go stubs.
// The header names this module rather than the command line, so that the
// bytes do not depend on where the output goes.
func generate() (asm, decls []byte, err error) {
	c := build.NewContext()
	c.ConstraintExpr("amd64,!purego")
	g := &gen{Context: c}
	g.all()

	cfg := printer.Config{Name: "github.com/nabla-lang/nabla/runtime/_asm", Pkg: "runtime"}
	var asmBuf, stubBuf bytes.Buffer
	var errBuf bytes.Buffer
	status := build.Main(&build.Config{
		ErrOut: &errBuf,
		Passes: []pass.Interface{
			pass.Compile,
			&pass.Output{Writer: nopCloser{&asmBuf}, Printer: printer.NewGoAsm(cfg)},
			&pass.Output{Writer: nopCloser{&stubBuf}, Printer: printer.NewStubs(cfg)},
		},
	}, c)
	if status != 0 {
		return nil, nil, fmt.Errorf("avo: %s", errBuf.String())
	}
	return asmBuf.Bytes(), stubBuf.Bytes(), nil
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }
