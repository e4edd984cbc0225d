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
 *             body → bayeux_elements_split, bayeux_elements_parse of each
 *             element → bayeux_message_new_parsed →
 *             channel validation, candidates, lookups against 10,000
 *             subscriptions → BayeuxClient::message; messages per second.
 *   soup      (7) libsoup's floor: EXCHANGES sequential keep-alive POSTs
 *             from one default SoupSession; CPU per exchange.
 *   fanout    (3) the fan-out driver: runs the subscriber process given
 *             after `--` (ours: `bayeux-bench --scenario fanout-subscribe`,
 *             or peer-bench.js's), publishes on one channel at offered
 *             rates in steps (--fanout-rates, publishes a second) with a
 *             lean long-polling publisher of its own (raw libsoup, batched
 *             POSTs), and per step samples the messages the subscriber
 *             process got, its CPU, the server's (--server-pid, /proc), its
 *             own, and the pinned cores' busy time (/proc/stat); stops
 *             after the first step the subscribers cannot keep up with.
 *             The record it prints is the subscriber process's (its
 *             client's name).
 *   fanout-subscribe  the measured side of (3): SUBSCRIBERS clients in this
 *             process subscribed to --channel; talks to the driver on
 *             stdin/stdout (READY, COUNT, QUIT: see run_fanout_subscribe).
 *
 * BENCH_TRACE=1 in the environment makes the ping-pong print, on stderr, a
 * line `trace <latency µs> <HTTP requests>` per timed round trip.
 *
 * --transport websocket|long-polling (long-polling by default) sets the
 * clients' `transports` property to that one name when BayeuxClient has
 * that property; every record says which transport actually ran
 * (`transport_used`, the `transport` property once connected). Without
 * the property only long-polling exists: --transport websocket then prints
 * a record with `not_available` and exits with status 77 (run.sh reports
 * the rows as not available, not as failed).
 */
#include <bayeux-glib/bayeux-glib.h>
#include "bayeux-channel-private.h"
#include "bayeux-client-private.h"
#include "bayeux-subscriptions-private.h"
#include "bayeux-message-private.h"
#include "bayeux-json-private.h"

#include <glib-unix.h>

#include <dlfcn.h>
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
static gboolean opt_count_allocations = FALSE;
static int      opt_exchanges = 0;
static char    *opt_cdf;
static char    *opt_channel;
static int      opt_subscribers = 10;
static int      opt_server_pid = 0;
static char    *opt_fanout_rates;
#define DEFAULT_FANOUT_RATES "100,1000,3000,6000,10000,13000,16000,20000,25000,30000,36000,43000,50000,60000,70000,80000"
static double   opt_step_seconds = 3;
static double   opt_settle_seconds = -1;
static double   opt_drain_seconds = 30;
static int      opt_window = 5000;
static double   opt_fanout_warmup = 2;
static char   **opt_command;

static GOptionEntry entries[] = {
  { "scenario", 's', 0, G_OPTION_ARG_STRING, &opt_scenario,
    "pingpong, many, idle, parse, soup, fanout or fanout-subscribe", "NAME" },
  { "url", 'u', 0, G_OPTION_ARG_STRING, &opt_url, "The server's URL (the trivial HTTP server's for soup)", "URL" },
  { "server", 0, 0, G_OPTION_ARG_STRING, &opt_server, "The server's name, for the report", "NAME" },
  { "transport", 0, 0, G_OPTION_ARG_STRING, &opt_transport,
    "websocket or long-polling (the default): the clients' transports, when BayeuxClient has that property", "NAME" },
  { "rounds", 'n', 0, G_OPTION_ARG_INT, &opt_rounds, "pingpong: timed round trips (2000)", "N" },
  { "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup, "pingpong, soup: untimed round trips first (200)", "N" },
  { "clients", 'k', 0, G_OPTION_ARG_INT, &opt_clients, "many: clients (1000)", "K" },
  { "idle", 0, 0, G_OPTION_ARG_DOUBLE, &opt_idle, "idle: seconds (60)", "S" },
  { "subscriptions", 0, 0, G_OPTION_ARG_INT, &opt_subscriptions, "parse: subscriptions (10000)", "N" },
  { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "parse: messages per response (100)", "N" },
  { "parse-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_parse_seconds, "parse: seconds per variant (2)", "S" },
  { "count-allocations", 0, 0, G_OPTION_ARG_NONE, &opt_count_allocations,
    "parse: count allocations per message instead of timing (under bench/alloc-count.c's LD_PRELOAD)", NULL },
  { "exchanges", 0, 0, G_OPTION_ARG_INT, &opt_exchanges, "soup: timed POSTs (4 × rounds)", "N" },
  { "cdf", 0, 0, G_OPTION_ARG_FILENAME, &opt_cdf, "pingpong: write the sorted latencies (µs) there", "FILE" },
  { "channel", 0, 0, G_OPTION_ARG_STRING, &opt_channel, "fanout-subscribe: the channel (the driver adds it)", "CHANNEL" },
  { "subscribers", 0, 0, G_OPTION_ARG_INT, &opt_subscribers, "fanout-subscribe: clients in this process (10)", "N" },
  { "server-pid", 0, 0, G_OPTION_ARG_INT, &opt_server_pid, "fanout: the server's process, for its CPU (/proc)", "PID" },
  { "fanout-rates", 0, 0, G_OPTION_ARG_STRING, &opt_fanout_rates,
    "fanout: offered publish rates, a second, one step each (" DEFAULT_FANOUT_RATES ")", "LIST" },
  { "step-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_step_seconds, "fanout: seconds per step (3)", "S" },
  { "settle-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_settle_seconds,
    "fanout: seconds of each step before the measured window (a quarter of the step, at most 1)", "S" },
  { "drain-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_drain_seconds,
    "fanout: how long to wait for the last messages after the last step (30)", "S" },
  { "window", 0, 0, G_OPTION_ARG_INT, &opt_window, "fanout: most publishes queued or not yet answered (5000)", "N" },
  { "fanout-warmup", 0, 0, G_OPTION_ARG_DOUBLE, &opt_fanout_warmup,
    "fanout: seconds at 1,000 publishes a second first, not measured (2)", "S" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_command,
    "fanout: the subscriber process's command", "-- COMMAND…" },
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

/* @json as it is (an object or array already written). */
static void
report_raw (Report     *r,
            const char *name,
            const char *json)
{
  report_key (r, name);
  g_string_append (r, json);
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

/* BayeuxClient:transports (a string array: "websocket", "long-polling"),
 * when the library has it; NULL before. */
static GParamSpec *transports_pspec;

/* A client that uses @transport alone, when the library lets us say so
 * (without the transports property it can only be long-polling). Made
 * with g_object_new so that a construct-only property works too. */
static BayeuxClient *
new_client_for (const char *url,
                const char *transport)
{
  BayeuxClient *client;

  if (transports_pspec != NULL)
    {
      const char *names[] = { transport, NULL };

      client = g_object_new (BAYEUX_TYPE_CLIENT, "url", url, "transports", names, NULL);
    }
  else
    client = bayeux_client_new (url);
  g_signal_connect (client, "error", G_CALLBACK (on_client_error), NULL);
  return client;
}

static BayeuxClient *
new_client (void)
{
  return new_client_for (opt_url, opt_transport);
}

/* The transport in use (the `transport` property), or NULL. */
static char *
transport_in_use (BayeuxClient *client)
{
  char *name = NULL;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (client), "transport") != NULL)
    g_object_get (client, "transport", &name, NULL);
  return name;
}

/* Records the transport @client runs on as `transport_used` (when @r is
 * not NULL); FALSE (with @why set) when it is not the one asked for, so
 * that a row can never be labelled with a transport that did not run. */
static gboolean
check_transport (Report       *r,
                 BayeuxClient *client,
                 const char   *wanted,
                 char        **why)
{
  g_autofree char *used = transport_in_use (client);

  if (r != NULL)
    report_string (r, "transport_used", used ? used : "unknown");
  if (used != NULL && !g_str_equal (used, wanted))
    {
      *why = g_strdup_printf ("asked for %s, the client runs on %s", wanted, used);
      return FALSE;
    }
  return TRUE;
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

/* Connected, with the long poll in flight. On WebSocket the held
 * /meta/connect is a message on the socket, which the library may not
 * count as a request in flight: connected is all we can ask. */
static gboolean
client_holds_poll (BayeuxClient *client)
{
  return bayeux_client_get_state (client) == BAYEUX_CLIENT_STATE_CONNECTED &&
         (bayeux_client_get_requests_in_flight (client) >= 1 || !g_str_equal (opt_transport, "long-polling"));
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
  {
    g_autofree char *why = NULL;

    if (!check_transport (b, pp.a, opt_transport, &why) || !check_transport (NULL, pp.b, opt_transport, &why))
      return report_end (b, why);
  }

  ping_send (&pp);
  if (!wait_until (pingpong_done, &pp, 60 + opt_rounds * 0.05))
    {
      g_autofree char *why = g_strdup_printf ("stuck after %d round trips", pp.sent);
      return report_end (b, why);
    }

  if (pp.trace != NULL)
    {
      /* through (void *) as g_array_index() does: a GArray's storage comes
       * from g_malloc(), aligned for any type (clang: -Wcast-align) */
      gint64 *t = (gint64 *) (void *) pp.trace->data;

      /* latency (µs) and HTTP requests made during each round trip */
      for (guint i = 0; i < pp.trace->len; i += 2)
        g_printerr ("trace %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", t[i],
                    t[i + 1] - (i >= 2 ? t[i - 1] : (gint64) pp.requests_start));
    }

  n = pp.latencies->len;
  v = (gint64 *) (void *) pp.latencies->data;
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

  {
    g_autofree char *why = NULL;

    if (!check_transport (b, g_ptr_array_index (many.clients, 0), opt_transport, &why))
      return report_end (b, why);
  }
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
  {
    g_autofree char *why = NULL;

    if (!check_transport (b, client, opt_transport, &why))
      return report_end (b, why);
  }

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

/* What a handler does with a message: reads a member of its data. */
static void
on_parse_message (BayeuxClient  *client,
                  BayeuxMessage *message,
                  gpointer       user_data)
{
  JsonNode *data = bayeux_message_get_data (message);

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data) &&
      json_object_get_int_member_with_default (json_node_get_object (data), "seq", -1) >= 0)
    parse_handled++;
}

static guint parse_signal_id;

static void
emit_detailed (BayeuxClient  *client,
               const char    *pattern,
               GQuark         detail,
               BayeuxMessage *message)
{
  g_signal_emit (client, parse_signal_id, detail, message);
}

static void
emit_nothing (BayeuxClient  *client,
              const char    *pattern,
              GQuark         detail,
              BayeuxMessage *message)
{
}

/* What the client does with a response body (the inbox room, then
 * handle_incoming() and dispatch() in bayeux-client.c), less the reply
 * matching and the slicing: split the body into its elements, parse and
 * wrap each, validate its channel, look its candidates up among the
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
  g_autoptr(GBytes) bytes = g_bytes_new_static (body, len);
  g_autoptr(BayeuxElements) elements = bayeux_elements_split (bytes, &error);
  guint n;

  if (elements == NULL)
    g_error ("split: %s", error->message);
  n = bayeux_elements_get_length (elements);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(JsonNode) element = NULL;
      g_autoptr(BayeuxMessage) message = NULL;
      const char *channel;
      BayeuxSpan text;

      /* As the inbox does: the envelope read from the text, or else the
       * element parsed. */
      bayeux_elements_get_span (elements, i, &text);
      message = bayeux_message_new_scanned (&text);
      if (message == NULL)
        {
          element = bayeux_elements_parse (elements, i, &error);
          if (element == NULL)
            g_error ("parse: %s", error->message);
        }
      if (depth == 0)
        continue;
      if (message == NULL)
        message = bayeux_message_new_parsed (element, &error);
      if (message == NULL)
        g_error ("message: %s", error->message);
      if (depth == 1)
        continue;
      channel = bayeux_message_get_channel (message);
      if (bayeux_message_has_successful (message) ||
          !bayeux_channel_validate (channel, BAYEUX_CHANNEL_ALLOW_FILTER, NULL))
        g_error ("unexpected message");
      /* The client's own dispatch (its subscriptions room), with the
       * emission of the variant. */
      bayeux_subscriptions_dispatch (bayeux_client_peek_subscriptions (emitter), emitter, message,
                                     depth == 3 ? emit_detailed : emit_nothing);
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

/* Allocations per message of a variant, counted by the preloaded
 * bench_alloc_count() (bench/alloc-count.c) over 50 batches. */
static double
parse_allocations (unsigned long (*counter) (void),
                   const char    *body,
                   gsize          len,
                   GHashTable    *subscriptions,
                   BayeuxClient  *emitter,
                   guint          signal_id,
                   int            depth)
{
  guint64 messages = 0;
  unsigned long before;

  for (int i = 0; i < 5; i++)
    incoming_path (body, len, subscriptions, emitter, signal_id, depth);
  before = counter ();
  for (int i = 0; i < 50; i++)
    messages += incoming_path (body, len, subscriptions, emitter, signal_id, depth);
  return (double) (counter () - before) / (double) messages;
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
  double parse_only, wrap, lookup, one_handler, all_handlers, listeners;

  parse_signal_id = signal_id;
  for (guint i = 0; i < nsubs; i++)
    {
      char *channel = g_strdup_printf ("/bench/sub/%u", i);

      g_hash_table_add (subscriptions, channel);
      /* The client's table, as subscribe() makes it (no server here). */
      bayeux_subscriptions_add (bayeux_client_peek_subscriptions (emitter), channel);
    }
  /* A long-poll response as a server sends it: deliveries on channels
   * spread over the subscriptions. */
  for (guint i = 0; i < batch; i++)
    g_string_append_printf (body,
                            "%s{\"channel\":\"/bench/sub/%u\",\"data\":{\"seq\":%u,\"text\":\"hello, world\"},"
                            "\"id\":\"%u\"}",
                            i ? "," : "", (i * 7919) % nsubs, i, 1000 + i);
  g_string_append (body, "]");

  if (opt_count_allocations)
    {
      unsigned long (*counter) (void) = (unsigned long (*) (void)) dlsym (RTLD_DEFAULT, "bench_alloc_count");
      Report *a = report_begin ("allocs");
      gulong one;

      if (counter == NULL)
        {
          g_printerr ("bayeux-bench: --count-allocations needs LD_PRELOAD=…/libbench-alloc.so\n");
          return 2;
        }
      report_int (a, "batch", batch);
      report_double (a, "allocs_per_msg_parse_only",
                     parse_allocations (counter, body->str, body->len, subscriptions, emitter, signal_id, 0));
      report_double (a, "allocs_per_msg_parse_wrap_lookup",
                     parse_allocations (counter, body->str, body->len, subscriptions, emitter, signal_id, 2));
      one = g_signal_connect (emitter, "message", G_CALLBACK (on_parse_message), NULL);
      report_double (a, "allocs_per_msg_one_handler",
                     parse_allocations (counter, body->str, body->len, subscriptions, emitter, signal_id, 3));
      g_signal_handler_disconnect (emitter, one);
      report_string (a, "method", "bench/alloc-count.c preloaded, G_SLICE=always-malloc: calls to malloc, calloc, "
                                  "realloc and memalign per message of the parse scenario's path (split, envelope or "
                                  "parse, wrap, validate, dispatch; one_handler: a ::message handler that reads "
                                  "data.seq), over 50 batches of 100");
      return report_end (a, NULL);
    }

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
  g_signal_handlers_disconnect_by_func (emitter, on_parse_message, NULL);

  /* One listener per subscription (bayeux_client_add_listener), the way
   * for many subscriptions: found by hash lookup. */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, subscriptions);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      bayeux_client_add_listener (emitter, key, on_parse_message, NULL, NULL);
  }
  parse_handled = 0;
  listeners = parse_rate (body->str, body->len, subscriptions, emitter, signal_id, 4);
  if (parse_handled == 0)
    g_error ("parse: the listeners were not called");

  report_int (b, "batch", batch);
  report_int (b, "body_bytes", body->len);
  report_int (b, "subscriptions", nsubs);
  report_double (b, "msgs_per_s_parse_only", parse_only);
  report_double (b, "msgs_per_s_parse_wrap", wrap);
  report_double (b, "msgs_per_s_parse_wrap_lookup", lookup);
  report_double (b, "msgs_per_s_one_handler", one_handler);
  report_double (b, "msgs_per_s", all_handlers);
  report_double (b, "msgs_per_s_listeners", listeners);
  report_double (b, "us_per_batch", batch * 1e6 / all_handlers);
  report_double (b, "mb_per_s", all_handlers / batch * body->len / 1e6);
  report_string (b, "method", "bayeux_elements_split, bayeux_message_new_scanned (bayeux_elements_parse and bayeux_message_new_parsed "
                              "of an element it leaves), bayeux_channel_validate, bayeux_subscriptions_dispatch (the client's), "
                              "g_signal_emit with the detail, the handler reading data.seq; "
                              "msgs_per_s with one detailed handler per subscription; msgs_per_s_listeners with one "
                              "bayeux_client_add_listener listener per subscription instead");
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
  v = (gint64 *) (void *) fl.latencies->data;
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
/* 3: fan-out, the measured side                                            */

/* SUBSCRIBERS clients in this process, each subscribed to --channel with a
 * detailed message handler; the driver (run_fanout) publishes. This
 * process talks to it on stdin and stdout, a line each way:
 *
 *   → READY <pid> <client> <transport in use> <subscribers>
 *                                    once all are subscribed and connected
 *   ← COUNT                          the driver asks for a sample
 *   → COUNT <delivered> <monotonic µs> <CPU µs> <latency max µs>
 *           <latency sum µs> <latency count> <HTTP requests>
 *                                    messages received so far by all the
 *                                    clients, this process's CPU (user +
 *                                    system, getrusage), and the latency
 *                                    (now − the publisher's `t`, the same
 *                                    monotonic clock) since the last COUNT
 *   ← QUIT                           → one JSON object (the process's
 *                                    figures), then exit
 *
 * peer-bench.js --scenario fanout-subscribe speaks the same. */

typedef struct {
  GPtrArray     *clients;
  SubscribeCount subs;
  guint64        delivered;
  guint64        out_of_order;
  gint64         lat_max, lat_sum, lat_n;
  guint64        requests;
  GString       *input;
  gboolean       quit, eof;
} FanSub;

typedef struct {
  FanSub *fs;
  gint64  last_seq;
} FanSubClient;

static void
on_fanout_message (BayeuxClient  *client,
                   BayeuxMessage *message,
                   gpointer       user_data)
{
  FanSubClient *fc = user_data;
  FanSub *fs = fc->fs;
  JsonNode *data = bayeux_message_get_data (message);
  gint64 seq = -1, t = 0;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      JsonObject *o = json_node_get_object (data);

      seq = json_object_get_int_member_with_default (o, "seq", -1);
      t = json_object_get_int_member_with_default (o, "t", 0);
    }
  fs->delivered++;
  if (seq <= fc->last_seq)
    fs->out_of_order++;
  fc->last_seq = seq;
  if (t > 0)
    {
      gint64 latency = g_get_monotonic_time () - t;

      fs->lat_max = MAX (fs->lat_max, latency);
      fs->lat_sum += latency;
      fs->lat_n++;
    }
}

static void
on_fanout_request_queued (SoupSession *session,
                          SoupMessage *msg,
                          gpointer     user_data)
{
  ((FanSub *) user_data)->requests++;
}

static gboolean
fansub_ready (gpointer data)
{
  FanSub *fs = data;

  if (fs->eof)
    return TRUE;
  if (fs->subs.subscribed + fs->subs.failed < fs->clients->len)
    return FALSE;
  for (guint i = 0; i < fs->clients->len; i++)
    if (!client_holds_poll (g_ptr_array_index (fs->clients, i)))
      return FALSE;
  return TRUE;
}

static void
fansub_command (FanSub     *fs,
                const char *line)
{
  if (g_str_equal (line, "COUNT"))
    {
      double cpu = cpu_seconds ();

      printf ("COUNT %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %.0f %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
              " %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
              fs->delivered, g_get_monotonic_time (), cpu * 1e6, fs->lat_max, fs->lat_sum, fs->lat_n, fs->requests);
      fflush (stdout);
      fs->lat_max = fs->lat_sum = fs->lat_n = 0;
    }
  else if (g_str_equal (line, "QUIT"))
    fs->quit = TRUE;
  else
    g_printerr ("bayeux-bench: fanout-subscribe: unknown command %s\n", line);
}

static gboolean
on_fansub_stdin (gint         fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  FanSub *fs = user_data;
  char buf[256];
  gssize n = read (fd, buf, sizeof buf);
  char *nl;

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      fs->eof = TRUE;
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (fs->input, buf, n);
  while ((nl = memchr (fs->input->str, '\n', fs->input->len)) != NULL)
    {
      g_autofree char *line = g_strndup (fs->input->str, nl - fs->input->str);

      g_string_erase (fs->input, 0, nl - fs->input->str + 1);
      fansub_command (fs, g_strstrip (line));
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
fansub_over (gpointer data)
{
  FanSub *fs = data;

  return fs->quit || fs->eof;
}

static int
run_fanout_subscribe (void)
{
  Report *b = report_begin ("fanout-subscriber");
  FanSub fs = { 0 };
  guint n = MAX (opt_subscribers, 1);
  g_autofree char *signal = NULL;
  g_autofree char *used = NULL;
  g_autofree char *why = NULL;
  guint watch;

  if (opt_channel == NULL)
    return report_end (b, "--channel is required");
  fs.clients = g_ptr_array_new_with_free_func (g_object_unref);
  fs.input = g_string_new (NULL);
  signal = g_strdup_printf ("message::%s", opt_channel);
  report_int (b, "subscribers", n);
  for (guint i = 0; i < n; i++)
    {
      BayeuxClient *client = new_client ();
      FanSubClient *fc = g_new0 (FanSubClient, 1);

      fc->fs = &fs;
      fc->last_seq = -1;
      g_signal_connect_data (client, signal, G_CALLBACK (on_fanout_message), fc,
                             (GClosureNotify) (void (*) (void)) g_free, 0);
      g_signal_connect (bayeux_client_get_session (client), "request-queued",
                        G_CALLBACK (on_fanout_request_queued), &fs);
      /* A subscriber that falls behind gets the server's backlog in one
       * long-poll reply, larger than the default max-message-size (1 MiB)
       * past a few seconds of it: the client would refuse it, and the
       * messages in it with it. The peers' clients have no such limit. */
      bayeux_client_set_max_message_size (client, 64 * 1024 * 1024);
      bayeux_client_subscribe_async (client, opt_channel, NULL, on_subscribed, &fs.subs);
      bayeux_client_start (client);
      g_ptr_array_add (fs.clients, client);
    }
  /* stdin: the driver's commands; its end (the driver gone) ends us. */
  g_unix_set_fd_nonblocking (0, TRUE, NULL);
  watch = g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_fansub_stdin, &fs);

  if (!wait_until (fansub_ready, &fs, 30) || fs.eof || fs.subs.failed > 0)
    return report_end (b, "the subscribers did not connect and subscribe within 30 s");
  for (guint i = 0; i < n; i++)
    if (!check_transport (i == 0 ? b : NULL, g_ptr_array_index (fs.clients, i), opt_transport, &why))
      return report_end (b, why);
  used = transport_in_use (g_ptr_array_index (fs.clients, 0));

  printf ("READY %d bayeux-glib %s %u\n", (int) getpid (), used ? used : opt_transport, n);
  fflush (stdout);
  while (!fansub_over (&fs))
    g_main_context_iteration (NULL, TRUE);

  report_int (b, "delivered", fs.delivered);
  report_int (b, "out_of_order", fs.out_of_order);
  report_int (b, "http_requests", fs.requests);
  report_int (b, "errors", client_errors);
  report_process (b);
  if (fs.eof && !fs.quit)
    return report_end (b, "the driver went away");
  g_source_remove (watch);
  g_clear_pointer (&fs.clients, g_ptr_array_unref);
  g_string_free (fs.input, TRUE);
  return report_end (b, NULL);
}

/* ------------------------------------------------------------------------ */
/* 3: fan-out, the driver                                                   */

/* CPU seconds (user + system) of process @pid, all its threads, from
 * /proc/PID/stat (clock ticks); -1 when it cannot be read. */
static double
proc_cpu_seconds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  char *p;
  guint64 utime, stime;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return -1;
  /* After the command's closing parenthesis: fields 3 (state) and on;
   * utime and stime are fields 14 and 15. */
  if (sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &utime, &stime) != 2)
    return -1;
  return (double) (utime + stime) / sysconf (_SC_CLK_TCK);
}

/* The one CPU process @pid may run on (taskset), or -1. */
static int
pinned_cpu (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;
  char *end;
  gint64 cpu;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL) ||
      (line = strstr (text, "\nCpus_allowed_list:")) == NULL)
    return -1;
  line += strlen ("\nCpus_allowed_list:");
  cpu = g_ascii_strtoll (line, &end, 10);
  if (end == line || (*end != '\n' && *end != '\0'))
    return -1;
  return (int) cpu;
}

/* Busy and total time of CPU @cpu (clock ticks, /proc/stat), everything
 * that ran there: processes, interrupts, softirqs (loopback TCP's work
 * lands there too). FALSE when it cannot be read. */
static gboolean
cpu_times (int      cpu,
           guint64 *busy,
           guint64 *total)
{
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strdup_printf ("\ncpu%d ", cpu);
  const char *line;
  guint64 v[8] = { 0 };

  if (cpu < 0 || !g_file_get_contents ("/proc/stat", &text, NULL, NULL) ||
      (line = strstr (text, prefix)) == NULL)
    return FALSE;
  if (sscanf (line + strlen (prefix), "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    return FALSE;
  /* user nice system idle iowait irq softirq steal */
  *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  *busy = *total - v[3] - v[4];
  return TRUE;
}

/* The publisher: a lean Bayeux client on libsoup of its own, so that it
 * takes as little as possible of the server's core, where it runs: one
 * handshake, the /meta/connect loop (CometD drops a session that does not
 * connect), and the publishes due at the step's rate, up to 1,000 in one
 * POST while the previous POST is in flight. Replies are not parsed: the
 * successful publishes are the `"successful":true` in the body (both
 * servers write their JSON without spaces). Every subscriber client gets
 * the same load, whatever the client under test. */
#define PUBLISH_BATCH_MAX 1000

typedef struct {
  SoupSession *session;
  char        *channel;
  char        *client_id;
  double       rate;           /* publishes a second; 0: stopped */
  gint64       step_t0;
  guint64      step_due;       /* publishes due this step, queued or sent */
  guint64      queued;         /* due, not in a POST yet */
  guint64      in_flight;      /* in the POST in flight */
  guint64      published;      /* sent in a POST */
  guint64      acked, failed;
  guint64      seq, id;
  guint        window;         /* most queued + in flight */
  guint        timer;
  gboolean     connected;      /* a /meta/connect was answered */
  char        *error;          /* the session failed */
  guint64      requests;       /* HTTP requests it sent */
  char        *stats_url;      /* the server's request count, or NULL */
  SoupSession *stats_session;  /* its own: a blocking GET on the publishing
                                * session could wait for a connection that
                                * only the main loop can free */
} Publisher;

static void publisher_flush (Publisher *p);
static void publisher_connect (Publisher *p);

static SoupMessage *
bayeux_post (const char *body,
             gsize       len)
{
  SoupMessage *msg = soup_message_new ("POST", opt_url);
  g_autoptr(GBytes) bytes = g_bytes_new (body, len);

  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  soup_message_set_request_body_from_bytes (msg, "application/json;charset=UTF-8", bytes);
  return msg;
}

/* The first reply of a meta exchange's body, or NULL. */
static JsonObject *
first_reply (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array;

  if (body == NULL || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root) || json_array_get_length (array = json_node_get_array (root)) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, 0)))
    return NULL;
  return json_object_ref (json_array_get_object_element (array, 0));
}

static void
on_publisher_connected (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Publisher *p = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr(JsonObject) reply = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  reply = first_reply (body);
  if (reply == NULL || !json_object_get_boolean_member_with_default (reply, "successful", FALSE))
    {
      if (p->error == NULL)
        p->error = g_strdup_printf ("the publisher's /meta/connect failed: %s",
                                    error ? error->message : "unsuccessful");
      return;
    }
  p->connected = TRUE;
  publisher_connect (p);
}

/* The first /meta/connect asks to be answered at once (advice timeout 0,
 * as Faye's and CometD's clients do); the next ones are held. */
static void
publisher_connect (Publisher *p)
{
  g_autofree char *body = g_strdup_printf ("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\","
                                           "\"connectionType\":\"long-polling\",\"id\":\"%" G_GUINT64_FORMAT "\"%s}]",
                                           p->client_id, ++p->id, p->connected ? "" : ",\"advice\":{\"timeout\":0}");
  g_autoptr(SoupMessage) msg = bayeux_post (body, strlen (body));

  p->requests++;
  soup_session_send_and_read_async (p->session, msg, G_PRIORITY_DEFAULT, NULL, on_publisher_connected, p);
}

static guint
count_occurrences (const char *haystack,
                   gsize       len,
                   const char *needle)
{
  gsize nlen = strlen (needle);
  const char *at = haystack, *end = haystack + len;
  guint n = 0;

  while (at < end && (at = g_strstr_len (at, end - at, needle)) != NULL)
    {
      n++;
      at += nlen;
    }
  return n;
}

static void
on_publisher_published (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Publisher *p = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint ok = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (body != NULL)
    ok = MIN (count_occurrences (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "\"successful\":true"),
              p->in_flight);
  if (ok < p->in_flight && p->failed < 5)
    g_printerr ("bayeux-bench: fanout: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " publishes failed%s%s\n",
                p->in_flight - ok, p->in_flight, error ? ": " : "", error ? error->message : "");
  p->acked += ok;
  p->failed += p->in_flight - ok;
  p->in_flight = 0;
  publisher_flush (p);
}

/* Sends what is queued, if no POST is in flight. */
static void
publisher_flush (Publisher *p)
{
  g_autoptr(GString) body = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  gint64 now;
  guint n;

  if (p->in_flight > 0 || p->queued == 0)
    return;
  n = (guint) MIN (p->queued, PUBLISH_BATCH_MAX);
  body = g_string_sized_new (n * 130 + 2);
  now = g_get_monotonic_time ();
  g_string_append_c (body, '[');
  for (guint i = 0; i < n; i++)
    g_string_append_printf (body, "%s{\"channel\":\"%s\",\"clientId\":\"%s\",\"id\":\"%" G_GUINT64_FORMAT "\","
                            "\"data\":{\"seq\":%" G_GUINT64_FORMAT ",\"t\":%" G_GINT64_FORMAT
                            ",\"text\":\"hello, world\"}}",
                            i ? "," : "", p->channel, p->client_id, ++p->id, p->seq++, now);
  g_string_append_c (body, ']');
  p->queued -= n;
  p->in_flight = n;
  p->published += n;
  msg = bayeux_post (body->str, body->len);
  p->requests++;
  soup_session_send_and_read_async (p->session, msg, G_PRIORITY_DEFAULT, NULL, on_publisher_published, p);
}

/* Every few milliseconds: queue the publishes due at the step's rate since
 * it began, as far as the window lets, and send them. */
static gboolean
publish_tick (gpointer data)
{
  Publisher *p = data;
  guint64 due = (guint64) (p->rate * (g_get_monotonic_time () - p->step_t0) / 1e6);

  while (p->step_due < due && p->queued + p->in_flight < p->window)
    {
      p->step_due++;
      p->queued++;
    }
  publisher_flush (p);
  return G_SOURCE_CONTINUE;
}

static void
publisher_set_rate (Publisher *p,
                    double     rate)
{
  p->rate = rate;
  p->step_t0 = g_get_monotonic_time ();
  p->step_due = 0;
  if (rate > 0 && p->timer == 0)
    p->timer = g_timeout_add (5, publish_tick, p);
  else if (rate <= 0 && p->timer != 0)
    g_clear_handle_id (&p->timer, g_source_remove);
}

static gboolean
publisher_ready (gpointer data)
{
  Publisher *p = data;

  return p->connected || p->error != NULL;
}

/* Handshakes and starts the connect loop; FALSE with p->error set. */
static gboolean
publisher_start (Publisher *p)
{
  static const char handshake[] =
    "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\",\"supportedConnectionTypes\":[\"long-polling\"],\"id\":\"0\"}]";
  g_autoptr(SoupMessage) msg = bayeux_post (handshake, sizeof handshake - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) reply = NULL;

  p->session = soup_session_new ();
  /* CometD ties the session to its BAYEUX_BROWSER cookie. */
  soup_session_add_feature_by_type (p->session, SOUP_TYPE_COOKIE_JAR);
  body = soup_session_send_and_read (p->session, msg, NULL, &error);
  reply = first_reply (body);
  if (reply == NULL || !json_object_get_boolean_member_with_default (reply, "successful", FALSE) ||
      json_object_get_string_member_with_default (reply, "clientId", NULL) == NULL)
    {
      p->error = g_strdup_printf ("the publisher's handshake failed: %s", error ? error->message : "unsuccessful");
      return FALSE;
    }
  p->client_id = g_strdup (json_object_get_string_member (reply, "clientId"));
  p->requests++;
  /* bench-server.js counts the HTTP requests it gets (GET
   * /_bench/requests): the subscribers' requests a message, whatever the
   * client, are that count less ours. */
  {
    g_autoptr(GUri) uri = g_uri_parse (opt_url, G_URI_FLAGS_NONE, NULL);

    if (uri != NULL)
      p->stats_url = g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                                 g_uri_get_port (uri), "/_bench/requests", NULL, NULL);
  }
  publisher_connect (p);
  wait_until (publisher_ready, p, 20);
  if (p->error == NULL && !p->connected)
    p->error = g_strdup ("the publisher's first /meta/connect had no answer within 20 s");
  return p->error == NULL;
}

/* The subscriber process. */
typedef struct {
  GSubprocess      *proc;
  GOutputStream    *in;
  GDataInputStream *out;
  GQueue            lines;
  gboolean          eof;
  int               pid;
} Child;

static void child_read (Child *c);

static void
on_child_line (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Child *c = user_data;
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);

  if (line == NULL)
    {
      c->eof = TRUE;
      return;
    }
  g_queue_push_tail (&c->lines, line);
  child_read (c);
}

static void
child_read (Child *c)
{
  g_data_input_stream_read_line_async (c->out, G_PRIORITY_DEFAULT, NULL, on_child_line, c);
}

static gboolean
child_has_line (gpointer data)
{
  Child *c = data;

  return !g_queue_is_empty (&c->lines) || c->eof;
}

/* The next line from the child within @seconds, or NULL. */
static char *
child_line (Child  *c,
            double  seconds)
{
  wait_until (child_has_line, c, seconds);
  return g_queue_pop_head (&c->lines);
}

static void
child_say (Child      *c,
           const char *command)
{
  g_autofree char *line = g_strconcat (command, "\n", NULL);

  g_output_stream_write_all (c->in, line, strlen (line), NULL, NULL, NULL);
}

typedef struct {
  gint64  t;               /* the driver's monotonic clock, µs */
  gint64  sub_t;           /* the subscriber's */
  guint64 delivered;
  double  sub_cpu;         /* the subscriber's getrusage, s */
  double  sub_proc_cpu;    /* the same from /proc, s */
  double  server_cpu;      /* /proc, s */
  double  pub_cpu;         /* ours, getrusage, s */
  gint64  lat_max, lat_sum, lat_n;
  gint64  requests;         /* the subscriber's own count (ours), or -1 */
  gint64  server_requests;  /* the server's count less the publisher's, or -1 */
  guint64 published, acked;
  guint64 server_core_busy, server_core_total;  /* the server's CPU, /proc/stat */
  guint64 client_core_busy, client_core_total;  /* the subscriber's */
} Sample;

static int server_core = -1, client_core = -1;

/* The server's HTTP requests so far less the publisher's (and these
 * GETs'), or -1 when the server does not count them. */
static gint64
server_requests (Publisher *p)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;
  static guint64 gets;

  if (p->stats_url == NULL)
    return -1;
  if (p->stats_session == NULL)
    p->stats_session = soup_session_new_with_options ("timeout", 5, NULL);
  msg = soup_message_new ("GET", p->stats_url);
  body = soup_session_send_and_read (p->stats_session, msg, NULL, NULL);
  gets++;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_clear_pointer (&p->stats_url, g_free);
      return -1;
    }
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return g_ascii_strtoll (text, NULL, 10) - (gint64) p->requests - (gint64) gets;
}

static gboolean
take_sample (Child     *c,
             Publisher *p,
             int        server_pid,
             Sample    *s)
{
  g_autofree char *line = NULL;
  double cpu_us;

  child_say (c, "COUNT");
  line = child_line (c, 30);
  if (line == NULL ||
      sscanf (line, "COUNT %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %lf %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
              " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
              &s->delivered, &s->sub_t, &cpu_us, &s->lat_max, &s->lat_sum, &s->lat_n, &s->requests) != 7)
    {
      g_printerr ("bayeux-bench: fanout: no COUNT from the subscriber process (%s)\n", line ? line : "nothing");
      return FALSE;
    }
  s->server_requests = server_requests (p);
  s->t = g_get_monotonic_time ();
  s->sub_cpu = cpu_us / 1e6;
  s->sub_proc_cpu = proc_cpu_seconds (c->pid);
  s->server_cpu = proc_cpu_seconds (server_pid);
  s->pub_cpu = cpu_seconds ();
  cpu_times (server_core, &s->server_core_busy, &s->server_core_total);
  cpu_times (client_core, &s->client_core_busy, &s->client_core_total);
  s->published = p->published;
  s->acked = p->acked;
  return TRUE;
}

static void
run_for (double seconds)
{
  gboolean over = FALSE;

  g_timeout_add ((guint) (seconds * 1000), set_flag, &over);
  while (!over)
    g_main_context_iteration (NULL, TRUE);
}

/* One step's figures, from samples @a and @b. */
typedef struct {
  double offered;          /* messages a second the subscribers should get */
  double published;        /* publishes a second actually sent */
  double delivered;        /* messages a second the subscribers got */
  double client_pct, client_proc_pct, server_pct, publisher_pct;
  double server_core_pct, client_core_pct;   /* -1: not pinned */
  double client_us_per_msg;
  double lat_mean_us;
  gint64 lat_max_us;
  double requests_per_msg;      /* counted by the server */
  double own_requests_per_msg;  /* counted by our subscriber process */
  gboolean saturated;
} Step;

static gboolean
fanout_drained (gpointer data)
{
  return *(gboolean *) data;
}

static void
report_step (GString    *json,
             const Step *st)
{
  Report *r = g_string_new ("{");

  report_double (r, "offered_msgs_per_s", st->offered);
  report_double (r, "published_per_s", st->published);
  report_double (r, "delivered_msgs_per_s", st->delivered);
  report_double (r, "client_cpu_pct", st->client_pct);
  report_double (r, "client_cpu_pct_proc", st->client_proc_pct);
  report_double (r, "server_cpu_pct", st->server_pct);
  report_double (r, "publisher_cpu_pct", st->publisher_pct);
  if (st->server_core_pct >= 0)
    report_double (r, "server_core_busy_pct", st->server_core_pct);
  if (st->client_core_pct >= 0)
    report_double (r, "client_core_busy_pct", st->client_core_pct);
  report_double (r, "client_cpu_us_per_msg", st->client_us_per_msg);
  report_double (r, "latency_mean_us", st->lat_mean_us);
  report_int (r, "latency_max_us", st->lat_max_us);
  if (st->requests_per_msg >= 0)
    report_double (r, "http_requests_per_msg", st->requests_per_msg);
  if (st->own_requests_per_msg >= 0)
    report_double (r, "http_requests_per_msg_client", st->own_requests_per_msg);
  report_int (r, "saturated", st->saturated);
  g_string_append_c (r, '}');
  g_string_append_printf (json, "%s%s", json->len > 1 ? "," : "", r->str);
  g_string_free (r, TRUE);
}

static int
run_fanout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GArray) rates = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto(GStrv) rate_list = g_strsplit (opt_fanout_rates ? opt_fanout_rates : DEFAULT_FANOUT_RATES, ",", -1);
  g_autofree char *channel = g_strdup_printf ("/fanout/%d-%08x", (int) getpid (), g_random_int ());
  g_autofree char *ready = NULL, *final = NULL;
  g_auto(GStrv) words = NULL;
  g_autoptr(GString) steps = g_string_new ("[");
  Publisher p = { 0 };
  Child c = { 0 };
  Report *b;
  const char *client_name, *transport_used;
  guint nsubs;
  double settle = opt_settle_seconds >= 0 ? opt_settle_seconds : MIN (1.0, opt_step_seconds / 4);
  Step best = { 0 }, first_client_saturated = { 0 };
  gboolean any = FALSE, client_saturated = FALSE, stopped_saturated = FALSE;
  Step last = { 0 };
  guint disturbed = 0;
  Sample end = { 0 };
  const char *failure = NULL;
  g_autofree char *failure_owned = NULL;

  for (guint i = 0; rate_list[i] != NULL; i++)
    {
      double r = g_ascii_strtod (rate_list[i], NULL);
      if (r > 0)
        g_array_append_val (rates, r);
    }
  if (opt_command == NULL || opt_command[0] == NULL || rates->len == 0)
    {
      g_printerr ("bayeux-bench: fanout: the subscriber command goes after -- and --fanout-rates must list rates\n");
      return 2;
    }

  /* The publisher first, so that the subscribers' start is not in its way. */
  p.channel = channel;
  p.window = MAX (opt_window, 1);
  if (!publisher_start (&p))
    {
      b = report_begin ("fanout");
      return report_end (b, p.error);
    }

  for (guint i = 0; opt_command[i] != NULL; i++)
    g_ptr_array_add (argv, opt_command[i]);
  g_ptr_array_add (argv, (char *) "--channel");
  g_ptr_array_add (argv, channel);
  g_ptr_array_add (argv, NULL);
  c.proc = g_subprocess_newv ((const char * const *) argv->pdata,
                              G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (c.proc == NULL)
    {
      b = report_begin ("fanout");
      return report_end (b, error->message);
    }
  c.in = g_subprocess_get_stdin_pipe (c.proc);
  c.out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (c.proc));
  child_read (&c);

  /* READY <pid> <client> <transport> <subscribers>, or the child's JSON
   * (not available, or an error) and its end. */
  ready = child_line (&c, 60);
  if (ready == NULL || !g_str_has_prefix (ready, "READY ") ||
      g_strv_length (words = g_strsplit (ready, " ", -1)) != 5)
    {
      g_autofree char *more = NULL;
      int status;

      while (!c.eof && (more = child_line (&c, 5)) != NULL)
        {
          g_free (ready);
          ready = g_steal_pointer (&more);
        }
      g_subprocess_wait (c.proc, NULL, NULL);
      status = g_subprocess_get_if_exited (c.proc) ? g_subprocess_get_exit_status (c.proc) : 1;
      if (ready != NULL && ready[0] == '{')
        {
          /* The subscriber's own record (not available: status 77), as
           * the fan-out record. */
          g_autoptr(GString) rec = g_string_new (ready);

          g_string_replace (rec, "\"scenario\":\"fanout-subscriber\"", "\"scenario\":\"fanout\"", 1);
          g_string_replace (rec, "\"scenario\":\"fanout-subscribe\"", "\"scenario\":\"fanout\"", 1);
          printf ("%s\n", rec->str);
          fflush (stdout);
          return status ? status : 1;
        }
      b = report_begin ("fanout");
      return report_end (b, "the subscriber process did not get ready");
    }
  c.pid = atoi (words[1]);
  server_core = pinned_cpu (opt_server_pid);
  client_core = pinned_cpu (c.pid);
  if (server_core == client_core)
    server_core = client_core = -1;
  client_name = words[2];
  transport_used = words[3];
  nsubs = MAX (atoi (words[4]), 1);

  b = g_string_new ("{");
  report_string (b, "scenario", "fanout");
  report_string (b, "client", client_name);
  report_string (b, "server", opt_server ? opt_server : "none");
  report_string (b, "transport", transport_used);
  report_string (b, "publisher", "bayeux-bench's raw long-polling publisher (libsoup), a process of its own");
  report_int (b, "subscribers", nsubs);
  report_double (b, "step_s", opt_step_seconds);
  report_double (b, "settle_s", settle);
  report_double (b, "warmup_s", opt_fanout_warmup);

  /* Warm up (Node's JIT on either side, the servers' queues) at a rate
   * every client keeps up with; not measured. */
  if (opt_fanout_warmup > 0)
    {
      publisher_set_rate (&p, 1000);
      run_for (opt_fanout_warmup);
    }

  for (guint i = 0; i < rates->len && failure == NULL; i++)
    {
      double rate = g_array_index (rates, double, i);
      Sample a = { 0 }, z = { 0 };
      Step st = { 0 };
      double dt, sub_dt;

      publisher_set_rate (&p, rate);
      run_for (settle);
      if (!take_sample (&c, &p, opt_server_pid, &a))
        {
          failure = "the subscriber process stopped answering";
          break;
        }
      run_for (MAX (opt_step_seconds - settle, 0.05));
      if (!take_sample (&c, &p, opt_server_pid, &z))
        {
          failure = "the subscriber process stopped answering";
          break;
        }
      dt = (z.t - a.t) / 1e6;
      sub_dt = (z.sub_t - a.sub_t) / 1e6;
      st.offered = rate * nsubs;
      st.published = (z.published - a.published) / dt;
      st.delivered = (z.delivered - a.delivered) / sub_dt;
      st.client_pct = 100 * (z.sub_cpu - a.sub_cpu) / sub_dt;
      st.client_proc_pct = 100 * (z.sub_proc_cpu - a.sub_proc_cpu) / dt;
      st.server_pct = 100 * (z.server_cpu - a.server_cpu) / dt;
      st.publisher_pct = 100 * (z.pub_cpu - a.pub_cpu) / dt;
      st.server_core_pct = z.server_core_total > a.server_core_total
                           ? 100.0 * (z.server_core_busy - a.server_core_busy) / (z.server_core_total - a.server_core_total) : -1;
      st.client_core_pct = z.client_core_total > a.client_core_total
                           ? 100.0 * (z.client_core_busy - a.client_core_busy) / (z.client_core_total - a.client_core_total) : -1;
      st.client_us_per_msg = z.delivered > a.delivered ? (z.sub_cpu - a.sub_cpu) * 1e6 / (z.delivered - a.delivered) : 0;
      st.lat_mean_us = z.lat_n ? (double) z.lat_sum / z.lat_n : 0;
      st.lat_max_us = z.lat_max;
      st.requests_per_msg = z.server_requests >= 0 && a.server_requests >= 0 && z.delivered > a.delivered
                            ? (double) (z.server_requests - a.server_requests) / (z.delivered - a.delivered) : -1;
      st.own_requests_per_msg = z.requests >= 0 && a.requests >= 0 && z.delivered > a.delivered
                                ? (double) (z.requests - a.requests) / (z.delivered - a.delivered) : -1;
      /* Not keeping up: fewer messages than offered, or a backlog
       * building up (the messages' latency: a few milliseconds while
       * the subscribers keep up). */
      st.saturated = st.delivered < 0.95 * st.offered || st.lat_mean_us > 50000;
      report_step (steps, &st);
      /* Another program on the measurement's cores (a core busier than
       * the processes pinned to it by more than softirqs explain). */
      if ((st.server_core_pct >= 0 && st.server_core_pct - st.server_pct - st.publisher_pct > 25) ||
          (st.client_core_pct >= 0 && st.client_core_pct - st.client_pct > 25))
        disturbed++;
      g_printerr ("bayeux-bench: fanout %s: offered %.0f msg/s, delivered %.0f, client %.1f %% (core %.0f %%), "
                  "server %.1f %% + publisher %.1f %% (core %.0f %%), %.2f µs/msg, latency mean %.0f µs\n",
                  client_name, st.offered, st.delivered, st.client_pct, st.client_core_pct, st.server_pct,
                  st.publisher_pct, st.server_core_pct, st.client_us_per_msg, st.lat_mean_us);
      if (!any || st.delivered > best.delivered)
        best = st;
      any = TRUE;
      if (!client_saturated && st.client_pct >= 90)
        {
          client_saturated = TRUE;
          first_client_saturated = st;
        }
      last = st;
      if (st.saturated)
        {
          stopped_saturated = TRUE;
          break;
        }
    }
  publisher_set_rate (&p, 0);
  g_string_append_c (steps, ']');

  /* Every acknowledged publish must reach every subscriber. */
  if (failure == NULL)
    {
      gint64 deadline = g_get_monotonic_time () + (gint64) (opt_drain_seconds * G_USEC_PER_SEC);

      for (;;)
        {
          gboolean flag = FALSE;

          if (!take_sample (&c, &p, opt_server_pid, &end))
            {
              failure = "the subscriber process stopped answering";
              break;
            }
          if ((p.queued + p.in_flight == 0 && end.delivered >= p.acked * nsubs) || p.error != NULL ||
              g_get_monotonic_time () > deadline)
            break;
          g_timeout_add (100, set_flag, &flag);
          wait_until (fanout_drained, &flag, 1);
        }
    }

  report_raw (b, "steps", steps->str);
  if (any)
    {
      report_double (b, "delivered_msgs_per_s", best.delivered);
      report_double (b, "offered_msgs_per_s", best.offered);
      report_double (b, "client_cpu_pct", best.client_pct);
      report_double (b, "server_cpu_pct", best.server_pct);
      report_double (b, "publisher_cpu_pct", best.publisher_pct);
      report_double (b, "client_cpu_us_per_msg", best.client_us_per_msg);
      if (client_saturated)
        report_double (b, "client_saturates_at_msgs_per_s", first_client_saturated.delivered);
      /* Who stopped the climb: whose core was (about) full. The server's
       * core is its CPU's busy time when it is pinned (the publisher's
       * share and the loopback's softirqs included), else the server's
       * and the publisher's CPU. */
      {
        double server_side = last.server_core_pct >= 0 ? last.server_core_pct : last.server_pct + last.publisher_pct;
        /* Other work on the measurement's cores (another program on the
         * machine) makes whoever ran there look slower than it is. */
        double others0 = last.server_core_pct >= 0 ? last.server_core_pct - last.server_pct - last.publisher_pct : 0;
        double others1 = last.client_core_pct >= 0 ? last.client_core_pct - last.client_pct : 0;
        gboolean client_full = last.client_pct >= 90, server_full = server_side >= 90;

        report_string (b, "limit",
                       !stopped_saturated ? "not reached" :
                       others0 > 25 || others1 > 25 ? "disturbed (other work on the cores)" :
                       client_full && server_full ? "client and server" :
                       client_full ? "client" : server_full ? "server" : "unclear");
      }
    }
  report_int (b, "disturbed_steps", disturbed);
  report_int (b, "published", p.published);
  report_int (b, "acked", p.acked);
  report_int (b, "publish_failed", p.failed);
  report_int (b, "expected", p.acked * nsubs);
  report_int (b, "delivered", end.delivered);
  report_int (b, "errors", client_errors);

  /* The subscriber process's own record (its peak RSS and the rest). */
  child_say (&c, "QUIT");
  g_output_stream_close (c.in, NULL, NULL);
  while ((final = child_line (&c, 30)) != NULL && final[0] != '{')
    g_clear_pointer (&final, g_free);
  g_subprocess_wait (c.proc, NULL, NULL);
  if (final != NULL)
    report_raw (b, "subscriber", final);
  if (failure == NULL && end.delivered < p.acked * nsubs)
    failure = failure_owned = g_strdup_printf ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " messages "
                                               "delivered %.0f s after the last step",
                                               end.delivered, p.acked * nsubs, opt_drain_seconds);
  if (failure == NULL && p.error != NULL)
    failure = p.error;
  if (failure == NULL && (p.failed > 0 || !any))
    failure = "publishes failed";
  soup_session_abort (p.session);
  g_object_unref (p.session);
  g_free (p.stats_url);
  g_clear_object (&p.stats_session);
  g_free (p.client_id);
  g_object_unref (c.proc);
  g_object_unref (c.out);
  return report_end (b, failure);
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
  if (!g_str_equal (opt_transport, "long-polling") && !g_str_equal (opt_transport, "websocket"))
    {
      g_printerr ("bayeux-bench: --transport must be websocket or long-polling\n");
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

  /* The transports property, once the library has it: our clients then
   * use the one transport asked for (long-polling included, so that the
   * long-polling rows stay long-polling when WebSocket becomes the
   * default). The fan-out driver's publisher is always long-polling. */
  transports_pspec = g_object_class_find_property (g_type_class_ref (BAYEUX_TYPE_CLIENT), "transports");
  if (transports_pspec != NULL &&
      (G_PARAM_SPEC_VALUE_TYPE (transports_pspec) != G_TYPE_STRV || !(transports_pspec->flags & G_PARAM_WRITABLE)))
    {
      g_printerr ("bayeux-bench: BayeuxClient:transports is not a writable string array (%s): not used\n",
                  g_type_name (G_PARAM_SPEC_VALUE_TYPE (transports_pspec)));
      transports_pspec = NULL;
    }
  if (transports_pspec == NULL && !g_str_equal (opt_transport, "long-polling") &&
      !g_str_equal (opt_scenario, "fanout") && !g_str_equal (opt_scenario, "parse") &&
      !g_str_equal (opt_scenario, "soup"))
    {
      Report *r = report_begin (opt_scenario);

      report_string (r, "not_available", "this bayeux-glib has no BayeuxClient:transports property: "
                                         "long-polling only");
      report_end (r, NULL);
      return 77;
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
  if (g_str_equal (opt_scenario, "fanout"))
    return run_fanout ();
  if (g_str_equal (opt_scenario, "fanout-subscribe"))
    return run_fanout_subscribe ();
  g_printerr ("bayeux-bench: unknown scenario %s\n", opt_scenario);
  return 2;
}
