// runc-bounded: an OCI runtime for the real tier's own Docker daemon, on machines whose capability
// bounding set lacks capabilities that Docker's --privileged asks for (CAP_SYS_RESOURCE here).
// runc refuses such a container ("unable to apply caps: operation not permitted"); this drops
// from the container's (create, run) or process's (exec) capability lists every capability that
// is not in its own bounding set, then runs runc with the same arguments. Nothing else changes.
// It is registered only with the daemon the tests start (realtier/run/dockerd.py), never a user's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Capability names by number (linux/capability.h).
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// runc's global flags that take a value (runc --help).
var globalValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

func main() {
	args := os.Args[1:]
	if err := bound(args); err != nil {
		fmt.Fprintf(os.Stderr, "runc-bounded: %v\n", err)
		os.Exit(1)
	}
	runc := realRunc()
	err := syscall.Exec(runc, append([]string{"runc"}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "runc-bounded: cannot run %s: %v\n", runc, err)
	os.Exit(1)
}

func realRunc() string {
	if path := os.Getenv("RUNC_BOUNDED_RUNC"); path != "" {
		return path
	}
	for _, path := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"} {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return "runc"
}

// bound edits the spec file the subcommand reads, if it has one.
func bound(args []string) error {
	command, rest := subcommand(args)
	switch command {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return edit(filepath.Join(bundle, "config.json"), func(spec map[string]any) map[string]any {
			process, _ := spec["process"].(map[string]any)
			if process != nil {
				process["capabilities"] = filterSets(process["capabilities"])
			}
			return spec
		})
	case "exec":
		if file := flagValue(rest, "--process", "-p"); file != "" {
			return edit(file, func(process map[string]any) map[string]any {
				process["capabilities"] = filterSets(process["capabilities"])
				return process
			})
		}
	}
	return nil
}

func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			return arg, args[i+1:]
		}
		if globalValueFlags[arg] {
			i++
		}
	}
	return "", nil
}

func flagValue(args []string, names ...string) string {
	for i, arg := range args {
		for _, name := range names {
			if arg == name && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(arg, name+"=") {
				return strings.TrimPrefix(arg, name+"=")
			}
		}
	}
	return ""
}

func edit(path string, change func(map[string]any) map[string]any) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var document map[string]any
	if err := json.Unmarshal(raw, &document); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	out, err := json.Marshal(change(document))
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

// filterSets keeps, in each capability list, only the capabilities of this process's bounding set.
func filterSets(value any) any {
	sets, ok := value.(map[string]any)
	if !ok {
		return value
	}
	allowed := boundingSet()
	for name, list := range sets {
		items, ok := list.([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, item := range items {
			if text, ok := item.(string); ok && !allowed(text) {
				continue
			}
			kept = append(kept, item)
		}
		sets[name] = kept
	}
	return sets
}

func boundingSet() func(string) bool {
	mask := uint64(1<<64 - 1)
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if value, found := strings.CutPrefix(line, "CapBnd:"); found {
				if parsed, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64); err == nil {
					mask = parsed
				}
			}
		}
	}
	return func(name string) bool {
		for number, known := range capabilityNames {
			if known == name {
				return mask&(1<<uint(number)) != 0
			}
		}
		return true // a capability this list does not know: runc decides
	}
}
