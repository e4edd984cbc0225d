/* bench-client.c: bayeux-bench, bayeux-glib's side of the bench suite
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One scenario per run, so that the process's peak RSS and CPU belong to
 * that scenario alone; one JSON object on stdout (bench/run.sh collects
 * them). Scenarios (numbered as in bench/README.md):
 *
 *   pingpong  (1, 2) two clients in this process: A publishes on /ping/X,
 *             B (subscribed) republishes the data on /pong/X, A
 *             (subscribed) gets it; ROUNDS sequential round trips after
 *             WARMUP; latency p50/p99/max, CPU (getrusage) per round trip
 *             and peak RSS (VmHWM).
 *   many      (4) one publisher, then CLIENTS clients, each handshaken,
 *             subscribed to its own channel and holding its long poll;
 *             RSS delta per client, time to connect all, and whether each
 *             gets the message then published to it.
 *   idle      (5) one connected client idle for IDLE seconds: CPU used,
 *             wake-ups (voluntary context switches of the process, as
 *             getrusage counts them) and main-loop iterations.
 *   parse     (6) the incoming path in-process: a 100-message response
 *             body → bayeux_parse_messages → bayeux_message_new_parsed →
 *             channel validation, candidates, lookups against 10,000
 *             subscriptions → BayeuxClient::message; messages per second.
 *   soup      (7) libsoup's floor: EXCHANGES sequential keep-alive POSTs
 *             from one default SoupSession; CPU per exchange.
 *
 * BENCH_TRACE=1 in the environment makes the ping-pong print, on stderr, a
 * line `trace <latency µs> <HTTP requests>` per timed round trip.
 *
 * Only the long-polling transport exists: --transport takes
 * `long-polling`; the WebSocket rows are to come with that transport.
 */
#include <bayeux-glib/bayeux-glib.h>
#include "bayeux-channel-private.h"
#include "bayeux-client-private.h"
#include "bayeux-message-private.h"
#include "transports/bayeux-long-polling-private.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

/* Under valgrind --tool=callgrind --collect-atstart=no (run.sh --callgrind)
 * only the timed round trips of the ping-pong, or the timed exchanges of
 * libsoup's floor, are collected. */
#if defined(__has_include)
# if __has_include(<valgrind/callgrind.h>)
#  include <valgrind/callgrind.h>
#  define BENCH_HAVE_CALLGRIND 1
# endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
# define CALLGRIND_TOGGLE_COLLECT
#endif

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

static char    *opt_scenario;
static char    *opt_url;
static char    *opt_server = NULL;
static char    *opt_transport = NULL;
static int      opt_rounds = 2000;
static int      opt_warmup = 200;
static int      opt_clients = 1000;
static double   opt_idle = 60;
static int      opt_subscriptions = 10000;
static int      opt_batch = 100;
static double   opt_parse_seconds = 2;
static int      opt_exchanges = 0;
static char    *opt_cdf;

static GOptionEntry entries[] = {
  { "scenario", 's', 0, G_OPTION_ARG_STRING, &opt_scenario, "pingpong, many, idle, parse or soup", "NAME" },
  { "url", 'u', 0, G_OPTION_ARG_STRING, &opt_url, "The server's URL (the trivial HTTP server's for soup)", "URL" },
  { "server", 0, 0, G_OPTION_ARG_STRING, &opt_server, "The server's name, for the report", "NAME" },
  { "transport", 0, 0, G_OPTION_ARG_STRING, &opt_transport, "long-polling (the only one so far)", "NAME" },
  { "rounds", 'n', 0, G_OPTION_ARG_INT, &opt_rounds, "pingpong: timed round trips (2000)", "N" },
  { "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup, "pingpong, soup: untimed round trips first (200)", "N" },
  { "clients", 'k', 0, G_OPTION_ARG_INT, &opt_clients, "many: clients (1000)", "K" },
  { "idle", 0, 0, G_OPTION_ARG_DOUBLE, &opt_idle, "idle: seconds (60)", "S" },
  { "subscriptions", 0, 0, G_OPTION_ARG_INT, &opt_subscriptions, "parse: subscriptions (10000)", "N" },
  { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "parse: messages per response (100)", "N" },
  { "parse-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_parse_seconds, "parse: seconds per variant (2)", "S" },
  { "exchanges", 0, 0, G_OPTION_ARG_INT, &opt_exchanges, "soup: timed POSTs (4 × rounds)", "N" },
  { "cdf", 0, 0, G_OPTION_ARG_FILENAME, &opt_cdf, "pingpong: write the sorted latencies (µs) there", "FILE" },
  G_OPTION_ENTRY_NULL
};

/* ------------------------------------------------------------------------ */
/* Measures                                                                 */

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A field of /proc/self/status in kB (VmRSS, VmHWM, Threads…), or -1. */
static gint64
proc_status (const char *field)
{
  g_autofree char *text = NULL;
  gsize flen = strlen (field);

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return -1;
  for (char *line = text; line != NULL && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    if (strncmp (line, field, flen) == 0 && line[flen] == ':')
      return g_ascii_strtoll (line + flen + 1, NULL, 10);
  return -1;
}

/* Voluntary context switches of the whole process, threads that ended
 * included: each is a sleep, so about one wake-up each. */
static gint64
voluntary_switches (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_nvcsw;
}

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted @v. */
static gint64
percentile (const gint64 *v,
            guint         n,
            double        p)
{
  guint rank;

  if (n == 0)
    return 0;
  rank = (guint) ceil (p / 100.0 * n);
  return v[CLAMP (rank, 1, n) - 1];
}

/* Counts main-loop iterations: GLib calls every source's prepare before
 * each poll and check after it, so check runs once per wake-up. */
typedef struct {
  GSource source;
  guint64 iterations;
} CounterSource;

static gboolean
counter_prepare (GSource *source,
                 gint    *timeout)
{
  *timeout = -1;
  return FALSE;
}

static gboolean
counter_check (GSource *source)
{
  ((CounterSource *) source)->iterations++;
  return FALSE;
}

static GSourceFuncs counter_funcs = { counter_prepare, counter_check, NULL, NULL, NULL, NULL };

static CounterSource *
counter_source_new (void)
{
  GSource *source = g_source_new (&counter_funcs, sizeof (CounterSource));

  g_source_set_static_name (source, "[bench] iteration counter");
  g_source_attach (source, NULL);
  return (CounterSource *) source;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

/* A flat JSON object, built by hand so that numbers keep a sensible
 * number of digits (json-glib prints doubles with 17). */
typedef GString Report;

static void
report_key (Report     *r,
            const char *name)
{
  g_string_append_printf (r, "%s\"%s\":", r->len > 1 ? "," : "", name);
}

static void
report_string (Report     *r,
               const char *name,
               const char *value)
{
  report_key (r, name);
  g_string_append_c (r, '"');
  for (const char *p = value; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (r, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (r, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (r, *p);
    }
  g_string_append_c (r, '"');
}

static void
report_int (Report     *r,
            const char *name,
            gint64      value)
{
  report_key (r, name);
  g_string_append_printf (r, "%" G_GINT64_FORMAT, value);
}

/* With 4 significant digits at least, 3 decimals at most. */
static void
report_double (Report     *r,
               const char *name,
               double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  double mag = fabs (value);
  const char *format = mag >= 1000 ? "%.0f" : mag >= 100 ? "%.1f" : mag >= 10 ? "%.2f" : "%.3f";

  report_key (r, name);
  g_string_append (r, g_ascii_formatd (buf, sizeof buf, format, value));
}

static Report *
report_begin (const char *scenario)
{
  Report *r = g_string_new ("{");

  report_string (r, "scenario", scenario);
  report_string (r, "client", "bayeux-glib");
  report_string (r, "server", opt_server ? opt_server : "none");
  report_string (r, "transport", opt_transport);
  return r;
}

static void
report_process (Report *r)
{
  report_int (r, "peak_rss_kib", proc_status ("VmHWM"));
  report_int (r, "rss_kib", proc_status ("VmRSS"));
  /* The process's own pages, not the shared libraries' (file-backed, and
   * shared with every other process that maps them). */
  report_int (r, "rss_anon_kib", proc_status ("RssAnon"));
  report_int (r, "threads", proc_status ("Threads"));
  report_double (r, "process_cpu_s", cpu_seconds ());
}

/* Prints the report; returns the exit status (1 when @error is set). */
static int
report_end (Report     *r,
            const char *error)
{
  if (error != NULL)
    report_string (r, "error", error);
  g_string_append_c (r, '}');
  printf ("%s\n", r->str);
  fflush (stdout);
  g_string_free (r, TRUE);
  return error != NULL;
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
wait_until (gboolean (*condition) (gpointer),
            gpointer  data,
            double    seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  /* Wakes the blocking iteration once a second for the deadline check. */
  guint tick = g_timeout_add_seconds (1, tick_cb, NULL);
  gboolean met;

  while (!(met = condition (data)) && g_get_monotonic_time () <= deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return met;
}

static guint client_errors;

static void
on_client_error (BayeuxClient  *client,
                 GError        *error,
                 BayeuxMessage *message,
                 gpointer       user_data)
{
  if (client_errors++ < 10)
    g_printerr ("bayeux-bench: client error: %s\n", error->message);
}

static BayeuxClient *
new_client (void)
{
  BayeuxClient *client = bayeux_client_new (opt_url);

  g_signal_connect (client, "error", G_CALLBACK (on_client_error), NULL);
  return client;
}

typedef struct {
  guint subscribed;
  guint failed;
} SubscribeCount;

static void
on_subscribed (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  SubscribeCount *count = user_data;
  g_autoptr(GError) error = NULL;

  if (bayeux_client_subscribe_finish (BAYEUX_CLIENT (source), result, &error))
    count->subscribed++;
  else
    {
      count->failed++;
      g_printerr ("bayeux-bench: subscribe failed: %s\n", error->message);
    }
}

/* Connected, with the long poll in flight. */
static gboolean
client_holds_poll (BayeuxClient *client)
{
  return bayeux_client_get_state (client) == BAYEUX_CLIENT_STATE_CONNECTED &&
         bayeux_client_get_requests_in_flight (client) >= 1;
}

/* ------------------------------------------------------------------------ */
/* 1, 2: ping-pong                                                          */

typedef struct {
  BayeuxClient *a, *b;
  char         *ping, *pong;
  int           sent;         /* round trips started, warm-up included */
  int           total;
  gint64        sent_at;
  GArray       *latencies;    /* gint64 µs, the timed ones */
  guint         requests;     /* HTTP requests the two clients made */
  guint         requests_start;
  GArray       *trace;        /* BENCH_TRACE: (latency, requests) per round trip */
  double        cpu_start, cpu_end;
  gint64        wall_start, wall_end;
  gboolean      done;
  SubscribeCount subs;
} PingPong;

static void
ping_send (PingPong *pp)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) data = NULL;

  if (pp->sent == opt_warmup)
    {
      CALLGRIND_TOGGLE_COLLECT;
      pp->requests_start = pp->requests;
      pp->cpu_start = cpu_seconds ();
      pp->wall_start = g_get_monotonic_time ();
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "seq");
  json_builder_add_int_value (b, pp->sent);
  json_builder_end_object (b);
  data = json_builder_get_root (b);
  pp->sent++;
  pp->sent_at = g_get_monotonic_time ();
  bayeux_client_publish (pp->a, pp->ping, data);
}

/* B: republish what arrives on /ping/X on /pong/X. */
static void
on_ping (BayeuxClient  *client,
         BayeuxMessage *message,
         gpointer       user_data)
{
  PingPong *pp = user_data;

  bayeux_client_publish (pp->b, pp->pong, bayeux_message_get_data (message));
}

/* A: the round trip is complete; start the next. */
static void
on_pong (BayeuxClient  *client,
         BayeuxMessage *message,
         gpointer       user_data)
{
  PingPong *pp = user_data;
  gint64 now = g_get_monotonic_time ();
  JsonNode *data = bayeux_message_get_data (message);
  gint64 seq = -1;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    seq = json_object_get_int_member_with_default (json_node_get_object (data), "seq", -1);
  if (seq != pp->sent - 1)
    {
      g_printerr ("bayeux-bench: pong %" G_GINT64_FORMAT " while waiting for %d\n", seq, pp->sent - 1);
      return;
    }

  if (pp->sent > opt_warmup)
    {
      gint64 latency = now - pp->sent_at;
      g_array_append_val (pp->latencies, latency);
      if (pp->trace != NULL)
        {
          gint64 entry[2] = { latency, pp->requests };
          g_array_append_vals (pp->trace, entry, 2);
        }
    }
  if (pp->sent < pp->total)
    ping_send (pp);
  else
    {
      pp->cpu_end = cpu_seconds ();
      pp->wall_end = now;
      pp->done = TRUE;
      CALLGRIND_TOGGLE_COLLECT;
    }
}

static void
on_request_queued (SoupSession *session,
                   SoupMessage *msg,
                   gpointer     user_data)
{
  ((PingPong *) user_data)->requests++;
}

static gboolean
pingpong_ready (gpointer data)
{
  PingPong *pp = data;

  return pp->subs.subscribed + pp->subs.failed == 2 &&
         client_holds_poll (pp->a) && client_holds_poll (pp->b);
}

static gboolean
pingpong_done (gpointer data)
{
  return ((PingPong *) data)->done;
}

static int
run_pingpong (void)
{
  Report *b = report_begin ("pingpong");
  PingPong pp = { 0 };
  g_autofree char *tag = g_strdup_printf ("%d-%08x", (int) getpid (), g_random_int ());
  g_autofree char *ping_signal = NULL, *pong_signal = NULL;
  guint n;
  gint64 *v;
  double sum = 0;

  pp.ping = g_strdup_printf ("/ping/%s", tag);
  pp.pong = g_strdup_printf ("/pong/%s", tag);
  pp.total = opt_warmup + opt_rounds;
  pp.latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), opt_rounds);
  pp.a = new_client ();
  pp.b = new_client ();
  ping_signal = g_strdup_printf ("message::%s", pp.ping);
  pong_signal = g_strdup_printf ("message::%s", pp.pong);
  g_signal_connect (pp.b, ping_signal, G_CALLBACK (on_ping), &pp);
  g_signal_connect (pp.a, pong_signal, G_CALLBACK (on_pong), &pp);
  g_signal_connect (bayeux_client_get_session (pp.a), "request-queued", G_CALLBACK (on_request_queued), &pp);
  g_signal_connect (bayeux_client_get_session (pp.b), "request-queued", G_CALLBACK (on_request_queued), &pp);
  if (g_getenv ("BENCH_TRACE") != NULL)
    pp.trace = g_array_new (FALSE, FALSE, sizeof (gint64));
  bayeux_client_subscribe_async (pp.b, pp.ping, NULL, on_subscribed, &pp.subs);
  bayeux_client_subscribe_async (pp.a, pp.pong, NULL, on_subscribed, &pp.subs);
  bayeux_client_start (pp.a);
  bayeux_client_start (pp.b);

  report_int (b, "rounds", opt_rounds);
  report_int (b, "warmup", opt_warmup);
  if (!wait_until (pingpong_ready, &pp, 20) || pp.subs.failed > 0)
    return report_end (b, "the clients did not connect and subscribe within 20 s");

  ping_send (&pp);
  if (!wait_until (pingpong_done, &pp, 60 + opt_rounds * 0.05))
    {
      g_autofree char *why = g_strdup_printf ("stuck after %d round trips", pp.sent);
      return report_end (b, why);
    }

  if (pp.trace != NULL)
    {
      gint64 *t = (gint64 *) pp.trace->data;

      /* latency (µs) and HTTP requests made during each round trip */
      for (guint i = 0; i < pp.trace->len; i += 2)
        g_printerr ("trace %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", t[i],
                    t[i + 1] - (i >= 2 ? t[i - 1] : (gint64) pp.requests_start));
    }

  n = pp.latencies->len;
  v = (gint64 *) pp.latencies->data;
  qsort (v, n, sizeof (gint64), compare_gint64);
  for (guint i = 0; i < n; i++)
    sum += v[i];

  report_int (b, "p50_us", percentile (v, n, 50));
  report_int (b, "p90_us", percentile (v, n, 90));
  report_int (b, "p99_us", percentile (v, n, 99));
  report_int (b, "max_us", n ? v[n - 1] : 0);
  report_double (b, "mean_us", n ? sum / n : 0);
  report_double (b, "wall_s", (pp.wall_end - pp.wall_start) / 1e6);
  report_double (b, "cpu_s", pp.cpu_end - pp.cpu_start);
  report_double (b, "cpu_us_per_rt", (pp.cpu_end - pp.cpu_start) * 1e6 / MAX (opt_rounds, 1));
  report_double (b, "http_requests_per_rt", (double) (pp.requests - pp.requests_start) / MAX (opt_rounds, 1));
  report_int (b, "errors", client_errors);
  report_process (b);

  if (opt_cdf != NULL)
    {
      FILE *f = fopen (opt_cdf, "w");

      if (f == NULL)
        g_printerr ("bayeux-bench: %s: %s\n", opt_cdf, g_strerror (errno));
      else
        {
          for (guint i = 0; i < n; i++)
            fprintf (f, "%" G_GINT64_FORMAT "\n", v[i]);
          fclose (f);
        }
    }

  g_object_unref (pp.a);
  g_object_unref (pp.b);
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */
/* 4: many clients                                                          */

typedef struct {
  GPtrArray     *clients;
  SubscribeCount subs;
  guint         *received;     /* per client */
  guint          received_total;
  guint          publish_next;
  guint          publish_outstanding;
  guint          publish_failed;
  char          *prefix;
} Many;

typedef struct {
  Many *many;
  guint index;
} ManyClient;

static void
on_many_message (BayeuxClient  *client,
                 BayeuxMessage *message,
                 gpointer       user_data)
{
  ManyClient *mc = user_data;

  if (mc->many->received[mc->index]++ == 0)
    mc->many->received_total++;
}

static gboolean
many_all_poll (gpointer data)
{
  Many *many = data;

  if (many->subs.subscribed + many->subs.failed < many->clients->len)
    return FALSE;
  for (guint i = 0; i < many->clients->len; i++)
    if (!client_holds_poll (g_ptr_array_index (many->clients, i)))
      return FALSE;
  return TRUE;
}

static gboolean
one_holds_poll (gpointer data)
{
  return client_holds_poll (data);
}

static gboolean
many_all_received (gpointer data)
{
  Many *many = data;

  return many->received_total == many->clients->len;
}

static void many_publish_more (Many *many, BayeuxClient *publisher);

typedef struct {
  Many         *many;
  BayeuxClient *publisher;
} PublishCtx;

static void
on_many_published (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PublishCtx *ctx = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(BayeuxMessage) reply = bayeux_client_publish_finish (BAYEUX_CLIENT (source), result, &error);

  ctx->many->publish_outstanding--;
  if (reply == NULL || !bayeux_message_get_successful (reply))
    ctx->many->publish_failed++;
  many_publish_more (ctx->many, ctx->publisher);
  g_free (ctx);
}

/* Publishes to each client's channel, at most 100 publishes outstanding
 * (the client's max-pending default is 1,000). */
static void
many_publish_more (Many         *many,
                   BayeuxClient *publisher)
{
  while (many->publish_next < many->clients->len && many->publish_outstanding < 100)
    {
      g_autofree char *channel = g_strdup_printf ("%s/%u", many->prefix, many->publish_next);
      PublishCtx *ctx = g_new0 (PublishCtx, 1);

      ctx->many = many;
      ctx->publisher = publisher;
      many->publish_next++;
      many->publish_outstanding++;
      bayeux_client_publish_async (publisher, channel, NULL, NULL, on_many_published, ctx);
    }
}

static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static int
run_many (void)
{
  Report *b = report_begin ("many");
  Many many = { 0 };
  g_autoptr(BayeuxClient) publisher = new_client ();
  g_autofree char *tag = g_strdup_printf ("%d-%08x", (int) getpid (), g_random_int ());
  guint k = MAX (opt_clients, 1);
  gint64 rss0, rss1, t0, t_connected, t_published, t_delivered;
  double cpu0, cpu1;
  guint held = 0;
  gboolean all;

  raise_fd_limit ();
  many.prefix = g_strdup_printf ("/many/%s", tag);
  many.clients = g_ptr_array_new_with_free_func (g_object_unref);
  many.received = g_new0 (guint, k);
  report_int (b, "clients", k);

  /* The publisher first: what every client shares (types, TLS backend,
   * the resolver…) is then in the baseline. */
  bayeux_client_start (publisher);
  if (!wait_until (one_holds_poll, publisher, 20))
    return report_end (b, "the publisher did not connect within 20 s");
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  rss0 = proc_status ("VmRSS");
  cpu0 = cpu_seconds ();

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < k; i++)
    {
      BayeuxClient *client = new_client ();
      g_autofree char *channel = g_strdup_printf ("%s/%u", many.prefix, i);
      g_autofree char *signal = g_strdup_printf ("message::%s", channel);
      ManyClient *mc = g_new0 (ManyClient, 1);

      mc->many = &many;
      mc->index = i;
      g_signal_connect_data (client, signal, G_CALLBACK (on_many_message), mc, (GClosureNotify) (void (*) (void)) g_free, 0);
      bayeux_client_subscribe_async (client, channel, NULL, on_subscribed, &many.subs);
      bayeux_client_start (client);
      g_ptr_array_add (many.clients, client);
    }
  all = wait_until (many_all_poll, &many, 30 + k * 0.05);
  t_connected = g_get_monotonic_time ();
  cpu1 = cpu_seconds ();
  for (guint i = 0; i < k; i++)
    held += client_holds_poll (g_ptr_array_index (many.clients, i));
  rss1 = proc_status ("VmRSS");

  report_double (b, "connect_all_ms", (t_connected - t0) / 1e3);
  report_double (b, "connect_cpu_s", cpu1 - cpu0);
  report_int (b, "subscribed", many.subs.subscribed);
  report_int (b, "holding_poll", held);
  report_int (b, "rss_before_kib", rss0);
  report_int (b, "rss_after_kib", rss1);
  report_double (b, "rss_per_client_kib", (double) (rss1 - rss0) / k);
  report_int (b, "open_fds", count_fds ());
  if (!all)
    {
      report_process (b);
      return report_end (b, "not every client connected, subscribed and held its long poll in time");
    }

  t_published = g_get_monotonic_time ();
  many_publish_more (&many, publisher);
  all = wait_until (many_all_received, &many, 30 + k * 0.02);
  t_delivered = g_get_monotonic_time ();
  /* Copies that come later (a duplicate) are counted in received[]. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  {
    guint dup = 0;

    for (guint i = 0; i < k; i++)
      dup += many.received[i] > 1;
    report_int (b, "received", many.received_total);
    report_int (b, "received_twice", dup);
  }
  report_int (b, "publish_failed", many.publish_failed);
  report_double (b, "deliver_all_ms", (t_delivered - t_published) / 1e3);
  report_int (b, "errors", client_errors);
  report_process (b);

  g_clear_pointer (&many.clients, g_ptr_array_unref);
  if (!all)
    return report_end (b, "not every client received the message published to it");
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */
/* 5: idle cost                                                             */

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

static int
run_idle (void)
{
  Report *b = report_begin ("idle");
  g_autoptr(BayeuxClient) client = new_client ();
  g_autofree char *channel = g_strdup_printf ("/idle/%d-%08x", (int) getpid (), g_random_int ());
  SubscribeCount subs = { 0 };
  CounterSource *counter;
  gboolean over = FALSE, settled = FALSE;
  gint64 t0, t1, vcs0, vcs1, main0, main1;
  guint64 it0, it1;
  double cpu0, cpu1, minutes;

  bayeux_client_subscribe_async (client, channel, NULL, on_subscribed, &subs);
  bayeux_client_start (client);
  if (!wait_until (one_holds_poll, client, 20) || subs.subscribed != 1)
    return report_end (b, "the client did not connect and subscribe within 20 s");

  /* Let the subscribe's connection and the first replies settle. */
  g_timeout_add (500, set_flag, &settled);
  wait_until (flag_is_set, &settled, 5);

  counter = counter_source_new ();
  g_timeout_add ((guint) (opt_idle * 1000), set_flag, &over);
  /* The CPU clock is read last before the idle period and first after it,
   * so that reading /proc costs nothing here. */
  vcs0 = voluntary_switches ();
  main0 = proc_status ("voluntary_ctxt_switches");
  it0 = counter->iterations;
  t0 = g_get_monotonic_time ();
  cpu0 = cpu_seconds ();
  while (!over)
    g_main_context_iteration (NULL, TRUE);
  cpu1 = cpu_seconds ();
  t1 = g_get_monotonic_time ();
  it1 = counter->iterations;
  main1 = proc_status ("voluntary_ctxt_switches");
  vcs1 = voluntary_switches ();
  minutes = (t1 - t0) / 60e6;

  /* The timeout that ends the idle period is one wake-up of ours: not
   * counted (peer-bench.js does the same for its timer). */
  it1 = it1 > it0 ? it1 - 1 : it1;
  vcs1 = vcs1 > vcs0 ? vcs1 - 1 : vcs1;
  main1 = main1 > main0 ? main1 - 1 : main1;
  report_double (b, "idle_s", (t1 - t0) / 1e6);
  report_double (b, "cpu_ms", (cpu1 - cpu0) * 1e3);
  report_double (b, "cpu_ms_per_min", (cpu1 - cpu0) * 1e3 / minutes);
  report_int (b, "wakeups", vcs1 - vcs0);
  report_double (b, "wakeups_per_min", (vcs1 - vcs0) / minutes);
  report_int (b, "main_thread_wakeups", main1 - main0);
  report_int (b, "loop_iterations", (gint64) (it1 - it0));
  report_double (b, "loop_iterations_per_min", (it1 - it0) / minutes);
  report_int (b, "still_holding_poll", client_holds_poll (client));
  report_int (b, "errors", client_errors);
  report_process (b);
  g_source_destroy ((GSource *) counter);
  g_source_unref ((GSource *) counter);
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */
/* 6: parse path                                                            */

static guint64 parse_handled;

static void
on_parse_message (BayeuxClient  *client,
                  BayeuxMessage *message,
                  gpointer       user_data)
{
  parse_handled++;
}

/* What the client does with a response body (on_request_done() and
 * dispatch() in bayeux-client.c), less the reply matching: parse, wrap
 * each element, validate its channel, look its candidates up among the
 * subscriptions and emit ::message with the matching one as detail. */
static guint
incoming_path (const char   *body,
               gsize         len,
               GHashTable   *subscriptions,
               BayeuxClient *emitter,
               guint         signal_id,
               int           depth)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) messages = bayeux_parse_messages (body, len, &error);
  guint n;

  if (messages == NULL)
    g_error ("parse: %s", error->message);
  n = json_array_get_length (messages);
  if (depth == 0)
    return n;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BayeuxMessage) message = bayeux_message_new_parsed (json_array_get_element (messages, i), &error);
      g_autoptr(GPtrArray) candidates = NULL;
      const char *channel;

      if (message == NULL)
        g_error ("message: %s", error->message);
      if (depth == 1)
        continue;
      channel = bayeux_message_get_channel (message);
      if (bayeux_message_has_successful (message) ||
          !bayeux_channel_validate (channel, BAYEUX_CHANNEL_NONE, NULL))
        g_error ("unexpected message");
      candidates = bayeux_channel_candidates (channel);
      for (guint c = 0; c < candidates->len; c++)
        {
          const char *pattern = g_ptr_array_index (candidates, c);

          if (g_hash_table_contains (subscriptions, pattern) && depth >= 3)
            g_signal_emit (emitter, signal_id, g_quark_from_string (pattern), message);
        }
    }
  return n;
}

static double
parse_rate (const char   *body,
            gsize         len,
            GHashTable   *subscriptions,
            BayeuxClient *emitter,
            guint         signal_id,
            int           depth)
{
  gint64 t0 = g_get_monotonic_time (), deadline = t0 + (gint64) (opt_parse_seconds * G_USEC_PER_SEC), t1;
  guint64 messages = 0;

  /* A few rounds untimed, then until the deadline. */
  for (int i = 0; i < 10; i++)
    incoming_path (body, len, subscriptions, emitter, signal_id, depth);
  t0 = g_get_monotonic_time ();
  do
    {
      for (int i = 0; i < 20; i++)
        messages += incoming_path (body, len, subscriptions, emitter, signal_id, depth);
      t1 = g_get_monotonic_time ();
    }
  while (t1 < deadline);
  return messages / ((t1 - t0) / 1e6);
}

static int
run_parse (void)
{
  Report *b = report_begin ("parse");
  g_autoptr(GHashTable) subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(BayeuxClient) emitter = bayeux_client_new ("http://127.0.0.1:9/bench");
  g_autoptr(GString) body = g_string_new ("[");
  guint nsubs = MAX (opt_subscriptions, 1), batch = MAX (opt_batch, 1);
  guint signal_id = g_signal_lookup ("message", BAYEUX_TYPE_CLIENT);
  gulong handler;
  double parse_only, wrap, lookup, one_handler, all_handlers;

  for (guint i = 0; i < nsubs; i++)
    g_hash_table_add (subscriptions, g_strdup_printf ("/bench/sub/%u", i));
  /* A long-poll response as a server sends it: deliveries on channels
   * spread over the subscriptions, and the /meta/connect reply last. */
  for (guint i = 0; i < batch; i++)
    g_string_append_printf (body,
                            "%s{\"channel\":\"/bench/sub/%u\",\"data\":{\"seq\":%u,\"text\":\"hello, world\"},"
                            "\"id\":\"%u\"}",
                            i ? "," : "", (i * 7919) % nsubs, i, 1000 + i);
  g_string_append (body, "]");

  parse_only = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 0);
  wrap = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 1);
  lookup = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 2);

  /* One handler for every message (an application that connects the
   * undetailed signal). */
  handler = g_signal_connect (emitter, "message", G_CALLBACK (on_parse_message), NULL);
  one_handler = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 3);
  g_signal_handler_disconnect (emitter, handler);

  /* One detailed handler per subscription, as the API's documentation
   * shows ("message::/chat/demo"). */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, subscriptions);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      {
        g_autofree char *signal = g_strdup_printf ("message::%s", (char *) key);
        g_signal_connect (emitter, signal, G_CALLBACK (on_parse_message), NULL);
      }
  }
  parse_handled = 0;
  all_handlers = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 3);

  report_int (b, "batch", batch);
  report_int (b, "body_bytes", body->len);
  report_int (b, "subscriptions", nsubs);
  report_double (b, "msgs_per_s_parse_only", parse_only);
  report_double (b, "msgs_per_s_parse_wrap", wrap);
  report_double (b, "msgs_per_s_parse_wrap_lookup", lookup);
  report_double (b, "msgs_per_s_one_handler", one_handler);
  report_double (b, "msgs_per_s", all_handlers);
  report_double (b, "us_per_batch", batch * 1e6 / all_handlers);
  report_double (b, "mb_per_s", all_handlers / batch * body->len / 1e6);
  report_string (b, "method", "bayeux_parse_messages, bayeux_message_new_parsed, bayeux_channel_validate, "
                              "bayeux_channel_candidates + hash lookups, g_signal_emit with the detail; "
                              "msgs_per_s with one detailed handler per subscription");
  report_process (b);
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */
/* 7: libsoup's floor                                                       */

typedef struct {
  SoupSession *session;
  GBytes      *payload;
  int          sent, total, warmup;
  gint64       sent_at;
  GArray      *latencies;
  double       cpu_start, cpu_end;
  gboolean     done;
  char        *error;
} Floor;

static void floor_send (Floor *fl);

static void
on_floor_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Floor *fl = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  gint64 latency = g_get_monotonic_time () - fl->sent_at;

  if (body == NULL)
    {
      fl->error = g_strdup (error->message);
      fl->done = TRUE;
      return;
    }
  if (fl->sent > fl->warmup)
    g_array_append_val (fl->latencies, latency);
  if (fl->sent < fl->total)
    floor_send (fl);
  else
    {
      fl->cpu_end = cpu_seconds ();
      fl->done = TRUE;
      CALLGRIND_TOGGLE_COLLECT;
    }
}

static void
floor_send (Floor *fl)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", opt_url);

  if (fl->sent == fl->warmup)
    {
      CALLGRIND_TOGGLE_COLLECT;
      fl->cpu_start = cpu_seconds ();
    }
  /* As the Bayeux transport does: a POST may reuse a kept-alive
   * connection only when flagged idempotent. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  soup_message_set_request_body_from_bytes (msg, "application/json;charset=UTF-8", fl->payload);
  fl->sent++;
  fl->sent_at = g_get_monotonic_time ();
  soup_session_send_and_read_async (fl->session, msg, G_PRIORITY_DEFAULT, NULL, on_floor_done, fl);
}

static gboolean
floor_done (gpointer data)
{
  return ((Floor *) data)->done;
}

static int
run_soup (void)
{
  Report *b = report_begin ("soup");
  static const char payload[] =
    "[{\"channel\":\"/ping/1234-abcdef01\",\"data\":{\"seq\":1},\"id\":\"12\",\"clientId\":\"0123456789abcdef0123\"}]";
  Floor fl = { 0 };
  guint n;
  gint64 *v;

  fl.session = soup_session_new ();
  fl.payload = g_bytes_new_static (payload, sizeof payload - 1);
  fl.warmup = MAX (opt_warmup, 1);
  fl.total = fl.warmup + (opt_exchanges > 0 ? opt_exchanges : 4 * opt_rounds);
  fl.latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  floor_send (&fl);
  if (!wait_until (floor_done, &fl, 120) || fl.error != NULL)
    return report_end (b, fl.error ? fl.error : "stuck");

  n = fl.latencies->len;
  v = (gint64 *) fl.latencies->data;
  qsort (v, n, sizeof (gint64), compare_gint64);
  report_int (b, "exchanges", n);
  report_int (b, "p50_us", percentile (v, n, 50));
  report_int (b, "p99_us", percentile (v, n, 99));
  report_double (b, "cpu_s", fl.cpu_end - fl.cpu_start);
  report_double (b, "cpu_us_per_exchange", (fl.cpu_end - fl.cpu_start) * 1e6 / MAX (n, 1));
  report_int (b, "open_fds", count_fds ());
  report_process (b);
  g_object_unref (fl.session);
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- bayeux-glib's side of the bench suite");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "One scenario per run; prints one JSON object on stdout. See bench/README.md.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bayeux-bench: %s\n", error->message);
      return 2;
    }
  if (opt_transport == NULL)
    opt_transport = g_strdup ("long-polling");
  if (!g_str_equal (opt_transport, "long-polling"))
    {
      g_printerr ("bayeux-bench: transport %s: only long-polling exists so far\n", opt_transport);
      return 2;
    }
  if (opt_scenario == NULL)
    {
      g_printerr ("bayeux-bench: --scenario is required\n");
      return 2;
    }
  if (opt_url == NULL && !g_str_equal (opt_scenario, "parse"))
    {
      g_printerr ("bayeux-bench: --url is required\n");
      return 2;
    }

  if (g_str_equal (opt_scenario, "pingpong"))
    return run_pingpong ();
  if (g_str_equal (opt_scenario, "many"))
    return run_many ();
  if (g_str_equal (opt_scenario, "idle"))
    return run_idle ();
  if (g_str_equal (opt_scenario, "parse"))
    return run_parse ();
  if (g_str_equal (opt_scenario, "soup"))
    return run_soup ();
  g_printerr ("bayeux-bench: unknown scenario %s\n", opt_scenario);
  return 2;
}
