package runtime

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// systemMemory is the least of physical memory (sysinfo), the control
// group's limit (v2 memory.max or v1 memory.limit_in_bytes) and half the
// address space left under RLIMIT_AS and RLIMIT_DATA: the Go heap may
// reach about twice the live bytes between collections, and a mapping
// that fails under those limits kills a Go process outright.
func systemMemory() int64 {
	var mem int64
	least := func(n int64) {
		if n > 0 && (mem == 0 || n < mem) {
			mem = n
		}
	}
	var info syscall.Sysinfo_t
	if syscall.Sysinfo(&info) == nil {
		least(int64(info.Totalram) * int64(info.Unit))
	}
	least(cgroupLimit())
	vm := int64(-1)
	for _, res := range []int{syscall.RLIMIT_AS, syscall.RLIMIT_DATA} {
		var r syscall.Rlimit
		if syscall.Getrlimit(res, &r) != nil || r.Cur >= 1<<62 {
			continue
		}
		if vm < 0 {
			vm = statusKB("VmSize:")
		}
		least(max((int64(r.Cur)-vm)/2, 1))
	}
	return mem
}

// cgroupLimit reads the memory limit of this process's control group, 0
// when there is none.
func cgroupLimit() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var paths []string
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			paths = append(paths, "/sys/fs/cgroup"+parts[2]+"/memory.max", "/sys/fs/cgroup/memory.max")
		case strings.Contains(","+parts[1]+",", ",memory,"):
			paths = append(paths, "/sys/fs/cgroup/memory"+parts[2]+"/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
		}
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && n < 1<<60 {
			return n
		}
	}
	return 0
}

// statusKB reads a "key: N kB" line of /proc/self/status, in bytes.
func statusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n << 10
		}
	}
	return 0
}
