package certs

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateVerifyAndWrite(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	b, err := Generate(Options{Service: "kgate", Namespace: "kgate-system", Hosts: []string{"127.0.0.1", "localhost"}, Validity: 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kgate.kgate-system.svc", "kgate.kgate-system.svc.cluster.local", "localhost", "127.0.0.1"} {
		if err := b.Verify(name, now); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := b.Verify("other.svc", now); err == nil {
		t.Error("a name outside the certificate must not verify")
	}
	if err := b.Verify("localhost", now.Add(48*time.Hour)); err == nil {
		t.Error("an expired certificate must not verify")
	}
	dir := t.TempDir()
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)); err != nil {
		t.Errorf("written pair does not load: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, KeyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	if NeedsRenewal(dir, time.Hour, now) {
		t.Error("a fresh certificate needs no renewal")
	}
	if !NeedsRenewal(dir, 2*time.Hour, now.Add(23*time.Hour)) {
		t.Error("a certificate expiring within the window needs renewal")
	}
	if !NeedsRenewal(t.TempDir(), time.Hour, now) {
		t.Error("a missing certificate needs renewal")
	}
	if _, err := Generate(Options{}); err == nil {
		t.Error("a certificate without names must be refused")
	}
}
