package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/webhook"
)

// serverEnv makes the test binary a webhook server instead of running tests. It
// holds the process id of the benchmark that started the server, so that a stray
// export of the variable in a shell never turns `go test` into a server.
const serverEnv = "KGATE_BENCH_SERVER"

// serverProfileEnv names a file the webhook server writes its CPU profile to:
// -cpuprofile profiles only the load generator, now that the server runs apart.
const serverProfileEnv = "KGATE_BENCH_SERVER_CPUPROFILE"

// TestMain runs the webhook server when a benchmark re-executed this binary as
// one, and the tests and benchmarks otherwise.
func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(serverEnv); ok {
		if v == strconv.Itoa(os.Getppid()) {
			os.Exit(serveWebhook())
		}
		fmt.Fprintf(os.Stderr, "%s=%q is not this process's parent: ignored, running the tests\n", serverEnv, v)
	}
	os.Exit(m.Run())
}

// serveWebhook builds the engine and serves the validating webhook over HTTPS on
// a loopback port with httptest's self-signed certificate. It prints the
// server's URL as the first line on stdout and serves until stdin closes (the
// benchmark is done, or died) or it receives SIGINT or SIGTERM. It returns the
// process's exit code.
func serveWebhook() int {
	// The logger kgate serve sets up. Without one, controller-runtime's
	// placeholder logger keeps every per-request child logger until a real one
	// is set, and the server's heap grows with each review.
	ctrllog.SetLogger(ctrlzap.New(ctrlzap.WriteTo(os.Stderr)))
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook server:", err)
		return 1
	}
	// As kgate serve does after compiling the policies.
	debug.FreeOSMemory()
	webhook.SetHeapFloor(webhook.ServeHeapFloor)
	if path := os.Getenv(serverProfileEnv); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "webhook server:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	mux := http.NewServeMux()
	mux.Handle("/validate", webhook.NewHTTPHandler(&webhook.Validator{Sources: webhook.Sources{Engines: webhook.Fixed{E: e}}}))
	srv := httptest.NewTLSServer(mux)
	fmt.Println(srv.URL)

	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	// Close waits for requests in flight, so the process exits only after
	// answering every review it accepted.
	srv.Close()
	return 0
}

// serverProcess is a webhook server running in a child process, so that its
// memory is measured apart from the load generator's.
type serverProcess struct {
	// URL is the server's base URL, https://127.0.0.1:port.
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startServer re-executes the test binary as a webhook server and waits until it
// serves.
func startServer(tb testing.TB) *serverProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serverEnv+"="+strconv.Itoa(os.Getpid()))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, stdin: stdin}
	// A benchmark that fails before stopping the server must not leave it behind.
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "https://") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatalf("webhook server did not start: %q, %v", line, err)
	}
	p.URL = strings.TrimSpace(line)
	return p
}

// cpu returns the CPU time the server has used so far, user and system, read
// from /proc (Linux).
func (p *serverProcess) cpu() (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	// utime and stime are fields 14 and 15, in USER_HZ ticks (100 a second).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", p.cmd.Process.Pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// stop closes the server's stdin, waits for it to exit and returns its peak
// resident memory in MiB. A server that does not exit cleanly fails tb.
func (p *serverProcess) stop(tb testing.TB) float64 {
	tb.Helper()
	_ = p.stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-exited
		tb.Fatal("webhook server did not exit within 30 s of its stdin closing")
	}
	if err != nil {
		tb.Fatalf("webhook server: %v", err)
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// TestServerProcess starts the webhook server process, sends it the review mix
// and stops it: the server answers every review and exits cleanly.
func TestServerProcess(t *testing.T) {
	srv := startServer(t)
	g, err := newLoadGen(srv.URL+"/validate", 2, reviewMix())
	if err != nil {
		t.Fatal(err)
	}
	res := g.closedLoop(6)
	g.close()
	rss := srv.stop(t)
	if res.reviews != 6 || res.errors != 0 {
		t.Errorf("%d reviews, %d errors (first: %v); want 6 and 0", res.reviews, res.errors, res.firstErr)
	}
	if rss <= 0 {
		t.Errorf("peak RSS %.1f MiB: want it measured", rss)
	}
}
