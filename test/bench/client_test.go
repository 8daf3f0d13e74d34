package bench

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// client is one persistent HTTP/1.1 connection of the load generator, which
// speaks just what sending a review needs. net/http's Transport runs two
// goroutines per connection and hands every request and response between them
// and the caller: on two cores, the generator's CPU is taken from the server
// it measures, and the Transport was about a third of it.
type client struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
}

// post sends one pre-encoded request and returns the status and body of the
// answer. The connection is opened on first use and again after an error or an
// answer that closes it, as the Transport would.
func (c *client) post(request []byte) (int, []byte, error) {
	if c.conn == nil {
		conn, err := tls.Dial("tcp", c.addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback test server
		if err != nil {
			return 0, nil, fmt.Errorf("connect: %w", err)
		}
		c.conn, c.r = conn, bufio.NewReader(conn)
	}
	status, body, closing, err := c.roundTrip(request)
	if err != nil || closing {
		c.close()
	}
	return status, body, err
}

func (c *client) roundTrip(request []byte) (status int, body []byte, closing bool, err error) {
	if _, err := c.conn.Write(request); err != nil {
		return 0, nil, true, fmt.Errorf("send: %w", err)
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, true, fmt.Errorf("read answer: %w", err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, true, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, body, resp.Close, nil
}

// close drops the connection, so that the server can shut down without
// waiting for it.
func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.r = nil, nil
	}
}

// encodeRequests renders each review as the complete HTTP request that posts
// it to rawURL, once, instead of once per send.
func encodeRequests(rawURL string, reviews []review) (addr string, requests [][]byte, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("webhook URL: %w", err)
	}
	if u.Scheme != "https" {
		return "", nil, fmt.Errorf("webhook URL %q: want https", rawURL)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	for _, r := range reviews {
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, u.Host, len(r.body))
		requests = append(requests, append([]byte(head), r.body...))
	}
	return u.Host, requests, nil
}
