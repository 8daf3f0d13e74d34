package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// review is one AdmissionReview the load generator sends: its body and the UID
// the response must echo.
type review struct {
	body []byte
	uid  string
}

// loadResult is what one load run measured.
type loadResult struct {
	reviews   int
	elapsed   time.Duration
	latencies []time.Duration // sorted
	// late is, in an open loop, how long after its due time each review was
	// sent (sorted): the generator's own delay, from its timers and from
	// waiting for a core. It is part of the latencies.
	late     []time.Duration
	errors   int
	firstErr error
}

// rate is the reviews per second achieved.
func (r *loadResult) rate() float64 { return float64(r.reviews) / r.elapsed.Seconds() }

// percentile returns the latency below which a fraction p of the reviews
// completed, in milliseconds.
func (r *loadResult) percentile(p float64) float64 { return percentile(r.latencies, p) }

// percentile returns the value below which a fraction p of the sorted durations
// fall, in milliseconds.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
}

// loadGen sends reviews to a webhook over a fixed set of persistent
// connections, one per worker, so the server sees exactly len(clients)
// connections.
type loadGen struct {
	reviews  []review
	requests [][]byte // reviews[i] as a complete HTTP request
	clients  []*client
}

// newLoadGen makes a generator with conns connections to url, and opens them with
// one review each so that TLS handshakes fall outside what is measured.
func newLoadGen(url string, conns int, reviews []review) (*loadGen, error) {
	g, err := prepareLoadGen(url, conns, reviews)
	if err != nil {
		return nil, err
	}
	errs := make(chan error, conns)
	for i, c := range g.clients {
		go func() { errs <- g.send(c, i) }()
	}
	for range g.clients {
		if err := <-errs; err != nil {
			g.close()
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	return g, nil
}

// prepareLoadGen makes a generator whose connections open on first use.
func prepareLoadGen(url string, conns int, reviews []review) (*loadGen, error) {
	addr, requests, err := encodeRequests(url, reviews)
	if err != nil {
		return nil, err
	}
	g := &loadGen{reviews: reviews, requests: requests}
	for i := 0; i < conns; i++ {
		g.clients = append(g.clients, &client{addr: addr})
	}
	return g, nil
}

// close drops the connections, so that the server can shut down without
// waiting for them.
func (g *loadGen) close() {
	for _, c := range g.clients {
		c.close()
	}
}

// send posts review i (of the mix, in turn) and checks the answer: status 200
// and an AdmissionReview whose response echoes the request's UID.
func (g *loadGen) send(c *client, i int) error {
	r := g.reviews[i%len(g.reviews)]
	status, body, err := c.post(g.requests[i%len(g.requests)])
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", status, body)
	}
	// Only the fields that make the answer usable: decoding the whole
	// AdmissionReview would spend the generator's CPU, which the server shares.
	var got struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Response   *struct {
			UID string `json:"uid"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("malformed AdmissionReview: %w", err)
	}
	if got.Kind != "AdmissionReview" || got.Response == nil || got.Response.UID != r.uid {
		return fmt.Errorf("malformed AdmissionReview: %.200s", body)
	}
	return nil
}

// closedLoop sends n reviews, each worker sending its next review as soon as the
// previous one is answered: the highest throughput the server reaches. Latency
// runs from the send, and by Little's law its mean is the number of connections
// divided by the throughput, whatever the server does.
func (g *loadGen) closedLoop(n int) *loadResult {
	var next indexes
	return g.run(func(c *client, rec *recorder) {
		for i, ok := next.claim(n); ok; i, ok = next.claim(n) {
			t0 := time.Now()
			rec.add(t0, g.send(c, i))
		}
	})
}

// openLoop sends n reviews at a fixed arrival rate per second, whatever the
// server's speed: review i is due at start + i/rate, and the next free worker
// sends it at that time. Latency runs from the time a review was due, not from
// when it was sent, so a server that falls behind is charged for the queue it
// builds up (no coordinated omission).
func (g *loadGen) openLoop(n int, rate float64) *loadResult {
	interval := time.Duration(float64(time.Second) / rate)
	var next indexes
	start := time.Now()
	return g.run(func(c *client, rec *recorder) {
		for i, ok := next.claim(n); ok; i, ok = next.claim(n) {
			due := start.Add(time.Duration(i) * interval)
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
			rec.late = append(rec.late, max(time.Since(due), 0))
			rec.add(due, g.send(c, i))
		}
	})
}

// indexes hands out 0, 1, 2... to whichever worker is free first. A goroutine
// feeding a channel did the same, but woke up for every review to refill it.
type indexes struct{ next atomic.Int64 }

// claim returns the next index, and false once n were handed out.
func (x *indexes) claim(n int) (int, bool) {
	i := int(x.next.Add(1) - 1)
	return i, i < n
}

// run starts one worker per connection and collects what they recorded.
func (g *loadGen) run(work func(*client, *recorder)) *loadResult {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for _, c := range g.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rec recorder
			work(c, &rec)
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, rec.latencies...)
			res.late = append(res.late, rec.late...)
			res.errors += rec.errors
			if res.firstErr == nil {
				res.firstErr = rec.firstErr
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.reviews = len(res.latencies)
	slices.Sort(res.latencies)
	slices.Sort(res.late)
	return &res
}

// recorder is one worker's record, merged once the worker is done so that
// workers share no lock while sending.
type recorder struct {
	latencies []time.Duration
	late      []time.Duration
	errors    int
	firstErr  error
}

// add records a review that was due (or sent) at t and has just completed.
func (r *recorder) add(t time.Time, err error) {
	r.latencies = append(r.latencies, time.Since(t))
	if err != nil {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
	}
}

// echoReviews answers every AdmissionReview after delay, echoing its UID.
func echoReviews(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Request struct {
				UID string `json:"uid"`
			} `json:"request"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		time.Sleep(delay)
		fmt.Fprintf(w, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":%q,"allowed":true}}`, req.Request.UID)
	})
}

// TestOpenLoopCountsQueueing offers one connection twice the reviews a 10 ms
// server can answer: review k is due at 5k ms and answered at about 10(k+1) ms,
// so its latency grows by 5 ms a review. Measured from the send instead of the
// due time, every latency would read 10 ms; the difference is how late the
// generator sent each review.
func TestOpenLoopCountsQueueing(t *testing.T) {
	srv := httptest.NewTLSServer(echoReviews(10 * time.Millisecond))
	defer srv.Close()
	g, err := newLoadGen(srv.URL, 1, reviewMix())
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	res := g.openLoop(10, 200)
	if res.reviews != 10 || res.errors != 0 {
		t.Fatalf("%d reviews, %d errors (first: %v); want 10 and 0", res.reviews, res.errors, res.firstErr)
	}
	if p99 := res.percentile(0.99); p99 < 40 {
		t.Errorf("p99 %.1f ms: want ≥ 40 ms, the queue the slow server built up", p99)
	}
	// The one worker is busy when each review falls due, so it sends review k
	// about 5k ms late.
	if len(res.late) != 10 {
		t.Fatalf("%d send delays recorded, want 10", len(res.late))
	}
	if late := percentile(res.late, 0.99); late < 35 {
		t.Errorf("latest send %.1f ms after its due time: want ≥ 35 ms", late)
	}
}

// TestSendRejectsBadAnswers counts an error status and an answer that is not
// the request's AdmissionReview as errors.
func TestSendRejectsBadAnswers(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"status": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusInternalServerError) },
		"empty":  func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"kind":"AdmissionReview"}`) },
		"uid": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, `{"kind":"AdmissionReview","response":{"uid":"other"}}`)
		},
		"not json": func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `ok`) },
	} {
		srv := httptest.NewTLSServer(h)
		g, err := prepareLoadGen(srv.URL, 1, reviewMix())
		if err != nil {
			t.Fatal(err)
		}
		if err := g.send(g.clients[0], 0); err == nil {
			t.Errorf("%s: no error", name)
		}
		g.close()
		srv.Close()
	}
}
