package webhook

import (
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// NewHTTPHandler serves AdmissionReviews for h as controller-runtime's
// admission.Webhook does, with a per-request logger that costs nothing until
// it writes.
func NewHTTPHandler(h admission.Handler) http.Handler {
	return &admission.Webhook{Handler: h, LogConstructor: requestLogger}
}
