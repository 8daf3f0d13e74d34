package webhook

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// TestRequestLoggerWritesWhatTheDefaultDoes writes the same lines through
// admission.DefaultLogConstructor and requestLogger: the output is the same.
func TestRequestLoggerWritesWhatTheDefaultDoes(t *testing.T) {
	req := &admission.Request{}
	req.UID = "42"
	req.Namespace = "genai"
	req.Name = "rag"
	req.Resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	req.UserInfo = authenticationv1.UserInfo{Username: "alice"}
	write := func(construct func(logr.Logger, *admission.Request) logr.Logger, dev bool) string {
		var buf bytes.Buffer
		base := ctrlzap.New(ctrlzap.WriteTo(&buf), ctrlzap.UseDevMode(dev)).WithName("admission")
		log := construct(base, req)
		log.Info("denied", "rules", "EFA-001")
		log.WithValues("k", 1).WithName("sub").Info("with values", "x", "y")
		log.V(1).Info("debug line")
		log.V(9).Info("never written")
		log.Error(errors.New("boom"), "failed", "n", 3)
		construct(base, nil).Info("no request")
		// Timestamps differ between the two runs, and so does the line of
		// this test in the stack traces; the rest of the traces must not.
		out := regexp.MustCompile(`\d{4}-\d\d-\d\dT[\d:.]+Z|\d+\.\d+e\+09`).ReplaceAllString(buf.String(), "TS")
		return regexp.MustCompile(`logger_test\.go:\d+`).ReplaceAllString(out, "logger_test.go")
	}
	for _, dev := range []bool{false, true} {
		want := write(admission.DefaultLogConstructor, dev)
		got := write(requestLogger, dev)
		if got != want {
			t.Errorf("development=%v: requestLogger wrote\n%s\nDefaultLogConstructor wrote\n%s", dev, got, want)
		}
		if !bytes.Contains([]byte(got), []byte("alice")) {
			t.Errorf("development=%v: the request's values are missing:\n%s", dev, got)
		}
	}
}

// TestRequestLoggerDiscards keeps a discarding logger discarding.
func TestRequestLoggerDiscards(t *testing.T) {
	log := requestLogger(logr.Discard(), &admission.Request{})
	if log.Enabled() {
		t.Error("a discarding logger became enabled")
	}
	log.Info("nothing")
}
