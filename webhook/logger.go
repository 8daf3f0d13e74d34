package webhook

import (
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// requestLogger is an admission.Webhook LogConstructor that logs what
// admission.DefaultLogConstructor logs, but adds the request's values to the
// logger only when a line is written. The default constructor calls
// WithValues on every request, twice, and zap encodes the values and copies
// its core each time: about 4 % of the webhook's CPU for loggers that almost
// never write anything.
func requestLogger(base logr.Logger, req *admission.Request) logr.Logger {
	if req == nil || base.GetSink() == nil {
		return base
	}
	return base.WithSink(&lazySink{sink: base.GetSink(), req: &requestValues{
		namespace: req.Namespace,
		name:      req.Name,
		resource:  req.Resource,
		user:      req.UserInfo.Username,
		uid:       string(req.UID),
	}})
}

// requestValues are the fields admission.DefaultLogConstructor logs, copied so
// that a logger kept beyond the request does not hold the whole request.
type requestValues struct {
	namespace, name, user, uid string
	resource                   any

	once  sync.Once
	pairs []any
}

// keysAndValues are the values in the order admission.DefaultLogConstructor
// adds them.
func (v *requestValues) keysAndValues() []any {
	v.once.Do(func() {
		v.pairs = []any{"object", klog.KRef(v.namespace, v.name),
			"namespace", v.namespace, "name", v.name,
			"resource", v.resource, "user", v.user,
			"requestID", v.uid,
		}
	})
	return v.pairs
}

// lazySink is a logr.LogSink that holds the request's values apart and hands
// them to the real sink only when a line is written.
type lazySink struct {
	sink  logr.LogSink
	req   *requestValues
	extra []any // values added after the request's, in order
	depth int
}

var (
	_ logr.LogSink          = (*lazySink)(nil)
	_ logr.CallDepthLogSink = (*lazySink)(nil)
)

// Init does nothing: the real sink was initialised when its logger was made,
// and initialising it again would change its call depth.
func (s *lazySink) Init(logr.RuntimeInfo) {}

func (s *lazySink) Enabled(level int) bool { return s.sink.Enabled(level) }

func (s *lazySink) Info(level int, msg string, keysAndValues ...any) {
	s.materialize().Info(level, msg, keysAndValues...)
}

func (s *lazySink) Error(err error, msg string, keysAndValues ...any) {
	s.materialize().Error(err, msg, keysAndValues...)
}

// WithValues keeps the values after the request's, as they would be had the
// request's been added first.
func (s *lazySink) WithValues(keysAndValues ...any) logr.LogSink {
	c := *s
	c.extra = append(append([]any(nil), s.extra...), keysAndValues...)
	return &c
}

// WithName may go straight to the real sink: names and values are kept apart
// by every sink kgate uses (zap), so their order does not matter.
func (s *lazySink) WithName(name string) logr.LogSink {
	c := *s
	c.sink = s.sink.WithName(name)
	return &c
}

func (s *lazySink) WithCallDepth(depth int) logr.LogSink {
	c := *s
	c.depth += depth
	return &c
}

// materialize is the real sink with the request's values, skipping this
// sink's own frame so that callers and stack traces point where they did.
func (s *lazySink) materialize() logr.LogSink {
	out := s.sink.WithValues(s.req.keysAndValues()...)
	if len(s.extra) > 0 {
		out = out.WithValues(s.extra...)
	}
	if cd, ok := out.(logr.CallDepthLogSink); ok {
		out = cd.WithCallDepth(s.depth + 1)
	}
	return out
}
