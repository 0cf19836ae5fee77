/* dptcp-http — a minimal HTTP/1.1 server on dptcp. GET /N answers 200 with
 * N body bytes ('a' + i % 26 at offset i), generated as send space frees.
 * Keep-alive by default; pipelined requests are answered in order (the
 * next is read only when the current response is queued); with
 * "Connection: close" the server closes first (so it holds TIME_WAIT).
 * Connection bookkeeping, the retry of connections starved of mbufs and
 * main() are app_server.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app_server.h"
#include "dpt.h"

#define HTTP_REQ_MAX 8192             /* request line + headers */
#define HTTP_HDR_MAX 256              /* our response header */
#define HTTP_BODY_MAX (1ULL << 40)    /* larger N: 404 */
#define HTTP_PATTERN_LEN (26 * 2520)  /* a multiple of 26 */

struct http_conn {
	struct app_conn ac;               /* first: app_server's part */
	uint32_t req_len;                 /* bytes in req */
	uint32_t hdr_len, hdr_off;        /* response header still to send */
	uint64_t body_left, body_off;     /* response body still to send */
	bool responding;
	bool close_after;                 /* close once the response is queued */
	bool closing;                     /* dpt_close() called */
	char hdr[HTTP_HDR_MAX];
	char req[HTTP_REQ_MAX];
};

/* What a complete request asks for. */
struct http_req {
	uint32_t len;                     /* bytes of the request in req[] */
	int status;                       /* 200, 400, 404, 405 */
	bool head;                        /* HEAD: no body */
	bool close;                       /* close after the response */
	uint64_t n;                       /* GET /N */
};

static char http_pattern[HTTP_PATTERN_LEN];

static void
http_pattern_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(http_pattern); i++)
		http_pattern[i] = (char)('a' + i % 26);
}

/* End of the header block ("\r\n\r\n", or bare "\n\n"), or 0. */
static uint32_t
http_header_end(const char *b, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i++) {
		if (b[i] == '\n' && b[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && b[i] == '\r' && b[i + 1] == '\n' &&
		    b[i + 2] == '\r' && b[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

/* "/N": decimal digits only, no leading '+', bounded. */
static bool
http_parse_target(const char *t, size_t len, uint64_t *n)
{
	size_t i;

	if (len < 2 || t[0] != '/')
		return false;
	*n = 0;
	for (i = 1; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		*n = *n * 10 + (uint64_t)(t[i] - '0');
		if (*n > HTTP_BODY_MAX)
			return false;
	}
	return true;
}

/* Does a comma-separated header value hold token (case-insensitive)? */
static bool
http_has_token(const char *v, size_t len, const char *token)
{
	size_t tl = strlen(token), i = 0, s;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (i - s == tl && strncasecmp(v + s, token, tl) == 0)
			return true;
	}
	return false;
}

/* One header line; false when malformed or announcing a body. */
static bool
http_parse_header(const char *l, size_t len, struct http_req *r,
		  bool *keep_alive)
{
	const char *colon = memchr(l, ':', len);
	size_t nlen, vlen;
	const char *v;

	if (colon == NULL || colon == l || l[0] == ' ' || l[0] == '\t')
		return false;                    /* no name, or obs-fold */
	nlen = (size_t)(colon - l);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	if (nlen == 10 && strncasecmp(l, "Connection", 10) == 0) {
		if (http_has_token(v, vlen, "close"))
			r->close = true;
		if (http_has_token(v, vlen, "keep-alive"))
			*keep_alive = true;
	} else if (nlen == 17 &&
		   strncasecmp(l, "Transfer-Encoding", 17) == 0) {
		return false;                    /* no request bodies */
	} else if (nlen == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
		return vlen == 1 && v[0] == '0';
	}
	return true;
}

/* Request line: METHOD SP /N SP HTTP/1.x */
static int
http_parse_request_line(const char *l, size_t len, struct http_req *r,
			bool *http10)
{
	const char *sp1 = memchr(l, ' ', len), *sp2, *target, *ver;
	size_t tlen, vlen;

	if (sp1 == NULL)
		return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (size_t)(target - l));
	if (sp2 == NULL)
		return 400;
	tlen = (size_t)(sp2 - target);
	ver = sp2 + 1;
	vlen = len - (size_t)(ver - l);
	if (vlen != 8 || strncmp(ver, "HTTP/1.", 7) != 0 ||
	    (ver[7] != '0' && ver[7] != '1') || tlen == 0)
		return 400;
	*http10 = ver[7] == '0';
	if ((size_t)(sp1 - l) == 4 && strncmp(l, "HEAD", 4) == 0)
		r->head = true;
	else if ((size_t)(sp1 - l) != 3 || strncmp(l, "GET", 3) != 0)
		return 405;
	return http_parse_target(target, tlen, &r->n) ? 200 : 404;
}

/* Parses the first request in b[0, len). Returns false if incomplete. */
static bool
http_parse(const char *b, uint32_t len, struct http_req *r)
{
	bool http10 = false, keep_alive = false;
	uint32_t end = http_header_end(b, len), pos = 0;
	const char *nl;
	size_t l;
	int line = 0;

	memset(r, 0, sizeof(*r));
	if (end == 0)
		return false;
	r->len = end;
	while (pos < end) {
		nl = memchr(b + pos, '\n', end - pos);
		l = (size_t)(nl - (b + pos));
		if (l > 0 && b[pos + l - 1] == '\r')
			l--;
		if (l == 0)
			break;                   /* the empty line */
		if (line++ == 0)
			r->status = http_parse_request_line(b + pos, l, r,
							    &http10);
		else if (!http_parse_header(b + pos, l, r, &keep_alive))
			r->status = 400;
		if (r->status == 400)
			break;
		pos += (uint32_t)(nl - (b + pos)) + 1;
	}
	if (line == 0)
		r->status = 400;                 /* no request line */
	if (http10 && !keep_alive)
		r->close = true;
	if (r->status == 400 || r->status == 405)
		r->close = true;
	return true;
}

static void
http_start_response(struct http_conn *hc, const struct http_req *r)
{
	static const char *const reason[] = {
		[0] = "OK", [1] = "Bad Request", [2] = "Not Found",
		[3] = "Method Not Allowed",
	};
	int ri = r->status == 200 ? 0 : r->status == 400 ? 1 :
		 r->status == 404 ? 2 : 3;
	uint64_t n = r->status == 200 ? r->n : strlen(reason[ri]) + 1;
	int len;

	len = snprintf(hc->hdr, sizeof(hc->hdr),
		       "HTTP/1.1 %d %s\r\nServer: dptcp-http\r\n"
		       "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n"
		       "%s%s\r\n",
		       r->status, reason[ri],
		       r->status == 200 ? "application/octet-stream" :
					  "text/plain",
		       n, r->close ? "Connection: close\r\n" :
				     "Connection: keep-alive\r\n",
		       r->status == 405 ? "Allow: GET, HEAD\r\n" : "");
	hc->hdr_len = (uint32_t)len;
	hc->hdr_off = 0;
	hc->body_left = r->head ? 0 : n;
	hc->body_off = 0;
	if (r->status != 200 && !r->head) {
		/* A short text body: the reason phrase and a newline. */
		len += snprintf(hc->hdr + len, sizeof(hc->hdr) - (size_t)len,
				"%s\n", reason[ri]);
		hc->hdr_len = (uint32_t)len;
		hc->body_left = 0;
	}
	hc->responding = true;
	hc->close_after = r->close;
	hc->ac.w->items++;
}

/* Input after the last answered request is discarded first: closing
 * with unread data would send RST (RFC 2525 §2.17) and the peer could
 * lose the response. Data still in flight gets the RST anyway. The
 * handle may be gone when this returns (CLOSED can fire inside). */
static void
http_close(struct tcp_engine *eng, struct tcp_conn *c, struct http_conn *hc)
{
	char sink[2048];

	if (hc->closing)
		return;
	hc->closing = true;
	while (dpt_recv(eng, c, sink, sizeof(sink)) > 0)
		;
	dpt_close(eng, c);
}

/* Queues as much of the response as fits. Returns 1 when it is all
 * queued, 0 when the send buffer is full, -1 on error. */
static int
http_send_response(struct tcp_engine *eng, struct tcp_conn *c,
		   struct http_conn *hc)
{
	const char *p;
	size_t want;
	ssize_t n;

	while (hc->hdr_off < hc->hdr_len || hc->body_left > 0) {
		if (hc->hdr_off < hc->hdr_len) {
			p = hc->hdr + hc->hdr_off;
			want = hc->hdr_len - hc->hdr_off;
		} else {
			size_t at = (size_t)(hc->body_off % HTTP_PATTERN_LEN);

			p = http_pattern + at;
			want = HTTP_PATTERN_LEN - at;
			if (want > hc->body_left)
				want = (size_t)hc->body_left;
		}
		n = dpt_send(eng, c, p, want);
		if (n == -EAGAIN)
			return 0;
		if (n == -ENOBUFS) {
			app_conn_starve(&hc->ac); /* the hook retries */
			return 0;
		}
		if (n < 0)
			return -1;
		hc->ac.w->bytes += (uint64_t)n;
		if (hc->hdr_off < hc->hdr_len) {
			hc->hdr_off += (uint32_t)n;
		} else {
			hc->body_off += (uint64_t)n;
			hc->body_left -= (uint64_t)n;
		}
		if ((size_t)n < want)
			return 0;                /* DPT_EV_WRITABLE follows */
	}
	return 1;
}

/* Finish the current response, then take the next request (already
 * buffered, or read now), until something would block. */
static void
http_pump(struct tcp_engine *eng, struct app_conn *ac)
{
	struct http_conn *hc = (struct http_conn *)ac;
	struct tcp_conn *c = ac->c;
	struct http_req r;
	ssize_t n;
	int ret;

	while (!hc->closing) {
		if (hc->responding) {
			ret = http_send_response(eng, c, hc);
			if (ret == 0)
				return;
			hc->responding = false;
			if (ret < 0 || hc->close_after) {
				http_close(eng, c, hc);
				return;
			}
		}
		if (http_parse(hc->req, hc->req_len, &r)) {
			memmove(hc->req, hc->req + r.len, hc->req_len - r.len);
			hc->req_len -= r.len;
			http_start_response(hc, &r);
			continue;
		}
		if (hc->req_len == sizeof(hc->req)) {
			memset(&r, 0, sizeof(r));
			r.status = 400;              /* headers too long */
			r.close = true;
			hc->req_len = 0;
			http_start_response(hc, &r);
			continue;
		}
		n = dpt_recv(eng, c, hc->req + hc->req_len,
			     sizeof(hc->req) - hc->req_len);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {                        /* peer done, or error */
			http_close(eng, c, hc);
			return;
		}
		hc->req_len += (uint32_t)n;
	}
}

static void
http_summary(const struct app_worker *tot, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 " requests, %" PRIu64 " bytes sent",
		 tot->items, tot->bytes);
}

int
main(int argc, char **argv)
{
	struct app_server srv = {
		.prog = "dptcp-http",
		.name = "http",
		.listen_note = " (GET /N answers N bytes)",
		.conn_size = sizeof(struct http_conn),
		.conn_zeroed = offsetof(struct http_conn, hdr),
		.pump = http_pump,
		.summary = http_summary,
	};

	http_pattern_init();
	return app_server_main(argc, argv, &srv);
}
