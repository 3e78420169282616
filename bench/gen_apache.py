#!/usr/bin/env python3
"""gen_apache.py: a deterministic corpus of Apache/nginx "combined" lines.

    bench/gen_apache.py [--lines N] [--seed S] [--out FILE]

Writes N lines (default 1,000,000, about 225 MB) to FILE (default
bench/out/apache_combined.log). The same seed gives the same bytes on every
machine (Python's random.Random is specified to be stable for a seed), so
runs on different days compare the same work.

What the lines look like, and why:
  * clients: IPv4 from a pool of a few thousand addresses (most traffic comes
    from repeat visitors), about 7% IPv6 (full and compressed forms, some
    with an embedded IPv4 tail);
  * ident "-" always, authuser "-" mostly, a user name on ~3% (an e-mail
    address on some), as on an intranet site with basic auth;
  * dates advance over one day (random gaps, several lines per second) with
    a fixed +0100 offset, as Apache writes them;
  * requests: GET most, then POST, HEAD, PUT, DELETE, OPTIONS, PATCH; paths of
    a shop/API/blog with query strings, static assets, percent-encoding;
    HTTP/1.1 mostly, some HTTP/2.0 and HTTP/1.0; a few "-" requests (408s)
    and scanner junk ("\\x16\\x03\\x01..." as Apache escapes TLS on port 80);
  * status: mostly 200, then 304, 301/302, 404, 403, 500, 502, 503, 206;
    bytes "-" for 304 and HEAD and the odd 204;
  * referrers: "-" for about 45% (direct, bots), else search engines and the
    site's own pages;
  * user agents: a handful of real browsers, bots and tools, some with
    escaped quotes (\\"), some empty (""), a few with UTF-8 text and,
    rarely (1 in 5,000), bytes that are not valid UTF-8, so the JSON writer's
    slow paths run too;
  * 1 in 10,000 lines is not an access log line at all (a stray error-log
    line), so the _grokparsefailure path runs.
"""
import argparse
import datetime
import os
import random
import sys

METHODS = (["GET"] * 880 + ["POST"] * 70 + ["HEAD"] * 25 + ["PUT"] * 8 +
           ["DELETE"] * 5 + ["OPTIONS"] * 8 + ["PATCH"] * 4)
STATUS = ([200] * 780 + [304] * 70 + [301] * 25 + [302] * 30 + [404] * 50 +
          [403] * 8 + [500] * 12 + [502] * 5 + [503] * 5 + [206] * 10 +
          [204] * 5)
PROTOS = ["HTTP/1.1"] * 80 + ["HTTP/2.0"] * 17 + ["HTTP/1.0"] * 3

STATIC = ["/static/css/main.{h}.css", "/static/js/app.{h}.js",
          "/static/js/vendor.{h}.js", "/images/products/{n}/thumb.jpg",
          "/images/logo.png", "/favicon.ico", "/fonts/inter-var.woff2",
          "/images/banners/winter-sale-{n}.webp"]
PAGES = ["/", "/index.html", "/products", "/products/{n}",
         "/products/{n}/reviews?page={p}", "/category/{cat}?sort={sort}&page={p}",
         "/search?q={q}&lang=en", "/search?q={q}&category={cat}&page={p}",
         "/cart", "/checkout/step-{p}", "/account/orders/{n}",
         "/blog/{y}/{m:02d}/{slug}", "/blog/{y}/{m:02d}/{slug}?utm_source={src}&utm_medium=social&utm_campaign=fall-{y}",
         "/docs/{ver}/guide/{slug}.html#{slug}", "/robots.txt", "/sitemap.xml",
         "/wp-login.php", "/.env", "/login?next=%2Faccount%2Forders"]
API = ["/api/v1/products?limit={p}0&offset={n}", "/api/v1/products/{n}",
       "/api/v1/cart/items", "/api/v2/users/{n}/preferences",
       "/api/v2/orders/{n}/status?include=items,shipping",
       "/api/v1/search/suggest?q={q}", "/graphql", "/healthz"]
CATS = ["shoes", "jackets", "kitchen", "garden", "books", "toys", "audio",
        "laptops", "bikes", "coffee"]
SORTS = ["price_asc", "price_desc", "newest", "rating"]
QUERIES = ["running+shoes", "rain%20jacket", "espresso+machine", "usb-c+hub",
           "caf%C3%A9+grinder", "winter+boots+size+44", "noise+cancelling",
           "gift+ideas", "%22quoted+phrase%22", "kids+bike+20%22"]
SLUGS = ["why-we-moved-to-http2", "caching-static-assets",
         "a-year-of-structured-logging", "black-friday-postmortem",
         "how-we-ship-logs", "choosing-a-database", "release-notes-3-2"]
SOURCES = ["twitter", "newsletter", "mastodon", "linkedin", "reddit"]
VERSIONS = ["2.4", "2.5", "3.0", "latest"]

REFERRERS_EXT = [
    "https://www.google.com/", "https://www.google.de/",
    "https://www.bing.com/search?q={q}&form=QBLH",
    "https://duckduckgo.com/", "https://news.ycombinator.com/item?id=3{n}",
    "https://t.co/Xk2{n}", "https://www.reddit.com/r/programming/comments/{n}/",
    "android-app://com.google.android.gm/"]

UAS = [
    # (weight, user agent)
    (28, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
         "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    (14, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
    (12, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
         "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 "
         "Safari/604.1"),
    (10, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
         "(KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36"),
    (8, "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 "
        "Firefox/132.0"),
    (8, "Mozilla/5.0 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)"),
    (4, "Mozilla/5.0 (compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm)"),
    (4, "curl/8.5.0"),
    (3, "python-requests/2.32.3"),
    (3, "Go-http-client/1.1"),
    (2, "kube-probe/1.29"),
    (2, "Prometheus/2.54.1"),
    (1, "Mozilla/5.0 (compatible; \\\"SuperScanner\\\" 3.1; "
        "+https://scanner.example/bot)"),
    (1, "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; "
        "Trident/4.0; \\\"Embedded Web Browser\\\")"),
    (1, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 "
        "Lighthouse \\\"mobile\\\""),
    (1, ""),
    (1, "Mozilla/5.0 (Linux; Android 13; Redmi Note 12 Build/TKQ1.221114.001; "
        "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
        "Chrome/130.0.6723.107 Mobile Safari/537.36 "
        "[FB_IAB/FB4A;FBAV/489.0.0.42.108;] Ünïcödé-Client/1.0 (テスト)"),
]
UA_CUM = []
_acc = 0
for _w, _ua in UAS:
    _acc += _w
    UA_CUM.append((_acc, _ua))
UA_TOTAL = _acc

JUNK_REQUESTS = ["\\x16\\x03\\x01\\x00\\xa5\\x01\\x00\\x00\\xa1\\x03\\x03",
                 "GET /cgi-bin/../../../../bin/sh HTTP/1.1",
                 "\\x03\\x00\\x00/*\\xe0\\x00\\x00\\x00\\x00\\x00Cookie:",
                 "CONNECT example.com:443 HTTP/1.1", "-"]

NOT_ACCESS = ("[Fri Nov 21 09:14:05.226743 2025] [core:error] [pid 2281:tid "
              "140352] [client 203.0.113.7:51234] AH00126: Invalid URI in "
              "request GET /..%2f..%2fetc/passwd HTTP/1.1")

USERS = ["frank", "alice", "bob", "j.doe@example.com", "svc-monitor",
         "maria.garcia"]


def pick_ua(r):
    x = r.randrange(UA_TOTAL)
    for acc, ua in UA_CUM:
        if x < acc:
            return ua
    return UA_CUM[-1][1]


def fill(r, tmpl):
    return tmpl.format(
        h="%08x" % r.getrandbits(32), n=r.randrange(1, 99999),
        p=r.randrange(1, 10), cat=r.choice(CATS), sort=r.choice(SORTS),
        q=r.choice(QUERIES), y=r.choice((2023, 2024, 2025)),
        m=r.randrange(1, 13), slug=r.choice(SLUGS), src=r.choice(SOURCES),
        ver=r.choice(VERSIONS))


def make_ipv4_pool(r, n):
    pool = []
    for _ in range(n):
        first = r.choice((23, 31, 45, 62, 66, 78, 81, 84, 91, 104, 109, 151,
                          172, 176, 185, 188, 192, 203, 212, 217))
        pool.append("%d.%d.%d.%d" % (first, r.randrange(256),
                                     r.randrange(256), r.randrange(1, 255)))
    return pool


def make_ipv6_pool(r, n):
    pool = []
    for i in range(n):
        g = ["%x" % r.getrandbits(16) for _ in range(8)]
        kind = i % 4
        if kind == 0:
            pool.append(":".join(["2001", "db8"] + g[2:]))
        elif kind == 1:
            pool.append("2a01:4f8:%s:%s::%s" % (g[0], g[1], g[2]))
        elif kind == 2:
            pool.append("2600:1700:%s::%s:%s" % (g[3], g[4], g[5]))
        else:
            pool.append("::ffff:%d.%d.%d.%d" % (
                r.randrange(1, 224), r.randrange(256), r.randrange(256),
                r.randrange(1, 255)))
    return pool


def request_path(r):
    x = r.random()
    if x < 0.45:
        return fill(r, r.choice(STATIC))
    if x < 0.80:
        return fill(r, r.choice(PAGES))
    return fill(r, r.choice(API))


def body_bytes(r, status, method, path):
    if status in (304, 204) or method == "HEAD":
        return "-" if r.random() < 0.8 else "0"
    if status >= 400:
        return str(r.randrange(150, 600))
    if ".js" in path or ".css" in path or ".woff2" in path:
        return str(r.randrange(8000, 480000))
    if ".jpg" in path or ".png" in path or ".webp" in path:
        return str(r.randrange(2000, 250000))
    return str(r.randrange(300, 64000))


def referrer(r, site):
    x = r.random()
    if x < 0.45:
        return "-"
    if x < 0.70:
        return fill(r, r.choice(REFERRERS_EXT))
    return site + fill(r, r.choice(PAGES))


def one_line(r, ts, ipv4, ipv6, site):
    if r.randrange(10000) == 0:
        return NOT_ACCESS
    host = r.choice(ipv6) if r.random() < 0.07 else r.choice(ipv4)
    user = r.choice(USERS) if r.random() < 0.03 else "-"
    date = ts.strftime("%d/%b/%Y:%H:%M:%S +0100")
    if r.randrange(2000) == 0:
        req = r.choice(JUNK_REQUESTS)
        status = 400 if req != "-" else 408
        return '%s - %s [%s] "%s" %d - "-" "-"' % (host, user, date, req,
                                                   status)
    method = r.choice(METHODS)
    path = request_path(r)
    status = r.choice(STATUS)
    ua = pick_ua(r)
    if r.randrange(5000) == 0:
        # A client that sends Latin-1 (or garbage) in its User-Agent: not
        # valid UTF-8; the JSON writer must turn each such byte into U+FFFD.
        ua = ua + " Caf\udce9/1.0 \udcff\udcfe"
    return '%s - %s [%s] "%s %s %s" %d %s "%s" "%s"' % (
        host, user, date, method, path, r.choice(PROTOS), status,
        body_bytes(r, status, method, path), referrer(r, site), ua)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=20251121)
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "out",
        "apache_combined.log"))
    a = ap.parse_args()
    if not 1 <= a.lines <= 1000000:
        sys.exit("gen_apache.py: --lines: expected a number from 1 to 1000000")
    r = random.Random(a.seed)
    ipv4 = make_ipv4_pool(r, 4000)
    ipv6 = make_ipv6_pool(r, 400)
    site = "https://shop.example.com"
    ts = datetime.datetime(2025, 11, 21, 0, 0, 0)
    # The mean gap makes N lines span about one day.
    mean_gap = 86400.0 / a.lines
    t = 0.0
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "wb", buffering=1 << 20) as f:
        batch = []
        for _ in range(a.lines):
            t += r.expovariate(1.0 / mean_gap)
            line = one_line(r, ts + datetime.timedelta(seconds=int(t)),
                            ipv4, ipv6, site)
            batch.append(line)
            if len(batch) == 10000:
                f.write(("\n".join(batch) + "\n").encode(
                    "utf-8", "surrogateescape"))
                batch = []
        if batch:
            f.write(("\n".join(batch) + "\n").encode("utf-8",
                                                      "surrogateescape"))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
