// Command nabla runs, checks and compiles Nabla programs.
//
// Usage:
//
//	nabla <command> [flags] [arguments]
//
// The commands are:
//
//	run      call a def with JSON arguments and print its result as JSON
//	check    parse and type-check programs
//	ir       print the core IR of a def
//	opt      apply a rewrite strategy to a def and print the result
//	gen      emit Go code for the exported defs
//	gradbench  answer the GradBench protocol on standard input and output
//	version  print the version
//	help     show help for a command
//
// Flags go before the file, as with Go's flag package (-f and --f are the
// same flag); arguments after the file are JSON values, one per
// parameter, or @PATH for a value read from a file (a .csv file holds a
// numeric vector or matrix) or - for one read from standard input. Errors in a program print as "FILE:LINE:COL: message" lines
// on stderr. The exit status is 0 on success, 1 for an error in the
// program or its run, and 2 for bad usage: an unknown command or flag, a
// missing or unreadable file, an unknown def, or JSON arguments that are
// missing, extra, malformed or of the wrong type.
//
// Run "nabla help <command>" for each command's flags and examples.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses (SPEC §8).
const (
	exitOK    = 0
	exitError = 1 // an error in the program or its run
	exitUsage = 2 // bad usage
)

// run is the whole command line: it parses args (without the program
// name), writes results to stdout and diagnostics to stderr, and returns
// the exit status. Tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		c.printUsage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help":
		c.printUsage(stdout)
		return exitOK
	default:
		cmd := lookup(name)
		if cmd == nil {
			fmt.Fprintf(stderr, "nabla: unknown command %q\nRun 'nabla help' for usage.\n", name)
			return exitUsage
		}
		return cmd.run(c, cmd, args[1:])
	}
}
