// Package certs creates the certificates kgate serves its webhooks with when
// cert-manager is not installed: a private CA and a serving certificate for the
// webhook Service's DNS names, written where kgate serve reads them.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names in the certificate directory, as controller-runtime's webhook
// server and Kubernetes TLS Secrets name them.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
	CAFile   = "ca.crt"
)

// Options describe the serving certificate.
type Options struct {
	// Service and Namespace give the DNS names of the webhook Service
	// (service.namespace.svc and service.namespace.svc.cluster.local).
	Service, Namespace string
	// Hosts adds DNS names or IP addresses (e.g. 127.0.0.1 for a local webhook).
	Hosts []string
	// Validity of the serving certificate; the CA lives ten times as long.
	Validity time.Duration
	// Now is the issuing time; zero means time.Now.
	Now time.Time
}

// Bundle is a CA and a serving certificate signed by it, PEM encoded.
type Bundle struct {
	CA, Cert, Key []byte
	// NotAfter is when the serving certificate expires.
	NotAfter time.Time
}

// Generate creates a CA and a serving certificate for the webhook.
func Generate(o Options) (*Bundle, error) {
	if o.Service == "" && len(o.Hosts) == 0 {
		return nil, errors.New("certificate needs a Service name or at least one host")
	}
	if o.Validity <= 0 {
		o.Validity = 90 * 24 * time.Hour
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kgate-webhook-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * o.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: firstName(o)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(o.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Service != "" {
		svc := o.Service + "." + o.Namespace + ".svc"
		tmpl.DNSNames = append(tmpl.DNSNames, svc, svc+".cluster.local")
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Bundle{
		CA:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Cert:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Key:      pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		NotAfter: tmpl.NotAfter,
	}, nil
}

// Write stores the bundle in dir. The key is written before the certificate and
// each file is replaced atomically, so a server watching dir never pairs a new
// certificate with an old key for longer than one reload.
func (b *Bundle) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certificate directory %s: %w", dir, err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{KeyFile, b.Key, 0o600}, {CertFile, b.Cert, 0o644}, {CAFile, b.CA, 0o644}} {
		tmp := filepath.Join(dir, "."+f.name+".tmp")
		if err := os.WriteFile(tmp, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// NeedsRenewal reports whether the serving certificate in dir is missing,
// unreadable, or expires within before.
func NeedsRenewal(dir string, before time.Duration, now time.Time) bool {
	data, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return true
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return true
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return true
	}
	return !now.Add(before).Before(cert.NotAfter)
}

// Verify checks that the serving certificate chains to the CA for name.
func (b *Bundle) Verify(name string, at time.Time) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b.CA) {
		return errors.New("CA bundle holds no certificate")
	}
	block, _ := pem.Decode(b.Cert)
	if block == nil {
		return errors.New("serving certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	_, err = cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: at})
	return err
}

func firstName(o Options) string {
	if o.Service != "" {
		return o.Service + "." + o.Namespace + ".svc"
	}
	return o.Hosts[0]
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
