package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// echoHandler answers with the request it was given, so that two HTTP
// handlers that decode a body differently answer differently.
type echoHandler struct{}

func (echoHandler) Handle(_ context.Context, req admission.Request) admission.Response {
	b, err := json.Marshal(req)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.Allowed("").WithWarnings(string(b))
}

// failingBody fails after returning its data.
type failingBody struct{ r io.Reader }

func (f failingBody) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = errors.New("connection reset")
	}
	return n, err
}

func (failingBody) Close() error { return nil }

// TestHTTPHandlerAnswersAsAdmissionWebhook sends the same requests to
// NewHTTPHandler and to controller-runtime's admission.Webhook: the answers
// are the same, byte for byte.
func TestHTTPHandlerAnswersAsAdmissionWebhook(t *testing.T) {
	type request struct {
		name, contentType string
		body              func() io.ReadCloser
	}
	var requests []request
	for _, c := range reviewBodies {
		requests = append(requests, request{c.name, "application/json", func() io.ReadCloser { return io.NopCloser(strings.NewReader(c.body)) }})
	}
	requests = append(requests,
		request{"no body", "application/json", func() io.ReadCloser { return nil }},
		request{"content type", "text/plain", func() io.ReadCloser { return io.NopCloser(strings.NewReader(apiServerReview)) }},
		request{"read error", "application/json", func() io.ReadCloser { return failingBody{strings.NewReader(apiServerReview)} }},
		request{"too large", "application/json", func() io.ReadCloser {
			return io.NopCloser(io.MultiReader(strings.NewReader(`{"request":{"object":"`), strings.NewReader(strings.Repeat("x", maxRequestSize))))
		}},
	)
	ours := NewHTTPHandler(echoHandler{})
	theirs := &admission.Webhook{Handler: echoHandler{}}
	for _, r := range requests {
		t.Run(r.name, func(t *testing.T) {
			answer := func(h http.Handler) (int, string) {
				req := httptest.NewRequest(http.MethodPost, "/validate", nil)
				req.Body = r.body()
				req.Header.Set("Content-Type", r.contentType)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec.Code, rec.Body.String()
			}
			code, body := answer(ours)
			wantCode, wantBody := answer(theirs)
			if code != wantCode || body != wantBody {
				t.Errorf("answered %d %s\nadmission.Webhook answered %d %s", code, body, wantCode, wantBody)
			}
			if !bytes.Contains([]byte(body), []byte(`"response"`)) {
				t.Errorf("no response: %s", body)
			}
		})
	}
}
