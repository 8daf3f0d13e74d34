package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWorkloadIsMixed(t *testing.T) {
	dir := t.TempDir()
	n, err := WriteWorkload(dir, 400, 100)
	if err != nil || n != 400 {
		t.Fatal(n, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 4 {
		t.Errorf("want 4 files, got %d", len(files))
	}
}

// BenchmarkCheckCLI runs the kgate binary over a generated 10,000-object workload
// and reports objects per second and the peak resident memory of the process.
func BenchmarkCheckCLI(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "kgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kgate").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "workload")
	if err := os.Mkdir(work, 0o755); err != nil {
		b.Fatal(err)
	}
	const objects = 10000
	if _, err := WriteWorkload(work, objects, 100); err != nil {
		b.Fatal(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	var elapsed time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "check", "-o", "json", work)
		cmd.Stdout = devnull
		start := time.Now()
		err := cmd.Run()
		elapsed += time.Since(start)
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			b.Fatalf("kgate check: %v", err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peak {
			peak = ru.Maxrss
		}
	}
	b.ReportMetric(float64(objects*b.N)/elapsed.Seconds(), "objects/s")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}
