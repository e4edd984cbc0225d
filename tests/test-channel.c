/* test-channel.c: channel name validation and wildcard matching
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <bayeux-glib/bayeux-glib.h>
#include "bayeux-channel-private.h"

#include <string.h>

static void
assert_valid (const char         *channel,
              BayeuxChannelFlags  flags)
{
  g_autoptr(GError) error = NULL;

  if (!bayeux_channel_validate (channel, flags, &error))
    g_test_fail_printf ("“%s” (flags 0x%x) should be valid: %s", channel, flags,
                        error ? error->message : "(no error set)");
}

static void
assert_invalid (const char         *channel,
                BayeuxChannelFlags  flags)
{
  g_autoptr(GError) error = NULL;

  if (bayeux_channel_validate (channel, flags, &error))
    {
      g_test_fail_printf ("“%s” (flags 0x%x) should be invalid", channel, flags);
      return;
    }
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
  if (error == NULL)
    return;
  if (channel != NULL && strstr (error->message, channel) == NULL)
    g_test_fail_printf ("the error for “%s” does not name the channel: %s", channel, error->message);
}

static void
test_validate_valid (void)
{
  const char *valid[] = {
    "/a",
    "/chat",
    "/chat/demo",
    "/a/b/c/d/e",
    "/service/echo",
    "/Stocks/NASDAQ/GOOG",
    "/chat/room-1/user_2",
    "/odd/-_!~()$@",
    "/cometd/a.b:c+d=e,f;g",
    "/metadata",
    "/x/meta",
    "/12/34",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      assert_valid (valid[i], BAYEUX_CHANNEL_NONE);
      assert_valid (valid[i], BAYEUX_CHANNEL_ALLOW_WILDCARD);
      assert_valid (valid[i], BAYEUX_CHANNEL_ALLOW_META);
      assert_valid (valid[i], BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META);
    }
}

static void
test_validate_syntax (void)
{
  const char *invalid[] = {
    "",
    "/",
    "//",
    "a",
    "chat/demo",
    "a/b",
    "/a//b",
    "//a",
    "/a/",
    "/a/b/",
    "/a/b//",
    "/a b",
    "/a/\tb",
    "/a/\nb",
    "/a/é",
    "/a/b?c",
    "/a/b#c",
    "/a\\b",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      assert_invalid (invalid[i], BAYEUX_CHANNEL_NONE);
      assert_invalid (invalid[i], BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META);
    }
}

static void
test_validate_null (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (bayeux_channel_validate (NULL, BAYEUX_CHANNEL_ALLOW_WILDCARD, &error));
  g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);

  /* A NULL error location is allowed. */
  g_assert_false (bayeux_channel_validate ("/a//b", BAYEUX_CHANNEL_NONE, NULL));
  g_assert_true (bayeux_channel_validate ("/a/b", BAYEUX_CHANNEL_NONE, NULL));
}

static void
test_validate_wildcard (void)
{
  const char *wildcards[] = {
    "/*",
    "/**",
    "/a/*",
    "/a/**",
    "/a/b/c/*",
    "/a/b/c/**",
  };
  const char *misplaced[] = {
    "/*/a",
    "/**/a",
    "/a/*/b",
    "/a/**/b",
    "/a/*/*",
    "/a/**/**",
    "/a/b*",
    "/a/*b",
    "/a/b*c",
    "/a*/b",
    "/a/***",
    "/***",
    "/a/****",
    "/a/* ",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (wildcards); i++)
    {
      assert_valid (wildcards[i], BAYEUX_CHANNEL_ALLOW_WILDCARD);
      assert_valid (wildcards[i], BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META);
      /* refused without the flag */
      assert_invalid (wildcards[i], BAYEUX_CHANNEL_NONE);
      assert_invalid (wildcards[i], BAYEUX_CHANNEL_ALLOW_META);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (misplaced); i++)
    {
      assert_invalid (misplaced[i], BAYEUX_CHANNEL_NONE);
      assert_invalid (misplaced[i], BAYEUX_CHANNEL_ALLOW_WILDCARD);
      assert_invalid (misplaced[i], BAYEUX_CHANNEL_ALLOW_WILDCARD | BAYEUX_CHANNEL_ALLOW_META);
    }
}

static void
test_validate_meta (void)
{
  const char *meta[] = {
    "/meta",
    "/meta/handshake",
    "/meta/connect",
    "/meta/subscribe",
    "/meta/a/b",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (meta); i++)
    {
      assert_invalid (meta[i], BAYEUX_CHANNEL_NONE);
      assert_invalid (meta[i], BAYEUX_CHANNEL_ALLOW_WILDCARD);
      assert_valid (meta[i], BAYEUX_CHANNEL_ALLOW_META);
      assert_valid (meta[i], BAYEUX_CHANNEL_ALLOW_META | BAYEUX_CHANNEL_ALLOW_WILDCARD);
    }

  /* a /meta/ wildcard needs both flags */
  assert_invalid ("/meta/*", BAYEUX_CHANNEL_ALLOW_WILDCARD);
  assert_invalid ("/meta/**", BAYEUX_CHANNEL_ALLOW_WILDCARD);
  assert_invalid ("/meta/**", BAYEUX_CHANNEL_ALLOW_META);
  assert_valid ("/meta/**", BAYEUX_CHANNEL_ALLOW_META | BAYEUX_CHANNEL_ALLOW_WILDCARD);

  /* only the first segment counts */
  assert_valid ("/metadata/x", BAYEUX_CHANNEL_NONE);
  assert_valid ("/chat/meta/x", BAYEUX_CHANNEL_NONE);
}

static void
test_validate_error (void)
{
  const struct {
    const char         *channel;
    BayeuxChannelFlags  flags;
  } cases[] = {
    { "no-slash", BAYEUX_CHANNEL_NONE },
    { "/double//slash", BAYEUX_CHANNEL_NONE },
    { "/trailing/", BAYEUX_CHANNEL_NONE },
    { "/wild/*", BAYEUX_CHANNEL_NONE },
    { "/wild/*/middle", BAYEUX_CHANNEL_ALLOW_WILDCARD },
    { "/star/in*side", BAYEUX_CHANNEL_ALLOW_WILDCARD },
    { "/meta/connect", BAYEUX_CHANNEL_ALLOW_WILDCARD },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (bayeux_channel_validate (cases[i].channel, cases[i].flags, &error));
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
      if (error != NULL)
        g_assert_nonnull (strstr (error->message, cases[i].channel));
    }
}

static void
test_matches_table (void)
{
  const struct {
    const char *pattern;
    const char *channel;
    gboolean    matches;
  } cases[] = {
    /* one segment */
    { "/a/*", "/a/b", TRUE },
    { "/a/*", "/a/bcd", TRUE },
    { "/a/*", "/a/b/c", FALSE },
    { "/a/*", "/a", FALSE },
    { "/a/*", "/ab", FALSE },
    { "/a/*", "/ab/c", FALSE },
    { "/a/*", "/b/a", FALSE },
    { "/a/*", "/b/c", FALSE },
    { "/*", "/a", TRUE },
    { "/*", "/abc", TRUE },
    { "/*", "/a/b", FALSE },
    { "/a/b/*", "/a/b/c", TRUE },
    { "/a/b/*", "/a/b", FALSE },
    { "/a/b/*", "/a/bc/d", FALSE },
    { "/a/b/*", "/a/b/c/d", FALSE },

    /* any depth */
    { "/a/**", "/a/b", TRUE },
    { "/a/**", "/a/b/c", TRUE },
    { "/a/**", "/a/b/c/d/e", TRUE },
    { "/a/**", "/a", FALSE },
    { "/a/**", "/ab", FALSE },
    { "/a/**", "/ab/c", FALSE },
    { "/a/**", "/b/a", FALSE },
    { "/a/b/**", "/a/b/c", TRUE },
    { "/a/b/**", "/a/b/c/d", TRUE },
    { "/a/b/**", "/a/b", FALSE },
    { "/a/b/**", "/a/bc/d", FALSE },
    { "/a/b/**", "/a/c/d", FALSE },
    { "/**", "/a", TRUE },
    { "/**", "/a/b", TRUE },
    { "/**", "/a/b/c", TRUE },
    { "/**", "/chat/demo/room/1", TRUE },
    { "/**", "/meta/connect", TRUE },
    { "/**", "/service/x", TRUE },

    /* exact names */
    { "/a", "/a", TRUE },
    { "/a/b", "/a/b", TRUE },
    { "/chat/demo", "/chat/demo", TRUE },
    { "/a", "/b", FALSE },
    { "/a", "/ab", FALSE },
    { "/ab", "/a", FALSE },
    { "/a", "/a/b", FALSE },
    { "/a/b", "/a", FALSE },
    { "/a/b", "/a/bc", FALSE },
    { "/a/b", "/A/b", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean got = bayeux_channel_matches (cases[i].pattern, cases[i].channel);

      if (got != cases[i].matches)
        g_test_fail_printf ("bayeux_channel_matches (“%s”, “%s”): expected %s, got %s",
                            cases[i].pattern, cases[i].channel,
                            cases[i].matches ? "TRUE" : "FALSE", got ? "TRUE" : "FALSE");
    }
}

static gboolean
candidates_contain (GPtrArray  *candidates,
                    const char *pattern)
{
  return g_ptr_array_find_with_equal_func (candidates, pattern, g_str_equal, NULL);
}

static void
assert_candidates (const char         *channel,
                   const char * const *expected)
{
  g_autoptr(GPtrArray) candidates = bayeux_channel_candidates (channel);
  guint n_expected = g_strv_length ((char **) expected);

  g_assert_nonnull (candidates);

  for (guint i = 0; i < n_expected; i++)
    if (!candidates_contain (candidates, expected[i]))
      g_test_fail_printf ("the candidates of “%s” lack “%s”", channel, expected[i]);

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *c = g_ptr_array_index (candidates, i);

      if (!g_strv_contains (expected, c))
        g_test_fail_printf ("the candidates of “%s” have an unexpected “%s”", channel, c);
      for (guint j = i + 1; j < candidates->len; j++)
        if (g_str_equal (c, g_ptr_array_index (candidates, j)))
          g_test_fail_printf ("the candidates of “%s” have “%s” twice", channel, c);
    }

  g_assert_cmpuint (candidates->len, ==, n_expected);
}

static void
test_candidates (void)
{
  const char * const abc[] = { "/a/b/c", "/a/b/*", "/a/b/**", "/a/**", "/**", NULL };
  const char * const a[] = { "/a", "/*", "/**", NULL };
  const char * const chat[] = { "/chat/demo", "/chat/*", "/chat/**", "/**", NULL };

  assert_candidates ("/a/b/c", abc);
  assert_candidates ("/a", a);
  assert_candidates ("/chat/demo", chat);
}

/* Salesforce's filtered PushTopic channels: only with ALLOW_FILTER, only
 * on a name without wildcard, field=value joined by &. */
static void
test_validate_filter (void)
{
  const char *valid[] = {
    "/topic/InvoiceStatementUpdates?Status__c=Open",
    "/topic/InvoiceStatementUpdates?Status__c=Open&Amount__c=100",
    "/topic/MyTopic?Name='SomeName'",
    "/topic/T?Industry='Energy'&ShippingCity='San Francisco'",
    "/topic/T?Name='A&B'&City='Zürich'",
    "/topic/T?Account.Id=001D000000IRFmaIAH",
  };
  const char *invalid[] = {
    "/topic/T?",
    "/topic/T?Status__c",
    "/topic/T?=Open",
    "/topic/T?Status__c=",
    "/topic/T?a=1&",
    "/topic/T?a=1&&b=2",
    "/topic/T?a=b c",
    "/topic/T?a='open",
    "/topic/T?a='x'y",
    "/topic/T?a='x\ty'",
    "/topic/T?a=\xc3\x28",
    "/topic/T?a=b?c",
    "/topic/T?a-b=1",
    "/topic/*?a=1",
    "/topic/**?a=1",
    "/topic//T?a=1",
    "topic/T?a=1",
    "?a=1",
    "/meta/subscribe?a=1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      assert_valid (valid[i], BAYEUX_CHANNEL_ALLOW_FILTER);
      assert_valid (valid[i], BAYEUX_CHANNEL_ALLOW_FILTER | BAYEUX_CHANNEL_ALLOW_WILDCARD);
      /* not for a publish */
      assert_invalid (valid[i], BAYEUX_CHANNEL_NONE);
      assert_invalid (valid[i], BAYEUX_CHANNEL_ALLOW_WILDCARD);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    assert_invalid (invalid[i], BAYEUX_CHANNEL_ALLOW_FILTER | BAYEUX_CHANNEL_ALLOW_WILDCARD);
}

/* Bounded: a hostile name of a megabyte is refused at once, not matched
 * through its ancestors. */
static void
test_validate_limits (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) deeper = g_string_new (NULL);
  g_autofree char *long_ok = g_strnfill (4096, 'a');
  g_autofree char *too_long = g_strnfill (4097, 'a');
  g_autofree char *huge = g_strnfill (1024 * 1024, 'a');

  for (int i = 0; i < 64; i++)
    g_string_append (deep, "/a");
  g_string_append_printf (deeper, "%s/a", deep->str);
  long_ok[0] = too_long[0] = huge[0] = '/';
  assert_valid (deep->str, BAYEUX_CHANNEL_NONE);
  assert_invalid (deeper->str, BAYEUX_CHANNEL_NONE);
  assert_valid (long_ok, BAYEUX_CHANNEL_NONE);
  /* refused without quoting the name (it may be a megabyte) */
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (bayeux_channel_validate (i == 0 ? too_long : huge, BAYEUX_CHANNEL_ALLOW_FILTER, &error));
      g_assert_error (error, BAYEUX_ERROR, BAYEUX_ERROR_INVALID_CHANNEL);
      g_assert_cmpuint (strlen (error->message), <, 100);
    }
}

static void
test_candidates_filtered (void)
{
  const char * const filtered[] = { "/topic/T?a=1&b=2", "/topic/T", "/topic/*", "/topic/**", "/**", NULL };

  assert_candidates ("/topic/T?a=1&b=2", filtered);
}

static void
test_is_meta (void)
{
  g_assert_true (bayeux_channel_is_meta ("/meta"));
  g_assert_true (bayeux_channel_is_meta ("/meta/"));
  g_assert_true (bayeux_channel_is_meta ("/meta/connect"));
  g_assert_true (bayeux_channel_is_meta ("/meta/handshake"));
  g_assert_true (bayeux_channel_is_meta ("/meta/**"));
  g_assert_false (bayeux_channel_is_meta ("/metadata"));
  g_assert_false (bayeux_channel_is_meta ("/metax/connect"));
  g_assert_false (bayeux_channel_is_meta ("/met"));
  g_assert_false (bayeux_channel_is_meta ("/chat/meta"));
  g_assert_false (bayeux_channel_is_meta ("/service/meta"));
  g_assert_false (bayeux_channel_is_meta ("/**"));
  g_assert_false (bayeux_channel_is_meta ("meta/connect"));
}

/* Property: for a valid channel c and a valid pattern p (a plain name or a
 * name ending with "*" or "**"), matches (p, c) holds exactly when p is one
 * of candidates (c).  A small alphabet makes overlaps frequent. */
static const char * const segments[] = { "a", "b", "ab", "c1" };

static char *
random_channel (guint max_depth)
{
  g_autoptr(GString) s = g_string_new (NULL);
  guint depth = g_test_rand_int_range (1, max_depth + 1);

  for (guint i = 0; i < depth; i++)
    {
      g_string_append_c (s, '/');
      g_string_append (s, segments[g_test_rand_int_range (0, G_N_ELEMENTS (segments))]);
    }

  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* A pattern that often shares a prefix with @channel. */
static char *
random_pattern (const char *channel)
{
  g_auto(GStrv) parts = g_strsplit (channel + 1, "/", -1);
  guint n_parts = g_strv_length (parts);
  g_autoptr(GString) s = g_string_new (NULL);
  guint depth = g_test_rand_int_range (1, 6);
  int kind = g_test_rand_int_range (0, 3);

  for (guint i = 0; i < depth; i++)
    {
      g_string_append_c (s, '/');
      if (i == depth - 1 && kind == 1)
        g_string_append (s, "*");
      else if (i == depth - 1 && kind == 2)
        g_string_append (s, "**");
      else if (i < n_parts && g_test_rand_bit ())
        g_string_append (s, parts[i]);
      else
        g_string_append (s, segments[g_test_rand_int_range (0, G_N_ELEMENTS (segments))]);
    }

  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_matches_candidates_property (void)
{
  guint n_iterations = g_test_thorough () ? 50000 : 5000;
  guint n_matched = 0;

  for (guint i = 0; i < n_iterations; i++)
    {
      g_autofree char *channel = random_channel (5);
      g_autofree char *pattern = random_pattern (channel);
      g_autoptr(GPtrArray) candidates = bayeux_channel_candidates (channel);
      gboolean matches, is_candidate;

      assert_valid (channel, BAYEUX_CHANNEL_NONE);
      assert_valid (pattern, BAYEUX_CHANNEL_ALLOW_WILDCARD);

      matches = bayeux_channel_matches (pattern, channel);
      is_candidate = candidates_contain (candidates, pattern);
      if (matches != is_candidate)
        g_test_fail_printf ("bayeux_channel_matches (“%s”, “%s”) is %s, but “%s” is %sa candidate",
                            pattern, channel, matches ? "TRUE" : "FALSE",
                            pattern, is_candidate ? "" : "not ");
      n_matched += matches;

      /* every candidate is a valid pattern that matches */
      for (guint j = 0; j < candidates->len; j++)
        {
          const char *candidate = g_ptr_array_index (candidates, j);

          assert_valid (candidate, BAYEUX_CHANNEL_ALLOW_WILDCARD);
          if (!bayeux_channel_matches (candidate, channel))
            g_test_fail_printf ("candidate “%s” does not match “%s”", candidate, channel);
        }

      /* one counterexample is enough; it is reproducible with --seed */
      if (g_test_failed ())
        return;
    }

  /* the generator must exercise both outcomes */
  g_test_message ("%u of %u random pairs matched", n_matched, n_iterations);
  g_assert_cmpuint (n_matched, >, n_iterations / 20);
  g_assert_cmpuint (n_matched, <, n_iterations - n_iterations / 20);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* report every failing check, and run the other tests */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/bayeux/channel/validate/valid", test_validate_valid);
  g_test_add_func ("/bayeux/channel/validate/syntax", test_validate_syntax);
  g_test_add_func ("/bayeux/channel/validate/null", test_validate_null);
  g_test_add_func ("/bayeux/channel/validate/wildcard", test_validate_wildcard);
  g_test_add_func ("/bayeux/channel/validate/meta", test_validate_meta);
  g_test_add_func ("/bayeux/channel/validate/error", test_validate_error);
  g_test_add_func ("/bayeux/channel/matches/table", test_matches_table);
  g_test_add_func ("/bayeux/channel/matches/candidates-property", test_matches_candidates_property);
  g_test_add_func ("/bayeux/channel/candidates", test_candidates);
  g_test_add_func ("/bayeux/channel/is-meta", test_is_meta);
  g_test_add_func ("/bayeux/channel/validate/filter", test_validate_filter);
  g_test_add_func ("/bayeux/channel/candidates/filtered", test_candidates_filtered);
  g_test_add_func ("/bayeux/channel/validate/limits", test_validate_limits);

  return g_test_run ();
}
