#!/usr/bin/env python3
"""Loopback fake of the market-data providers fa-fetch speaks to.

Serves replies in the recorded shapes of
  FMP            /api/v3/historical-price-full/SYM, /api/v3/stock_news,
                 /api/v4/crypto_news
  Yahoo          /v8/finance/chart/SYM
  Alpha Vantage  /query?function=TIME_SERIES_DAILY_ADJUSTED | NEWS_SENTIMENT
plus helpers for the HTTP client's unit test:
  /echo          JSON of the method, path, request headers and body
  /bytes?n=N     N bytes of 'x'
Faults are asked for with a first path segment "fault=SPEC", stripped
before routing, e.g. base URL http://127.0.0.1:P/fault=429:2:ra=1 :
  429[:N][:ra=S]   the first N requests under this prefix get 429 with
                   Retry-After S (N default 1, "all" for every request);
                   ra=dateS sends it as the HTTP date S seconds from now
  500[:N]          the first N requests get 500
  stall            accept, read the request, never answer
  truncate[:N]     promise a longer Content-Length than sent, then close
  malformed        a body that is not JSON
  shape            JSON that is not the provider's shape
  nokey            behave as if the API key were wrong
/_count answers the number of requests served so far (control requests
excluded); /_requests the request lines (query strings with apikey
redacted). Data are deterministic functions of the symbol and the date:
weekday bars from 2023-01-02 to 2024-06-28, two news items every
calendar day (weekends too; --news-per-day N for more). News replies honour
`limit` (at most that many items; FMP and Alpha Vantage default 1000), FMP's
`page` (0 first, newest first) and Alpha Vantage's `sort` (LATEST, the
default, or EARLIEST). Python 3 standard library only.
"""
import argparse
import datetime as dt
import email.utils
import http.server
import json
import math
import os
import sys
import threading
import time
import urllib.parse

FIRST = dt.date(2023, 1, 2)
LAST = dt.date(2024, 6, 28)
KEYS = {"fmp": "test-fmp-key", "av": "test-av-key"}

lock = threading.Lock()
count = 0
fault_seen = {}
request_log = []


def seed_of(sym):
    return sum(ord(c) * (i + 1) for i, c in enumerate(sym)) % 97


def bars(sym, first=FIRST, last=LAST):
    s = seed_of(sym)
    out = []
    d = FIRST
    i = 0
    while d <= LAST:
        if d.weekday() < 5:
            if first <= d <= last:
                c = round(100 + s + 10 * math.sin((i + s) / 9.0) + 0.05 * i, 2)
                o = round(c - 0.5 * math.cos(i), 2)
                h = round(max(o, c) + 1.25, 2)
                lo = round(min(o, c) - 1.25, 2)
                adj = round(c * 0.98, 4)
                vol = 1000000 + 1000 * i
                out.append((d, o, h, lo, c, adj, vol))
            i += 1
        d += dt.timedelta(days=1)
    return out


NEWS_PER_DAY = 2


def news(sym, first=FIRST, last=LAST):
    out = []
    d = max(first, FIRST)
    hours = [9 + (6 * k) // max(NEWS_PER_DAY - 1, 1) for k in range(NEWS_PER_DAY)]
    while d <= min(last, LAST):
        for k, hh in enumerate(hours):
            up = (d.toordinal() + k) % 3 != 0
            out.append({
                "date": d, "time": "%s %02d:%02d:00" % (d.isoformat(), hh, 30 if NEWS_PER_DAY == 2 else k % 60),
                "title": "%s %s on %s report %d" % (
                    sym, "rallies" if up else "slips", d.isoformat(), k),
                "text": "Analysts say %s %s; \"quoted\" words, commas, and a tab\there." % (
                    sym, "looks strong" if up else "faces headwinds"),
                "site": "fakewire.example", "url": "https://fakewire.example/%s/%s/%d" % (
                    sym, d.isoformat(), k),
                "score": 0.4 if up else -0.3})
        d += dt.timedelta(days=1)
    return out


def pdate(s, default):
    try:
        return dt.date.fromisoformat(s)
    except (TypeError, ValueError):
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake: " + (fmt % args) + "\n")

    def send(self, code, body, ctype="application/json", extra=None, length=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):
        self.handle_any("POST")

    def do_GET(self):
        self.handle_any("GET")

    def handle_any(self, method):
        global count
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        q = dict(urllib.parse.parse_qsl(u.query))
        if path == "/_count":
            with lock:
                return self.send(200, {"count": count})
        if path == "/_requests":
            with lock:
                return self.send(200, {"requests": list(request_log)})
        with lock:
            count += 1
            red = {k: ("REDACTED" if k == "apikey" else v) for k, v in q.items()}
            request_log.append(method + " " + path + "?" + urllib.parse.urlencode(red))
        spec = ""
        if path.startswith("/fault="):
            seg, _, rest = path[1:].partition("/")
            spec = seg[len("fault="):]
            path = "/" + rest
        if spec and self.fault(spec):
            return
        self.route(method, path, q, body, spec)

    def fault(self, spec):
        """Applies the fault; returns True when the request was answered."""
        parts = spec.split(":")
        kind = parts[0]
        limit = 1
        ra = None
        for p in parts[1:]:
            if p.startswith("ra="):
                ra = p[3:]
            elif p == "all":
                limit = 1 << 30
            elif p.isdigit():
                limit = int(p)
        if kind in ("429", "500", "truncate"):
            with lock:
                seen = fault_seen.get(spec, 0)
                fault_seen[spec] = seen + 1
            if seen >= limit:
                return False
            if kind == "429":
                if ra is not None and ra.startswith("date"):
                    ra = email.utils.formatdate(time.time() + int(ra[4:]), usegmt=True)
                return self.send(429, {"error": "too many requests"},
                                 extra={"Retry-After": ra} if ra is not None else None) or True
            if kind == "500":
                return self.send(500, {"error": "internal"}) or True
            self.send(200, '{"truncated": [1, 2, 3', length=4096)
            self.close_connection = True
            return True
        if kind == "stall":
            time.sleep(60)
            self.close_connection = True
            return True
        return False

    def route(self, method, path, q, body, spec):
        if path == "/echo":
            hdrs = {k.lower(): v for k, v in self.headers.items()}
            return self.send(200, {"method": method, "path": path, "query": q,
                                   "headers": hdrs, "body": body.decode("utf-8", "replace")})
        if path == "/bytes":
            return self.send(200, "x" * int(q.get("n", "0")), ctype="text/plain")
        if spec == "malformed":
            return self.send(200, "<html>not json</html>", ctype="text/html")
        shape = spec == "shape"
        if path.startswith("/api/v3/historical-price-full/"):
            return self.fmp_prices(path.rsplit("/", 1)[1], q, shape or spec == "nokey")
        if path in ("/api/v3/stock_news", "/api/v4/crypto_news"):
            return self.fmp_news(path, q, shape, spec == "nokey")
        if path.startswith("/v8/finance/chart/"):
            return self.yahoo(path.rsplit("/", 1)[1], q, shape)
        if path == "/query":
            return self.alphavantage(q, shape, spec == "nokey")
        return self.send(404, {"error": "no route " + path})

    def fmp_prices(self, sym, q, bad):
        if bad or q.get("apikey") != KEYS["fmp"]:
            return self.send(200, {"Error Message": "Invalid API KEY. Please retry or visit "
                                   "our documentation to create one FREE"})
        first, last = pdate(q.get("from"), FIRST), pdate(q.get("to"), LAST)
        hist = [{"date": d.isoformat(), "open": o, "high": h, "low": lo, "close": c,
                 "adjClose": adj, "volume": v, "unadjustedVolume": v, "change": round(c - o, 2),
                 "changePercent": round((c - o) / o * 100, 4), "vwap": round((h + lo + c) / 3, 4),
                 "label": d.strftime("%B %d, %y"), "changeOverTime": 0.0}
                for d, o, h, lo, c, adj, v in reversed(bars(sym, first, last))]
        self.send(200, {"symbol": sym, "historical": hist})

    def fmp_news(self, path, q, shape, nokey):
        if nokey or q.get("apikey") != KEYS["fmp"]:
            return self.send(401, {"Error Message": "Invalid API KEY."})
        sym = q.get("tickers") or q.get("symbol") or ""
        if shape:
            return self.send(200, {"unexpected": True})
        first, last = pdate(q.get("from"), FIRST), pdate(q.get("to"), LAST)
        items = [{"symbol": sym, "publishedDate": n["time"], "title": n["title"],
                  "image": "https://fakewire.example/i.jpg", "site": n["site"],
                  "text": n["text"], "url": n["url"]}
                 for n in reversed(news(sym, first, last))]
        limit, page = int(q.get("limit", "1000")), int(q.get("page", "0"))
        self.send(200, items[page * limit:(page + 1) * limit])

    def yahoo(self, sym, q, shape):
        if shape:
            return self.send(200, {"chart": {"result": None,
                                             "error": {"code": "Not Found",
                                                       "description": "No data found"}}})
        try:
            p1, p2 = int(q.get("period1", "0")), int(q.get("period2", "4102444800"))
        except ValueError:
            return self.send(400, {"chart": {"result": None, "error": {"code": "Bad Request"}}})
        first = dt.datetime.fromtimestamp(p1, dt.timezone.utc).date()
        last = dt.datetime.fromtimestamp(p2, dt.timezone.utc).date()
        b = bars(sym, first, last)
        off = -14400
        ts = [int(dt.datetime(d.year, d.month, d.day, 13, 30,
                              tzinfo=dt.timezone.utc).timestamp()) for d, *_ in b]
        res = {"meta": {"currency": "USD", "symbol": sym, "exchangeName": "NMS",
                        "instrumentType": "EQUITY", "gmtoffset": off,
                        "timezone": "EDT", "exchangeTimezoneName": "America/New_York",
                        "dataGranularity": "1d"},
               "timestamp": ts,
               "indicators": {"quote": [{"open": [x[1] for x in b], "high": [x[2] for x in b],
                                         "low": [x[3] for x in b], "close": [x[4] for x in b],
                                         "volume": [x[6] for x in b]}],
                              "adjclose": [{"adjclose": [x[5] for x in b]}]}}
        self.send(200, {"chart": {"result": [res], "error": None}})

    def alphavantage(self, q, shape, nokey):
        fn = q.get("function")
        sym = q.get("symbol") or q.get("tickers") or ""
        if nokey or q.get("apikey") != KEYS["av"]:
            return self.send(200, {"Error Message": "the parameter apikey is invalid or missing."})
        if shape:
            return self.send(200, {"Information": "Thank you for using Alpha Vantage! "
                                   "Our standard API rate limit is 25 requests per day."})
        if fn == "TIME_SERIES_DAILY_ADJUSTED":
            ts = {}
            for d, o, h, lo, c, adj, v in reversed(bars(sym)):
                ts[d.isoformat()] = {"1. open": "%.4f" % o, "2. high": "%.4f" % h,
                                     "3. low": "%.4f" % lo, "4. close": "%.4f" % c,
                                     "5. adjusted close": "%.4f" % adj, "6. volume": str(v),
                                     "7. dividend amount": "0.0000",
                                     "8. split coefficient": "1.0"}
            return self.send(200, {"Meta Data": {"1. Information": "Daily Time Series with "
                                                 "Splits and Dividend Events",
                                                 "2. Symbol": sym,
                                                 "3. Last Refreshed": LAST.isoformat(),
                                                 "4. Output Size": "Full size",
                                                 "5. Time Zone": "US/Eastern"},
                                   "Time Series (Daily)": ts})
        if fn == "NEWS_SENTIMENT":
            def tp(s, default):
                try:
                    return dt.datetime.strptime(s[:8], "%Y%m%d").date()
                except (TypeError, ValueError):
                    return default
            first, last = tp(q.get("time_from"), FIRST), tp(q.get("time_to"), LAST)
            feed = [{"title": n["title"], "url": n["url"],
                     "time_published": n["time"].replace("-", "").replace(":", "").replace(
                         " ", "T"),
                     "authors": ["Fake Writer"], "summary": n["text"],
                     "banner_image": None, "source": n["site"], "category_within_source": "n/a",
                     "source_domain": n["site"], "topics": [],
                     "overall_sentiment_score": n["score"],
                     "overall_sentiment_label": "Bullish" if n["score"] > 0 else "Bearish",
                     "ticker_sentiment": [{"ticker": sym, "relevance_score": "0.9",
                                           "ticker_sentiment_score": str(n["score"]),
                                           "ticker_sentiment_label": "Bullish"}]}
                    for n in news(sym, first, last)]
            if q.get("sort", "LATEST") != "EARLIEST":
                feed.reverse()
            feed = feed[:int(q.get("limit", "50"))]
            return self.send(200, {"items": str(len(feed)),
                                   "sentiment_score_definition": "x <= -0.35: Bearish; ...",
                                   "relevance_score_definition": "0 < x <= 1",
                                   "feed": feed})
        return self.send(200, {"Error Message": "Invalid API call."})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--news-per-day", type=int, default=2)
    a = ap.parse_args()
    global NEWS_PER_DAY
    NEWS_PER_DAY = a.news_per_day
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
