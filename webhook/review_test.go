package webhook

import (
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// reviewCodecs and unversionedReview decode as admission.Webhook.ServeHTTP
// does (controller-runtime keeps its own unexported).
var reviewCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	if err := admissionv1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := admissionv1beta1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s)
}()

type unversionedReview struct{ admissionv1.AdmissionReview }

// genericDecode is controller-runtime's decoding of an AdmissionReview body.
func genericDecode(body []byte) (admission.Request, schema.GroupVersionKind, error) {
	req := admission.Request{}
	ar := unversionedReview{}
	ar.Request = &req.AdmissionRequest
	ar.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
	_, gvk, err := reviewCodecs.UniversalDeserializer().Decode(body, nil, &ar)
	if err != nil {
		return req, schema.GroupVersionKind{}, err
	}
	return req, *gvk, nil
}

// apiServerReview is an AdmissionReview as an API server sends it, with every
// field of the request set.
const apiServerReview = `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",` +
	`"kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},` +
	`"subResource":"","requestKind":{"group":"apps","version":"v1","kind":"Deployment"},"requestResource":{"group":"apps","version":"v1","resource":"deployments"},` +
	`"requestSubResource":"","name":"rag","namespace":"genai","operation":"UPDATE",` +
	`"userInfo":{"username":"admin","uid":"014fbff9a07c","groups":["system:authenticated","my-admin-group"],"extra":{"some-key":["some-value1","some-value2"]}},` +
	`"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"rag","namespace":"genai","labels":{"a\"b":"\u00e9"}},"spec":{"replicas":3,"x":[1.5e3,-0,true,false,null,"\ud83d\ude00"]}},` +
	`"oldObject":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"rag"},"spec":{"replicas":2}},` +
	`"dryRun":false,"options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-client-side-apply","fieldValidation":"Strict"}}}`

// reviewBodies are bodies decodeReview must decode, and bodies it must leave to
// controller-runtime (fast false); in both cases nothing may differ from what
// controller-runtime makes of them.
var reviewBodies = []struct {
	name, body string
	fast       bool
}{
	{"API server", apiServerReview, true},
	{"v1beta1", strings.Replace(apiServerReview, `admission.k8s.io/v1"`, `admission.k8s.io/v1beta1"`, 1), true},
	{"whitespace", " \n{ \"apiVersion\" : \"admission.k8s.io/v1\" ,\t\"kind\":\"AdmissionReview\",\"request\":{ \"uid\":\"1\" , \"object\" : { } , \"oldObject\" : null } }\r\n", true},
	{"old object first", `{"request":{"oldObject":{"a":1},"uid":"1","object":{"b":2}}}`, true},
	{"no objects", `{"request":{"uid":"1","operation":"CONNECT"}}`, true},
	{"object not an object", `{"request":{"object":"text","oldObject":[1,2]}}`, true},
	{"empty request", `{"request":{}}`, true},
	{"unknown request field", `{"request":{"uid":"1","Object":{"a":1},"more":[{"x":null}]}}`, true},
	{"no kind", `{"apiVersion":"admission.k8s.io/v1","request":{"uid":"1"}}`, true},
	{"odd apiVersion", `{"apiVersion":"v9","kind":"Other","request":{"uid":"1"}}`, true},
	{"fields of the generic decoder", `{"request":{"uid":"\u0031","name":"caf\u00e9","namespace":null,"kind":{"group":"a","group":"b"},"dryRun":true,"requestKind":null,` +
		`"userInfo":{"groups":[],"extra":{"k":null,"j":[],"k":["x",null]}},"options":null}}`, true},
	{"non-ASCII name", "{\"request\":{\"name\":\"caf\u00e9\",\"dryRun\":null,\"userInfo\":{\"groups\":[\"a\",null]},\"requestResource\":{\"x\":1}}}", true},
	{"invalid UTF-8 name", "{\"request\":{\"name\":\"caf\xe9\",\"dryRun\":false}}", true},
	{"invalid UTF-8 key", "{\"request\":{\"uid\":\"1\",\"userInfo\":{\"extra\":{\"\x8e\":[]}}}}", true},
	{"duplicate uid", `{"request":{"uid":"1","uid":"2","userInfo":null}}`, true},
	{"duplicate kind", `{"request":{"kind":{"group":"a"},"kind":{"kind":"b"}}}`, true},
	{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, false},
	{"null request", `{"request":null}`, false},
	{"response", `{"request":{"uid":"1"},"response":{"uid":"2"}}`, false},
	{"escaped key", `{"request":{"uid":"1","obj\u0065ct":{"a":1}}}`, false},
	{"escaped top-level key", `{"req\u0075est":{"uid":"1"}}`, false},
	{"folded apiVersion", `{"APIVERSION":"admission.k8s.io/v1","request":{"uid":"1"}}`, false},
	{"Kelvin kind", "{\"\u212aind\":\"AdmissionReview\",\"request\":{\"uid\":\"1\"}}", false},
	{"duplicate object", `{"request":{"object":{"a":1},"object":null}}`, false},
	{"duplicate request", `{"request":{"uid":"1"},"request":{"name":"x"}}`, false},
	{"bad apiVersion", `{"apiVersion":"a/b/c","request":{"uid":"1"}}`, false},
	{"typed field of the wrong type", `{"request":{"uid":1}}`, false},
	{"group of the wrong type", `{"request":{"userInfo":{"groups":[1]}}}`, false},
	{"dryRun of the wrong type", `{"request":{"dryRun":"yes"}}`, false},
	{"duplicate options", `{"request":{"options":{},"options":null}}`, false},
	{"kind not a string", `{"kind":1,"request":{}}`, false},
	{"trailing data", `{"request":{"uid":"1"}} {}`, false},
	{"invalid object", `{"request":{"uid":"1","object":{"a":01}}}`, false},
	{"bad escape", `{"request":{"uid":"1","object":{"a":"\x"}}}`, false},
	{"control character", "{\"request\":{\"uid\":\"1\",\"object\":{\"a\":\"\t\"}}}", false},
	{"not an object", `[{"request":{}}]`, false},
	{"yaml", "request:\n  uid: \"1\"\n", false},
	{"empty", ``, false},
}

func TestDecodeReviewMatchesControllerRuntime(t *testing.T) {
	for _, c := range reviewBodies {
		t.Run(c.name, func(t *testing.T) {
			req, gvk, ok := decodeReview([]byte(c.body))
			if ok != c.fast {
				t.Fatalf("decoded: %v, want %v", ok, c.fast)
			}
			if ok {
				sameAsGeneric(t, []byte(c.body), req, gvk)
			}
		})
	}
}

// TestDecodeReviewTypesAPIServerRequests decodes an API server's request
// without the generic decoder.
func TestDecodeReviewTypesAPIServerRequests(t *testing.T) {
	body := []byte(apiServerReview)
	at := strings.Index(apiServerReview, `"request":`) + len(`"request":`)
	s := scanner{data: body, off: at}
	r := requestSpan{span: span{-1, -1}, object: span{-1, -1}, oldObject: span{-1, -1}, options: span{-1, -1}, typed: true}
	var req admissionv1.AdmissionRequest
	if !s.request(&r, &req) || !r.typed {
		t.Fatalf("request read: %v, typed: %v", s.off, r.typed)
	}
	if req.UserInfo.Extra["some-key"][1] != "some-value2" || *req.RequestKind != req.Kind || req.DryRun == nil {
		t.Errorf("request %+v", req)
	}
}

// sameAsGeneric fails t unless controller-runtime decodes body into req and gvk.
func sameAsGeneric(t *testing.T, body []byte, req admission.Request, gvk schema.GroupVersionKind) {
	t.Helper()
	want, wantGVK, err := genericDecode(body)
	if err != nil {
		t.Fatalf("decodeReview decoded what controller-runtime refuses (%v): %q", err, body)
	}
	if gvk != wantGVK {
		t.Errorf("GroupVersionKind %v, controller-runtime's %v: %q", gvk, wantGVK, body)
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("request\n%#v\ncontroller-runtime's\n%#v\nbody %q", req, want, body)
	}
}

// FuzzDecodeReview checks that whatever decodeReview decodes, controller-runtime
// decodes the same way. Run it with
// go test -run '^$' -fuzz FuzzDecodeReview -fuzztime 1m ./webhook/
func FuzzDecodeReview(f *testing.F) {
	for _, c := range reviewBodies {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, gvk, ok := decodeReview(body)
		if ok {
			sameAsGeneric(t, body, req, gvk)
		}
	})
}

func BenchmarkDecodeReview(b *testing.B) {
	body := []byte(apiServerReview)
	b.Run("decodeReview", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _, _ := decodeReview(body)
			if _, err := Input(&req.AdmissionRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("controller-runtime", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _, _ := genericDecode(body)
			if _, err := Input(&req.AdmissionRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
}
