package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// maxRequestSize is controller-runtime's limit on an AdmissionReview body: two
// objects of at most 3 MiB and the rest of the request.
const maxRequestSize = 7 << 20

// NewHTTPHandler serves AdmissionReviews for h as controller-runtime's
// admission.Webhook does, answer for answer, for less CPU: the plain reviews an
// API server sends are decoded in one pass (decodeReview) and get a
// per-request logger that costs nothing until it writes; anything else (no
// body, another content type, a body too large or that decodeReview refuses)
// is left to admission.Webhook itself.
func NewHTTPHandler(h admission.Handler) http.Handler {
	return &httpHandler{
		wh: &admission.Webhook{Handler: h, LogConstructor: requestLogger},
		// admission.Webhook's own logger, which it keeps unexported.
		log: logf.Log.WithName("admission"),
	}
}

type httpHandler struct {
	wh  *admission.Webhook
	log logr.Logger
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.Header.Get("Content-Type") != "application/json" {
		h.wh.ServeHTTP(w, r)
		return
	}
	limited := &io.LimitedReader{R: r.Body, N: maxRequestSize}
	body, err := io.ReadAll(limited)
	if err != nil || limited.N <= 0 {
		// Replay what was read, then the error or the rest, so that
		// admission.Webhook answers as if it had read the body itself.
		rest := r.Body
		if err != nil {
			rest = io.NopCloser(errReader{err})
		}
		defer r.Body.Close()
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), rest))
		h.wh.ServeHTTP(w, r)
		return
	}
	r.Body.Close()
	req, gvk, ok := decodeReview(body)
	if !ok {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.wh.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if h.wh.WithContextFunc != nil {
		ctx = h.wh.WithContextFunc(ctx, r)
	}
	requestLogger(h.log, &req).V(5).Info("received request")
	h.write(w, h.wh.Handle(ctx, req), gvk)
}

// write answers with an AdmissionReview of the request's version, as
// admission.Webhook does.
func (h *httpHandler) write(w io.Writer, resp admission.Response, gvk schema.GroupVersionKind) {
	ar := admissionv1.AdmissionReview{Response: &resp.AdmissionResponse}
	if gvk == (schema.GroupVersionKind{}) {
		gvk = admissionv1.SchemeGroupVersion.WithKind("AdmissionReview")
	}
	ar.SetGroupVersionKind(gvk)
	if err := json.NewEncoder(w).Encode(ar); err != nil {
		h.log.Error(err, "unable to encode and write the response")
		serverError := admission.Errored(http.StatusInternalServerError, err)
		if err = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{Response: &serverError.AdmissionResponse}); err != nil {
			h.log.Error(err, "still unable to encode and write the InternalServerError response")
		}
		return
	}
	if log := h.log; log.V(5).Enabled() {
		res := ar.Response
		if res.Result != nil {
			log = log.WithValues("code", res.Result.Code, "reason", res.Result.Reason, "message", res.Result.Message)
		}
		log.V(5).Info("wrote response", "requestID", res.UID, "allowed", res.Allowed)
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
