package lambdarunner

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cutover/cutover/infra/proc"
)

// KillCaller kills, with SIGKILL, the named function's process that holds
// the client end of a TCP connection to the local stack: remote is the
// connection's client address and local its server address, as an HTTP
// handler sees them (Request.RemoteAddr, and the http.LocalAddrContextKey
// value). Tests use it to lose the very execution environment that is
// making a call (a LIVE write, say), where Kill would take whichever
// invocation has run longest.
//
// It works on Linux only (it reads /proc). It returns an error if the
// function is unknown, the addresses cannot be parsed, or none of the
// function's processes holds the connection.
func (r *Runner) KillCaller(name, remote, local string) error {
	f, ok := r.function(name)
	if !ok {
		return fmt.Errorf("lambdarunner: no function %q", name)
	}

	inode, err := socketInode(remote, local)
	if err != nil {
		return err
	}

	p := ownerOf(f.running(), "socket:["+inode+"]")
	if p == nil {
		return fmt.Errorf("lambdarunner: no process of function %q holds the connection from %s", name, remote)
	}

	p.Kill()

	return nil
}

// socketInode finds, in /proc/net/tcp and tcp6, the socket whose local end
// is remote and whose peer is local (the client's view of the connection)
// and returns its inode.
func socketInode(remote, local string) (string, error) {
	from, err := portOf(remote)
	if err != nil {
		return "", err
	}

	to, err := portOf(local)
	if err != nil {
		return "", err
	}

	// The table's addresses are hex; ports are big-endian, 4 digits.
	want := [2]string{fmt.Sprintf(":%04X", from), fmt.Sprintf(":%04X", to)}

	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		inode, err := findSocket(table, want)
		if err != nil {
			return "", err
		}

		if inode != "" {
			return inode, nil
		}
	}

	return "", fmt.Errorf("lambdarunner: no socket from %s to %s", remote, local)
}

func portOf(addr string) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("lambdarunner: address %q: %w", addr, err)
	}

	n, err := strconv.Atoi(port)
	if err != nil {
		return 0, fmt.Errorf("lambdarunner: address %q: %w", addr, err)
	}

	return n, nil
}

// findSocket returns the inode of the first socket in table whose local
// and remote addresses end with the given ports, or "" when there is none.
func findSocket(table string, ports [2]string) (string, error) {
	file, err := os.Open(table)
	if err != nil {
		if os.IsNotExist(err) {
			return "", nil
		}

		return "", fmt.Errorf("lambdarunner: %w", err)
	}
	defer file.Close()

	sc := bufio.NewScanner(file)
	sc.Scan() // the header

	for sc.Scan() {
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) > 9 && strings.HasSuffix(fields[1], ports[0]) && strings.HasSuffix(fields[2], ports[1]) {
			return fields[9], nil
		}
	}

	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("lambdarunner: %s: %w", table, err)
	}

	return "", nil
}

// ownerOf returns the process among procs with an open descriptor linked
// to target ("socket:[inode]"), or nil.
func ownerOf(procs []*proc.Process, target string) *proc.Process {
	for _, p := range procs {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", p.Pid()))
		for _, fd := range fds {
			if link, err := os.Readlink(fd); err == nil && link == target {
				return p
			}
		}
	}

	return nil
}
