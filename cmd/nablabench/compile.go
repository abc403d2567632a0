package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/internal/progen"
)

// runCompile is `nablabench compile`: it times nabla.Compile (front end,
// AD and optimizer) on the generated programs of internal/progen at
// growing sizes and prints a Markdown table of the CPU time per compile
// and per line, so that growth faster than linear shows as a growing
// time per line.
func runCompile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nablabench compile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "500,1000,2000,4000,8000", "program sizes in lines, comma-separated")
	depths := fs.String("depths", "1,2,3,4,5,6,7,8,9", "nesting depths of grad, comma-separated")
	kinds := fs.String("kinds", "", "families to measure, comma-separated (default all: "+kindNames()+")")
	runs := fs.Int("runs", 1, "compiles per measurement (the least time is reported)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nablabench compile [flags]\n\nTimes nabla.Compile on generated programs of growing size and prints the\nCPU time per compile and per line as a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *runs < 1 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	ls, err := ints(*sizes)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: -sizes: %v\n", err)
		return 2
	}
	ds, err := ints(*depths)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: -depths: %v\n", err)
		return 2
	}
	want := map[string]bool{}
	for _, k := range strings.Split(*kinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			want[k] = true
		}
	}
	fmt.Fprintf(stdout, "Compile time of generated programs: CPU time of nabla.Compile (least of %d), %s, %d CPUs (GOMAXPROCS %d), %s %s/%s.\n\n",
		*runs, time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(stdout, "| program | size | source | compile (CPU) | per line |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|")
	for _, k := range progen.Kinds {
		if len(want) > 0 && !want[k.Name] {
			continue
		}
		ns := ls
		if k.Depths {
			ns = ds
		}
		for _, n := range ns {
			src := k.Gen(n)
			lines := strings.Count(src, "\n")
			best := time.Duration(-1)
			for range *runs {
				runtime.GC()
				start, wall := cpuTime(), time.Now()
				_, err := nabla.Compile("gen.nab", []byte(src))
				d := cpuTime() - start
				if d <= 0 {
					d = time.Since(wall)
				}
				if err != nil {
					fmt.Fprintf(stderr, "nablabench: %s %d: %v\n", k.Name, n, err)
					return 1
				}
				if best < 0 || d < best {
					best = d
				}
			}
			size := fmt.Sprintf("%d lines", n)
			if k.Depths {
				size = fmt.Sprintf("depth %d", n)
			}
			fmt.Fprintf(stdout, "| %s | %s | %d lines, %d KB | %s | %s |\n", k.What, size, lines, (len(src)+512)/1024,
				fmtDur(best), fmtDur(best/time.Duration(max(lines, 1))))
		}
	}
	return 0
}

func kindNames() string {
	var names []string
	for _, k := range progen.Kinds {
		names = append(names, k.Name)
	}
	return strings.Join(names, ",")
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f µs", float64(d)/1e3)
}
