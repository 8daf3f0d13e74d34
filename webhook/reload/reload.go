// Package reload keeps a serving webhook's policy set current: it watches the
// policy directories and the configuration file, rebuilds the engine when their
// content changes, and swaps it in only when it compiles and validates. A broken
// change is reported (log with file:line, metric, Kubernetes Event) and the last
// good set stays in force, so the webhook never serves without policies and never
// restarts to reload.
package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/webhook"
)

// Loader builds an engine from the watched files.
type Loader func(ctx context.Context) (*policies.Engine, error)

// Reloader polls the watched paths and swaps the engine of Target. Polling
// (rather than inotify) follows the symlink swap with which the kubelet updates
// mounted ConfigMaps, and costs a hash of a few small files per interval.
type Reloader struct {
	// Paths are policy directories (their *.rego files are watched) and files.
	Paths    []string
	Load     Loader
	Target   *webhook.Swappable
	Interval time.Duration
	Log      logr.Logger
	// OnFailure, when set, reports a rejected reload (e.g. as a Kubernetes Event).
	OnFailure func(err error)
	Metrics   *Metrics
	// OnReload, when set, is called after a new engine is in force.
	OnReload func(*policies.Engine)

	last string
}

// NeedLeaderElection is false: every replica serves, so every replica reloads.
func (r *Reloader) NeedLeaderElection() bool { return false }

// Metrics count reloads by result and expose whether the last attempt worked.
type Metrics struct {
	reloads *prometheus.CounterVec
	healthy prometheus.Gauge
}

// NewMetrics registers kgate_policy_reloads_total{result} and
// kgate_policy_reload_healthy with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgate_policy_reloads_total",
			Help: "Reloads of policies and configuration by result (success, failure).",
		}, []string{"result"}),
		healthy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kgate_policy_reload_healthy",
			Help: "1 when the watched policies and configuration are in force, 0 when the last change was rejected and an older set serves.",
		}),
	}
	for _, c := range []prometheus.Collector{m.reloads, m.healthy} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.healthy.Set(1)
	return m, nil
}

// Start records the current content as in force and polls until ctx ends. It
// implements controller-runtime's manager.Runnable.
func (r *Reloader) Start(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var err error
	if r.last, err = fingerprint(r.Paths); err != nil {
		r.Log.Error(err, "read watched policy files")
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.Check(ctx)
		}
	}
}

// Check reloads once if the watched content changed since the last attempt.
func (r *Reloader) Check(ctx context.Context) {
	fp, err := fingerprint(r.Paths)
	if err != nil {
		r.fail(fmt.Errorf("read watched policy files: %w", err))
		return
	}
	if fp == r.last {
		return
	}
	// Remember the attempt so a broken change is reported once, not every poll.
	r.last = fp
	start := time.Now()
	e, err := r.Load(ctx)
	if err != nil {
		r.fail(err)
		return
	}
	r.Target.Store(e)
	if r.OnReload != nil {
		r.OnReload(e)
	}
	r.Log.Info("policies reloaded", "rules", len(e.Rules()), "took", time.Since(start).String())
	if r.Metrics != nil {
		r.Metrics.reloads.WithLabelValues("success").Inc()
		r.Metrics.healthy.Set(1)
	}
}

func (r *Reloader) fail(err error) {
	r.Log.Error(err, "policy reload rejected; the previous policies stay in force")
	if r.Metrics != nil {
		r.Metrics.reloads.WithLabelValues("failure").Inc()
		r.Metrics.healthy.Set(0)
	}
	if r.OnFailure != nil {
		r.OnFailure(err)
	}
}

// fingerprint hashes the names and contents of the watched files.
func fingerprint(paths []string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		files, err := watched(p)
		if err != nil {
			return "", err
		}
		for _, f := range files {
			fmt.Fprintf(h, "%s\x00", f)
			if err := hashFile(h, f); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func watched(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Kubelet's ConfigMap volumes keep old versions in ..<timestamp> dirs.
		if d.IsDir() && strings.HasPrefix(d.Name(), "..") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".rego") {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
