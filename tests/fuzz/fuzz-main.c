/* fuzz-main.c: runs the fuzz target once on each file named on the command
 * line (or each file of each folder named), without libFuzzer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Its output is TAP, one line an input. The 'fuzz-corpus' test uses it to replay the seed corpus (and any saved
 * crash reproducer) in every build, with or without sanitizers; it is also
 * handy to reproduce a crash under gdb or Valgrind with a gcc build.
 */
#include <glib.h>
#include <stdint.h>

int LLVMFuzzerInitialize   (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint runs;

static void
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree guint8 *copy = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    g_error ("%s", error->message);
  /* An exactly sized copy, as libFuzzer gives: no trailing NUL to lean on. */
  copy = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (copy, length);
  g_print ("ok %u - %s (%" G_GSIZE_FORMAT " bytes)\n", ++runs, path, length);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
run_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        g_error ("%s", error->message);
      while ((name = g_dir_read_name (dir)) != NULL)
        if (name[0] != '.')
          g_ptr_array_add (names, g_build_filename (path, name, NULL));
      g_ptr_array_sort (names, compare_strings);   /* stable output */
      for (guint i = 0; i < names->len; i++)
        run_path (g_ptr_array_index (names, i));
    }
  else
    run_file (path);
}

int
main (int    argc,
      char **argv)
{
  LLVMFuzzerInitialize (&argc, &argv);

  if (argc < 2)
    {
      g_printerr ("usage: %s FILE-OR-FOLDER…\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    run_path (argv[i]);

  g_print ("1..%u\n", runs);   /* TAP: the plan may come last */
  return 0;
}
