/* admin_http.h: blocking HTTP for the indexer's one-off work (`setup`,
 * retention), on one libcurl easy handle: a request at a time, bounded by
 * its timeout, never inside the daemon's event loop.
 *
 * It logs in (basic or API key, also to Kibana, which takes the same
 * credentials), verifies TLS against ca_file or the system's CAs, keeps
 * the answer's status and body (at most ADMIN_HTTP_BODY_MAX), and turns
 * what went wrong into one line with the method, the URL (without any
 * user:password in it) and what to fix. A secret is never in a message.
 *
 * A transport failure is -1 from admin_http_request(); an answer with any
 * status is 0, and the caller decides; admin_http_status_error() words a
 * status it did not want, 401 and 403 with what to set or grant. */
#ifndef ADMIN_HTTP_H
#define ADMIN_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "sl_buf.h"
#include "sl_err.h"

#define ADMIN_HTTP_BODY_MAX (64u * 1024 * 1024)

struct admin_http_opts {
    const char *username, *password; /* basic; both or neither */
    const char *api_key;             /* "Authorization: ApiKey <this>" */
    const char *ca_file;             /* NULL: the system's CAs */
    long timeout_ms;                 /* a whole request; 0: 30 s */
    /* The config keys a message names: "elasticsearch" or "kibana". */
    const char *section;
    /* NULL, or a flag another thread sets to end the request in flight
     * (and the next ones) within about a second: "stopped" (SL_EIO). */
    const atomic_bool *cancel;
    /* elasticsearch.tls_verify false: no certificate or host name check
     * (tests only). Zero, the default, verifies. */
    bool no_tls_verify;
};

struct admin_http {
    CURL *curl;
    struct admin_http_opts opts;
    long status;        /* of the last answer; 0 before one */
    struct sl_buf body; /* of the last answer, NUL-terminated */
    char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init must have run. Keeps opts' strings (the config's). */
SL_MUST_CHECK int admin_http_init(struct admin_http *h,
                                  const struct admin_http_opts *opts,
                                  struct sl_err *err);
void admin_http_release(struct admin_http *h);

/* METHOD url with body[0..len) of Content-Type ctype (body NULL: none),
 * plus the header lines in extra (NULL: none). 0: an answer came (any
 * status); -1: none, err says why and what to fix:
 *   PUT http://es:9200/_index_template/sluice: cannot connect (Connection
 *     refused); is the server running, and is elasticsearch.hosts right?
 * TLS verification failures name ca_file; timeouts say how long. */
SL_MUST_CHECK int admin_http_request(struct admin_http *h, const char *method,
                                     const char *url, const char *ctype,
                                     const void *body, size_t len,
                                     const struct curl_slist *extra,
                                     struct sl_err *err);

/* As admin_http_request(), POST with a multipart/form-data body of one
 * part, field, holding data[0..len) as a file named filename of type
 * ctype. */
SL_MUST_CHECK int admin_http_post_file(struct admin_http *h, const char *url,
                                       const char *field, const char *filename,
                                       const char *ctype, const void *data,
                                       size_t len,
                                       const struct curl_slist *extra,
                                       struct sl_err *err);

/* Sets err for an answer whose status the caller did not want; returns
 * -1. what_for names the privilege a 403 lacks ("manage_index_templates").
 *   GET http://es:9200/: 401 Unauthorized; check elasticsearch.username
 *     and password, or api_key (not shown)
 *   PUT ...: 403 Forbidden: the user lacks manage_index_templates; ...
 *   PUT ...: 400: <the server's reason, cut> */
int admin_http_status_error(const struct admin_http *h, const char *method,
                            const char *url, const char *what_for,
                            struct sl_err *err);

/* url without its user:password@, into buf; for messages. */
const char *admin_http_show_url(char *buf, size_t size, const char *url);

#endif
