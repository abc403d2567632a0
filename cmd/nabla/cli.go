package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nabla-lang/nabla/lang"
)

// cli carries the output streams of one invocation.
type cli struct {
	stdout, stderr io.Writer
}

// command is one subcommand: its synopsis, help and implementation.
type command struct {
	name     string
	args     string // the synopsis after "nabla NAME"
	short    string // one line for the command list
	long     string // details and examples for "nabla help NAME"
	run      func(c *cli, cmd *command, args []string) int
	setFlags func(fs *flag.FlagSet) // declares the flags, for help output
}

var commands []*command

func init() {
	// Assigned in init because the commands' run functions refer to
	// lookup, which reads commands.
	commands = []*command{runCmd, checkCmd, irCmd, optCmd, genCmd, gradbenchCmd, versionCmd, helpCmd}
}

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func (c *cli) printUsage(w io.Writer) {
	fmt.Fprint(w, `Nabla is a small functional array language with automatic differentiation.

Usage:

	nabla <command> [flags] [arguments]

Commands:

`)
	width := 0
	for _, cmd := range commands {
		width = max(width, len(cmd.name))
	}
	for _, cmd := range commands {
		fmt.Fprintf(w, "\t%-*s  %s\n", width, cmd.name, cmd.short)
	}
	fmt.Fprint(w, `
Examples:

	nabla run examples/rosenbrock.nab
	nabla run -f rosen examples/rosenbrock.nab '[1, 2, 3]'
	nabla check examples/*.nab
	nabla ir -f rosen examples/rosenbrock.nab

Flags go before FILE; arguments after FILE are JSON values, one per
parameter, @PATH (a JSON or .csv file) or - (JSON on standard input). Errors in a program print as FILE:LINE:COL: message.
Exit status: 0 success, 1 an error in the program or its run, 2 bad usage.

Run 'nabla help <command>' for more about a command.
`)
}

// printHelp prints a command's synopsis, details and flags.
func (c *cli) printHelp(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "usage: nabla %s %s\n\n%s\n", cmd.name, cmd.args, strings.TrimSpace(cmd.long))
	if cmd.setFlags != nil {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.setFlags(fs)
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// usage reports bad usage of cmd and returns the exit status for it.
func (c *cli) usage(cmd *command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "nabla %s: %s\nusage: nabla %s %s\nRun 'nabla help %s' for details.\n",
		cmd.name, fmt.Sprintf(format, args...), cmd.name, cmd.args, cmd.name)
	return exitUsage
}

// fail reports an error that is not the program's own (a feature that is
// not built yet) and returns exit status 1.
func (c *cli) fail(cmd *command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "nabla %s: %s\n", cmd.name, fmt.Sprintf(format, args...))
	return exitError
}

// programError prints a compile or run-time error: each line is
// "FILE:LINE:COL: message", a run-time error followed by indented
// backtrace lines.
func (c *cli) programError(err error) int {
	fmt.Fprintln(c.stderr, err)
	return exitError
}

// parseFlags parses cmd's flags. It returns the remaining arguments, or
// done with the exit status when there is nothing more to do: help was
// asked for (0) or the flags were bad (2). Parse errors are reported here
// rather than by the flag package so they name the command and end with
// the same hint as every other usage error.
func (c *cli) parseFlags(cmd *command, args []string) (fs *flag.FlagSet, rest []string, status int, done bool) {
	fs = flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if cmd.setFlags != nil {
		cmd.setFlags(fs)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printHelp(c.stdout, cmd)
		return nil, nil, exitOK, true
	case err != nil:
		return nil, nil, c.usage(cmd, "%v", err), true
	}
	return fs, fs.Args(), 0, false
}

// readSource reads a program file named on the command line: a regular
// file of at most lang.MaxSourceBytes, so that a FIFO or /dev/zero is
// refused rather than waited on. An unreadable file is bad usage, like a
// missing one; errors in what the file says are the program's.
func (c *cli) readSource(cmd *command, path string) ([]byte, int, bool) {
	src, err := lang.ReadSourceFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, c.usage(cmd, "cannot read %s: %v", path, err), false
	}
	return src, 0, true
}
