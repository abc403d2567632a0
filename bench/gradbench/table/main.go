// Command table times Nabla's GradBench tool on the kit's recorded cases
// and prints the comparison table of docs/performance.md (section
// "GradBench") as Markdown on standard output:
//
//	go run ./bench/gradbench/table [-data DIR] [-eval lse,gmm] [-backend interp,go] [-quick] > table.md
//
// Each question runs as the tool runs it, as often as its recorded
// min_runs and min_seconds ask (once with -quick), on one core: the
// command sets GOMAXPROCS to 1 unless the environment sets it, for
// itself and for the generated programs. On the interpreter it runs in
// process; on generated Go (nabla gradbench --backend go's way: the
// module's program as a server, timing its own calls) it times wall-clock
// only, since the program reports no CPU time. The table shows the
// minimum of the runs. Progress goes to standard error.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/nabla-lang/nabla/bench/gradbench"
)

func main() {
	data := flag.String("data", "../shared/gradbench/data", "the kit's folder of recorded cases")
	evals := flag.String("eval", "", "comma-separated evals (default: all but hello)")
	quick := flag.Bool("quick", false, "evaluate each question once")
	backends := flag.String("backend", "interp,go", "comma-separated backends to time: interp, go")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: table [-data DIR] [-eval NAMES] [-backend interp,go] [-quick]")
		os.Exit(2)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		goruntime.GOMAXPROCS(1)
		os.Setenv("GOMAXPROCS", "1") // for the generated programs too
	}
	opts := gradbench.TableOptions{Data: *data, Quick: *quick, Log: os.Stderr, Backends: strings.Split(*backends, ",")}
	if *evals != "" {
		opts.Evals = strings.Split(*evals, ",")
	}
	var table bytes.Buffer
	start := time.Now()
	if err := gradbench.Table(&table, opts); err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
	reps := "the recorded repetition settings"
	if *quick {
		reps = "one run per question (-quick)"
	}
	var how []string
	for _, b := range opts.Backends {
		switch b {
		case gradbench.BackendInterp:
			how = append(how, "On the interpreter, times are the minimum over the runs of the process's CPU time, then of the wall-clock time.")
		case gradbench.BackendGo:
			how = append(how, "On generated Go (the Go columns), times are the minimum wall-clock time of the calls as the generated program measures them; it reports no CPU time, so these are inflated by other work on the machine where the interpreter's CPU times are not.")
		}
	}
	fmt.Printf("Nabla %s, %s, %s, GOMAXPROCS %d, %s %s/%s, load average %s at the end; %s; the run took %s. %s\n\n",
		strings.Join(opts.Backends, " and "), time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), goruntime.GOMAXPROCS(0),
		goruntime.Version(), goruntime.GOOS, goruntime.GOARCH, loadAverage(), reps, time.Since(start).Round(time.Second), strings.Join(how, " "))
	os.Stdout.Write(table.Bytes())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return "unknown CPU"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
